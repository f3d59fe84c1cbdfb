"""Case handling through the workflow metadata: submit, review, escalate — and a review step a
business admin adds without code."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from cases import actions
from cases.actions import ActionRefused
from cases.models import Case, CaseEvent, Review
from lowcode.models import DictItem, FieldDef, Workflow
from notices.models import Notice


pytestmark = pytest.mark.backend  # depends on the database backend: status compare-and-set


def user(name):
    return User.objects.get(username=name)


@pytest.fixture
def mediating(make_case):
    case = make_case("湖滨社区", case_type="neighbor", registrant=user("demo_mediator"))
    actions.do_transition(case, "开始调解", user("demo_mediator"))
    case.refresh_from_db()
    return case


def test_submitted_result_waits_for_the_street_and_notifies_it(mediating):
    done = actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="success",
                                 agreement="双方达成协议")
    assert done.case.status == "pending_review"
    review = Review.objects.get(case=mediating)
    assert review.status == "pending" and review.kind == "result"
    assert Notice.objects.filter(recipient__username="demo_street", kind="review", case=mediating).exists()
    assert not Notice.objects.filter(recipient__username="demo_district", kind="review").exists()


def test_street_approval_closes_the_review_and_tells_the_mediator(mediating):
    actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="success")
    actions.do_transition(mediating, "审核通过", user("demo_street"), opinion="同意")
    mediating.refresh_from_db()
    review = Review.objects.get(case=mediating)
    assert mediating.status == "mediated"
    assert review.status == "approve" and review.decided_by.username == "demo_street" and review.opinion == "同意"
    assert Notice.objects.filter(recipient__username="demo_mediator", kind="result").exists()
    assert CaseEvent.objects.filter(case=mediating, kind="review", to_state="mediated").count() == 1


def test_mediator_cannot_review_and_is_told_why(mediating):
    actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="success")
    with pytest.raises(ActionRefused, match="角色不能执行"):
        actions.do_transition(mediating, "审核通过", user("demo_mediator"))


def test_return_needs_an_opinion(mediating):
    actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="failed")
    with pytest.raises(ActionRefused, match="需要填写意见"):
        actions.do_transition(mediating, "退回补充", user("demo_street"))
    actions.do_transition(mediating, "退回补充", user("demo_street"), opinion="请补充协议原件照片")
    mediating.refresh_from_db()
    assert mediating.status == "mediating"
    assert Review.objects.get(case=mediating).status == "return"


def test_transition_not_allowed_from_the_current_state_is_refused(mediating):
    with pytest.raises(ActionRefused, match="当前状态“调解中”下不能执行“归档”"):
        actions.do_transition(mediating, "归档", user("demo_mediator"))


def test_deciding_an_already_decided_review_is_refused(mediating):
    actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="success")
    actions.do_transition(mediating, "审核通过", user("demo_street"))
    with pytest.raises(ActionRefused, match="^当前状态“已调解”下不能执行“审核通过”$"):
        actions.do_transition(mediating, "审核通过", user("demo_district"))
    assert Review.objects.filter(case=mediating).exclude(status="pending").count() == 1


def test_escalated_case_is_handled_by_the_street_and_reviewed_by_the_district(mediating):
    actions.request_help(mediating, user("demo_mediator"), action="申请提级", kind="escalate", reason="双方矛盾激化")
    actions.do_transition(mediating, "同意提级", user("demo_street"))
    mediating.refresh_from_db()
    assert mediating.status == "mediating" and mediating.level == 2
    actions.submit_result(mediating, user("demo_street"), action="提交结果", outcome="success")
    assert Notice.objects.filter(recipient__username="demo_district", kind="review").exists()
    with pytest.raises(ActionRefused, match="上级"):
        actions.do_transition(mediating, "审核通过", user("demo_street"))
    actions.do_transition(mediating, "审核通过", user("demo_district"))
    mediating.refresh_from_db()
    assert mediating.status == "mediated"


def test_other_regions_staff_cannot_act(mediating, world):
    from orgs.models import Region

    other = User.objects.create(username="xixi_street", region=Region.objects.get(name="西溪街道"), is_staff=True)
    other.groups.add(*user("demo_street").groups.all())
    actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="success")
    with pytest.raises(ActionRefused, match="管辖范围"):
        actions.do_transition(mediating, "审核通过", other)


def test_business_admin_adds_a_district_review_for_large_amounts(metadata, make_case):
    """Without code: results with 涉及金额 ≥ 10 (万元) also need the district's review."""
    FieldDef.objects.create(entity="case", code="amount_involved", label="涉及金额", fieldtype="decimal")
    wf = Workflow.objects.get(entity="case", scope_value="")
    wf.states = wf.states + [{"name": "district_review", "review": "result"}]
    for t in wf.transitions:
        if t["action"] == "审核通过":
            t["condition"] = "涉及金额 < 10 or 涉及金额 == None"
    wf.transitions = wf.transitions + [
        {"action": "通过并报区级复核", "from": ["pending_review"], "to": "district_review",
         "roles": ["street_admin"], "condition": "涉及金额 >= 10", "decision": "approve"},
        {"action": "区级复核通过", "from": ["district_review"], "to": "mediated", "roles": ["district_admin"],
         "decision": "approve"}]
    wf.full_clean()
    wf.save()
    DictItem.objects.get_or_create(dictionary__code="case_status", code="district_review",
                                   defaults={"label": "区级复核", "dictionary_id": DictItem.objects.filter(
                                       dictionary__code="case_status").first().dictionary_id})
    big = make_case(extra={"amount_involved": 25.0}, registrant=user("demo_mediator"))
    small = make_case(extra={"amount_involved": 2.0}, registrant=user("demo_mediator"))
    for case in (big, small):
        actions.do_transition(case, "开始调解", user("demo_mediator"))
        actions.submit_result(case, user("demo_mediator"), action="提交结果", outcome="success")
    assert [t.action for t in actions.available_actions(Case.objects.get(pk=big.pk), user("demo_street"))
            if t.decision == "approve"] == ["通过并报区级复核"]
    actions.do_transition(big, "通过并报区级复核", user("demo_street"))
    actions.do_transition(small, "审核通过", user("demo_street"))
    assert Case.objects.get(pk=small.pk).status == "mediated"
    assert Case.objects.get(pk=big.pk).status == "district_review"
    assert Notice.objects.filter(recipient__username="demo_district", kind="review", case=big).exists()
    actions.do_transition(big, "区级复核通过", user("demo_district"))
    assert Case.objects.get(pk=big.pk).status == "mediated"


