"""One set of case-handling forms (cases.handling_forms) behind PC, H5 and the third-party H5 end:
the same bad input is told the same thing on every end, and every end asks the same things
(mediation time, visit time, files, the expected fee only for 申请发单)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from cases import actions, handling_forms
from cases.models import Attachment, HelpRequest, MediationLog, MediationResult, Visit

TOMORROW = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
EARLIER = (timezone.localtime() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")


def user(name: str) -> User:
    return User.objects.get(username=name)


def html(response) -> str:
    return response.content.decode()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mediator(client_for):
    return client_for("demo_mediator")


@pytest.fixture
def mediating(make_case):
    case = make_case("湖滨社区", registrant=user("demo_mediator"))
    actions.do_transition(case, "开始调解", user("demo_mediator"))
    case.refresh_from_db()
    return case


def pc(case, query: str) -> str:
    return f"/admin/cases/case/{case.pk}/handle/?{query}"


def errors_of(response, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


def h5_log_errors(response, name: str) -> list[str]:
    return list(response.context["log_form"].errors.get(name, []))


# --- the same message for the same bad input -------------------------------------------------------
def test_a_result_without_outcome_is_told_the_same_on_pc_and_h5(mediator, mediating):
    on_pc = mediator.post(pc(mediating, "action=提交结果"), {"agreement": "草稿"})
    on_h5 = mediator.post(f"/h5/cases/{mediating.pk}/result/", {"action": "提交结果", "agreement": "草稿"})
    assert errors_of(on_pc, "outcome") == errors_of(on_h5, "outcome") == ["请选择调解结果"]
    assert type(on_pc.context["form"]) is type(on_h5.context["form"]) is handling_forms.ResultForm
    assert not MediationResult.objects.exists()


def test_a_mediation_time_in_the_future_is_told_the_same_on_every_end(mediator, mediating):
    data = {"content": "上门调解", "occurred_at": TOMORROW}
    on_pc = errors_of(mediator.post(pc(mediating, "form=log"), data), "occurred_at")
    on_h5 = h5_log_errors(mediator.post(f"/h5/cases/{mediating.pk}/logs/", data), "occurred_at")
    assert on_pc and on_pc == on_h5 and "不能晚于" in on_pc[0]
    assert not MediationLog.objects.exists()


def test_a_log_names_its_mediation_time_on_every_end(mediator, mediating):
    """A 调解记录 states when the mediation took place: the time is asked (and filled with now) on
    PC as on the phone, and a log without it is refused with the same message."""
    data = {"content": "电话调解，双方各退一步", "occurred_at": ""}
    on_pc = mediator.post(pc(mediating, "form=log"), data)
    on_h5 = mediator.post(f"/h5/cases/{mediating.pk}/logs/", data)
    assert errors_of(on_pc, "occurred_at") == h5_log_errors(on_h5, "occurred_at") == ["请填写调解时间"]
    assert not MediationLog.objects.exists()
    form = mediator.get(pc(mediating, "form=log")).context["form"]
    assert form.fields["occurred_at"].required and form["occurred_at"].value()  # defaults to now


def test_a_forbidden_file_is_refused_next_to_the_field_on_pc_as_on_h5(mediator, mediating):
    def bad():
        return SimpleUploadedFile("病毒.exe", b"MZ", content_type="application/octet-stream")

    on_pc = errors_of(mediator.post(pc(mediating, "form=log"),
                                    {"content": "调解", "occurred_at": EARLIER, "files": [bad()]}), "files")
    on_h5 = h5_log_errors(mediator.post(f"/h5/cases/{mediating.pk}/logs/",
                                        {"content": "调解", "occurred_at": EARLIER, "files": [bad()]}), "files")
    assert on_pc and on_pc == on_h5 and "不支持的附件类型" in on_pc[0]
    assert not MediationLog.objects.exists() and not Attachment.objects.exists()


# --- the same questions on every end ----------------------------------------------------------------
def test_a_log_on_pc_keeps_its_time_place_and_files(mediator, mediating):
    photo = SimpleUploadedFile("现场.png", b"\x89PNG\r\n\x1a\n", content_type="image/png")
    response = mediator.post(pc(mediating, "form=log"), {
        "occurred_at": EARLIER, "place": "社区调解室", "content": "双方同意修复漏水点", "files": [photo]})
    assert response.status_code == 302
    log = MediationLog.objects.get(case=mediating)
    assert timezone.localtime(log.occurred_at).strftime("%Y-%m-%dT%H:%M") == EARLIER
    assert log.place == "社区调解室" and Attachment.objects.filter(log=log).count() == 1


def test_a_visit_on_pc_asks_for_and_keeps_the_visit_time(mediator, make_case):
    done = make_case("湖滨社区", status="mediated")
    missing = mediator.post(pc(done, "form=visit"), {"way": "phone", "satisfaction": "satisfied", "visited_at": ""})
    assert errors_of(missing, "visited_at") == ["请填写回访时间"] and not Visit.objects.exists()
    response = mediator.post(pc(done, "form=visit"), {
        "way": "phone", "satisfaction": "satisfied", "visited_at": "2026-03-01T09:00", "notes": "已履行"})
    assert response.status_code == 302
    visit = Visit.objects.get(case=done)
    assert timezone.localtime(visit.visited_at).strftime("%Y-%m-%d %H:%M") == "2026-03-01 09:00"


def test_the_expected_fee_is_asked_only_when_requesting_a_dispatch_on_pc_as_on_h5(mediator, mediating):
    assert "预期费用" not in html(mediator.get(pc(mediating, "action=申请提级")))
    assert "预期费用" in html(mediator.get(pc(mediating, "action=申请发单")))
    response = mediator.post(pc(mediating, "action=申请发单"), {"reason": "专业性强", "expected_fee": "800"})
    assert response.status_code == 302
    assert HelpRequest.objects.get(case=mediating).expected_fee == 800


def test_pc_and_h5_show_the_same_choices_for_the_result(mediator, mediating):
    on_pc = mediator.get(pc(mediating, "action=提交结果")).context["form"].fields["outcome"].choices
    on_h5 = mediator.get(f"/h5/cases/{mediating.pk}/result/", {"action": "提交结果"}).context["form"] \
        .fields["outcome"].choices
    assert [c for c in on_pc if c[0]] == list(on_h5)  # a select with 请选择 on PC, radio buttons on the phone
    assert on_pc[0] == ("", "请选择")