def test_case_type_time_limit_sets_the_deadline(metadata, make_case):
    case = make_case(case_type="labor_wage")
    assert case.deadline - case.registered_at == dt.timedelta(days=15)
    item = DictItem.objects.get(dictionary__code="case_type", code="labor")
    item.attrs = {"time_limit_days": 20}
    item.save()
    DictItem.objects.filter(dictionary__code="case_type", code="labor_wage").update(attrs={})
    item.save()  # version bump after the update() above
    assert (make_case(case_type="labor_wage").deadline - case.registered_at).days in (19, 20)


def test_forbidden_or_oversized_attachment_is_refused_and_nothing_saved(mediating, settings):
    exe = SimpleUploadedFile("virus.exe", b"MZ...", content_type="application/octet-stream")
    with pytest.raises(ValidationError, match="不支持的附件类型"):
        actions.add_log(mediating, user("demo_mediator"), content="调解", uploads=[exe])
    settings.ATTACHMENT_MAX_BYTES = 10
    big = SimpleUploadedFile("photo.jpg", b"x" * 11, content_type="image/jpeg")
    with pytest.raises(ValidationError, match="超过"):
        actions.add_log(mediating, user("demo_mediator"), content="调解", uploads=[big])
    assert not mediating.logs.exists()


def test_tagging_and_archiving(mediating, make_case):
    other = make_case(case_type="neighbor")
    assert actions.tag_cases([mediating, other], user("demo_mediator"), add=["group"]) == 2
    case_file = actions.archive_cases([mediating, other], user("demo_mediator"), name="湖滨路噪音系列纠纷")
    assert case_file.cases.count() == 2
    with pytest.raises(ActionRefused, match="同一类型"):
        actions.archive_cases([mediating, make_case(case_type="housing")], user("demo_mediator"), name="混合")


def test_district_sees_a_community_review_only_once_it_was_escalated_to_it(mediating):
    from django.utils import timezone

    from cases.workbench import reviews_waiting_for

    actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="success")
    assert reviews_waiting_for(user("demo_street")).count() == 1
    assert reviews_waiting_for(user("demo_district")).count() == 0
    Review.objects.filter(case=mediating).update(escalated_at=timezone.now())
    assert reviews_waiting_for(user("demo_district")).count() == 1
