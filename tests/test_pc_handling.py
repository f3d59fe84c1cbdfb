"""PC end of case handling: the workbench, the review screens, the case detail with its
handling records and buttons, tagging and archiving on the case library, the message center,
and scoped attachment downloads."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import User
from cases import actions
from cases.actions import ActionRefused
from cases.models import Case, CaseEvent, CaseFile, Review
from notices.actions import notify
from notices.models import Notice
from orgs.models import Region


def user(name):
    return User.objects.get(username=name)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mediating(make_case):
    case = make_case("湖滨社区", title="湖滨社区邻里噪音纠纷", registrant=user("demo_mediator"))
    actions.do_transition(case, "开始调解", user("demo_mediator"))
    return Case.objects.get(pk=case.pk)


@pytest.fixture
def pending(mediating):
    """demo_mediator's case waiting for the result review (结果审核)."""
    actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="success",
                          agreement="双方自愿达成调解协议")
    return Case.objects.get(pk=mediating.pk)


@pytest.fixture
def other_street_admin(world):
    """A street admin of 西溪街道 (溪口社区 …), which does not contain 湖滨社区."""
    other = User.objects.create(username="xixi_street", display_name="西溪街道管理员", is_staff=True,
                                region=Region.objects.get(name="西溪街道"))
    other.groups.add(Group.objects.get(name="街道管理员"))
    return other


def review_of(case) -> Review:
    return Review.objects.get(case=case, status="pending")


def decide_url(review) -> str:
    return f"/admin/cases/review/{review.pk}/decide/"


# --- 工作台 -------------------------------------------------------------------------------------
def test_workbench_shows_indicators_and_the_review_waiting_for_the_street_admin(client_for, pending):
    response = client_for("demo_street").get("/admin/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "cases/workbench.html" in [t.name for t in response.templates]
    for label in ("新登记", "调解中", "超期", "成功率", "上月"):
        assert label in html
    assert response.context["review_count"] == 1
    assert decide_url(review_of(pending)) in html
    figures = {i.key: i for i in response.context["indicators"]}
    assert figures["new"].value == "1" and figures["success"].value == "100%"
    assert "我的消息（1）" in html  # the review notice, counted on the menu entry


def test_workbench_does_not_offer_the_review_to_the_mediator_who_submitted_it(client_for, pending):
    response = client_for("demo_mediator").get("/admin/")
    html = response.content.decode()
    assert response.context["review_count"] == 0
    assert decide_url(review_of(pending)) not in html
    assert "湖滨社区邻里噪音纠纷" in html  # still in the latest cases


def test_workbench_is_scoped_to_the_users_region(client_for, pending, other_street_admin):
    c = client_for("xixi_street")
    response = c.get("/admin/")
    assert response.context["review_count"] == 0
    assert "湖滨社区邻里噪音纠纷" not in response.content.decode()
    assert {i.key: i.value for i in response.context["indicators"]}["new"] == "0"


def test_workbench_compares_the_chosen_period_with_the_previous_one(client_for, make_case):
    from cases.workbench import period_for

    period = period_for("year")
    make_case(registered_at=period.previous_start + dt.timedelta(days=3))
    overdue = make_case(title="拖了很久的纠纷", registered_at=period.previous_start + dt.timedelta(days=5))
    Case.objects.filter(pk=overdue.pk).update(deadline=period.previous_start + dt.timedelta(days=20))
    response = client_for("demo_street").get("/admin/", {"period": "year"})
    figures = {i.key: i for i in response.context["indicators"]}
    assert response.context["period"].label == "本年"
    assert figures["new"].value == "0" and figures["new"].previous == "2"
    # both are still open long past their deadlines (the neighbour-dispute time limit and the one set)
    assert figures["overdue"].previous == "2" and figures["overdue"].now_value == 2
    assert "拖了很久的纠纷" in response.content.decode()  # in the overdue to-do list


def test_workbench_counts_in_a_few_queries(client_for, pending, make_case, django_assert_max_num_queries):
    for _ in range(5):
        make_case()
    c = client_for("demo_street")
    c.get("/admin/")
    with django_assert_max_num_queries(25):
        c.get("/admin/")


def test_users_without_case_permissions_keep_the_normal_index(world):
    from django.test import Client

    from accounts.models import User

    staff = User.objects.create_user("no_case_rights", password="x", is_staff=True)
    c = Client()
    c.force_login(staff)
    response = c.get("/admin/")
    assert response.status_code == 200
    assert "cases/workbench.html" not in [t.name for t in response.templates]


def test_third_party_accounts_opening_the_admin_land_on_their_own_end(client_for):
    response = client_for("demo_tp_admin").get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/tp/")


# --- 审核 ---------------------------------------------------------------------------------------
def test_review_list_shows_reviews_waiting_for_me_by_default_and_filters_by_kind(client_for, pending):
    c = client_for("demo_street")
    assert pending.exchange_id in c.get("/admin/cases/review/").content.decode()
    assert pending.exchange_id not in c.get("/admin/cases/review/", {"box": "done"}).content.decode()
    assert pending.exchange_id in c.get("/admin/cases/review/", {"kind": "result"}).content.decode()
    assert pending.exchange_id not in c.get("/admin/cases/review/", {"kind": "escalation"}).content.decode()
    assert pending.exchange_id not in client_for("demo_mediator").get("/admin/cases/review/").content.decode()


def test_review_screen_shows_the_case_result_and_the_decision_buttons(client_for, pending):
    html = client_for("demo_street").get(decide_url(review_of(pending))).content.decode()
    assert "审核要点" in html and "双方自愿达成调解协议" in html
    assert "1101**********002X" in html and "11010519491231002X" not in html
    assert 'name="opinion"' in html
    for action in ("审核通过", "退回补充", "驳回"):
        assert f'value="{action}"' in html


def test_approving_moves_the_case_to_mediated_and_notifies_the_submitter(client_for, pending):
    review = review_of(pending)
    response = client_for("demo_street").post(decide_url(review), {"action": "审核通过", "opinion": "同意"})
    assert response.status_code == 302 and response["Location"].endswith("/admin/cases/review/")
    review.refresh_from_db()
    assert Case.objects.get(pk=pending.pk).status == "mediated"
    assert review.status == "approve" and review.decided_by.username == "demo_street"
    assert Notice.objects.filter(recipient__username="demo_mediator", kind="result", case=pending).exists()
    assert CaseEvent.objects.filter(case=pending, kind="review", to_state="mediated").count() == 1


def test_returning_without_an_opinion_is_refused_with_a_chinese_reason(client_for, pending):
    review = review_of(pending)
    response = client_for("demo_street").post(decide_url(review), {"action": "退回补充", "opinion": "  "})
    assert response.status_code == 200
    assert "需要填写意见" in response.content.decode()
    review.refresh_from_db()
    assert review.status == "pending" and Case.objects.get(pk=pending.pk).status == "pending_review"


def test_returning_with_an_opinion_sends_the_case_back_to_mediation(client_for, pending):
    review = review_of(pending)
    client_for("demo_street").post(decide_url(review), {"action": "退回补充", "opinion": "请补充协议原件照片"})
    review.refresh_from_db()
    assert review.status == "return" and review.opinion == "请补充协议原件照片"
    assert Case.objects.get(pk=pending.pk).status == "mediating"


def test_a_second_decision_on_a_decided_review_is_refused(client_for, pending):
    review = review_of(pending)
    c = client_for("demo_street")
    c.post(decide_url(review), {"action": "审核通过"})
    second = c.post(decide_url(review), {"action": "退回补充", "opinion": "再看看"})
    assert second.status_code == 200 and "该审核已处理" in second.content.decode()
    review.refresh_from_db()
    assert review.status == "approve"
    assert Case.objects.get(pk=pending.pk).status == "mediated"
    assert CaseEvent.objects.filter(case=pending, kind="review").count() == 1


def test_a_stale_review_never_decides_a_later_resubmission(pending):
    first = review_of(pending)
    actions.do_transition(pending, "退回补充", user("demo_street"), opinion="补充材料")
    actions.submit_result(Case.objects.get(pk=pending.pk), user("demo_mediator"), action="提交结果",
                          outcome="success")
    with pytest.raises(ActionRefused, match="已由他人处理"):
        actions.do_transition(pending, "审核通过", user("demo_street"), review=first)
    assert Review.objects.filter(case=pending, status="pending").count() == 1


def test_another_streets_admin_can_neither_see_nor_decide(client_for, pending, other_street_admin):
    review = review_of(pending)
    c = client_for("xixi_street")
    assert pending.exchange_id not in c.get("/admin/cases/review/", {"box": "all"}).content.decode()
    assert c.get(decide_url(review)).status_code == 404
    assert c.post(decide_url(review), {"action": "审核通过"}).status_code == 404
    assert c.get(f"/admin/cases/review/{review.pk}/change/").status_code == 404
    review.refresh_from_db()
    assert review.status == "pending"


def test_the_mediator_sees_the_review_but_cannot_decide_it(client_for, pending):
    review = review_of(pending)
    c = client_for("demo_mediator")
    page = c.get(decide_url(review)).content.decode()
    assert 'value="审核通过"' not in page and "不能执行" in page
    c.post(decide_url(review), {"action": "审核通过"})
    review.refresh_from_db()
    assert review.status == "pending"


# --- 案件详情 -------------------------------------------------------------------------------------
def test_case_detail_shows_handling_records_with_scoped_attachment_links(client_for, mediating):
    photo = SimpleUploadedFile("现场照片.jpg", b"\xff\xd8\xff photo", content_type="image/jpeg")
    log = actions.add_log(mediating, user("demo_mediator"), content="组织双方面对面协商", uploads=[photo])
    attachment = log.attachments.get()
    html = client_for("demo_street").get(f"/admin/cases/case/{mediating.pk}/detail/").content.decode()
    for title in ("调解日志", "调解清单", "调解结果", "求助申请", "审核记录", "回访记录", "案件轨迹"):
        assert title in html
    assert "组织双方面对面协商" in html
    assert f"/cases/attachments/{attachment.pk}/" in html
    assert "/media/" not in html


def test_detail_buttons_fire_workflow_actions_that_need_no_form(client_for, make_case):
    case = make_case(registrant=user("demo_mediator"))
    c = client_for("demo_mediator")
    html = c.get(f"/admin/cases/case/{case.pk}/detail/").content.decode()
    assert 'value="开始调解"' in html
    response = c.post(f"/admin/cases/case/{case.pk}/transition/", {"action": "开始调解"})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == "mediating"
    refused = c.post(f"/admin/cases/case/{case.pk}/transition/", {"action": "归档"}, follow=True)
    assert "不能执行“归档”" in refused.content.decode()


def test_result_form_on_pc_submits_the_result_for_review(client_for, mediating):
    c = client_for("demo_mediator")
    url = f"/admin/cases/case/{mediating.pk}/handle/?action=提交结果"
    assert c.get(url).status_code == 200
    bad = c.post(url, {"outcome": "", "agreement": "已协商"})
    assert bad.status_code == 200 and "已协商" in bad.content.decode()  # nothing typed is lost
    response = c.post(url, {"outcome": "success", "agreement": "双方和解"})
    assert response.status_code == 302
    assert Case.objects.get(pk=mediating.pk).status == "pending_review"
    assert mediating.result.agreement == "双方和解"


def test_other_regions_case_actions_are_not_found(client_for, make_case):
    other = make_case("溪口社区")
    c = client_for("demo_mediator")
    assert c.post(f"/admin/cases/case/{other.pk}/transition/", {"action": "开始调解"}).status_code == 404
    assert c.get(f"/admin/cases/case/{other.pk}/handle/?form=log").status_code == 404
    assert Case.objects.get(pk=other.pk).status == "registered"


# --- 案件全量库: 打标, 档案归档 --------------------------------------------------------------------
def test_tagging_selected_cases_from_the_case_library(client_for, make_case):
    a, b = make_case(), make_case()
    c = client_for("demo_street")
    page = c.post("/admin/cases/case/", {"action": "tag_selected", "_selected_action": [a.pk, b.pk]})
    assert page.status_code == 200 and "群体性" in page.content.decode()
    c.post("/admin/cases/case/", {"action": "tag_selected", "_selected_action": [a.pk, b.pk], "apply": "1",
                                  "add": ["group", "elderly"]})
    assert Case.objects.get(pk=a.pk).tags == ["group", "elderly"]
    c.post("/admin/cases/case/", {"action": "tag_selected", "_selected_action": [a.pk], "apply": "1",
                                  "remove": ["group"]})
    assert Case.objects.get(pk=a.pk).tags == ["elderly"] and Case.objects.get(pk=b.pk).tags == ["group", "elderly"]
    assert CaseEvent.objects.filter(case=a, kind="tag").count() == 2


def test_archiving_same_type_cases_into_a_case_file(client_for, make_case):
    a, b = make_case(case_type="neighbor"), make_case(case_type="neighbor")
    c = client_for("demo_street")
    c.post("/admin/cases/case/", {"action": "archive_selected", "_selected_action": [a.pk, b.pk], "apply": "1",
                                  "name": "湖滨路噪音系列纠纷"})
    case_file = CaseFile.objects.get(name="湖滨路噪音系列纠纷")
    assert set(case_file.cases.values_list("pk", flat=True)) == {a.pk, b.pk}
    third = make_case(case_type="neighbor")
    c.post("/admin/cases/case/", {"action": "archive_selected", "_selected_action": [third.pk], "apply": "1",
                                  "case_file": case_file.pk})
    assert case_file.cases.count() == 3
    listing = c.get("/admin/cases/casefile/").content.decode()
    assert "湖滨路噪音系列纠纷" in listing
    assert a.exchange_id in c.get(f"/admin/cases/casefile/{case_file.pk}/change/").content.decode()


def test_archiving_mixed_case_types_is_refused(client_for, make_case):
    a, b = make_case(case_type="neighbor"), make_case(case_type="housing")
    response = client_for("demo_street").post(
        "/admin/cases/case/", {"action": "archive_selected", "_selected_action": [a.pk, b.pk], "apply": "1",
                               "name": "混合档案"}, follow=True)
    assert "只能把同一类型的案件归入同一档案" in response.content.decode()
    assert not CaseFile.objects.exists()


def test_case_files_of_another_street_are_not_reachable(client_for, make_case, other_street_admin):
    case_file = actions.archive_cases([make_case()], user("demo_street"), name="东湖档案")
    c = client_for("xixi_street")
    assert "东湖档案" not in c.get("/admin/cases/casefile/").content.decode()
    assert c.get(f"/admin/cases/casefile/{case_file.pk}/change/").status_code == 404


# --- 消息中心 -------------------------------------------------------------------------------------
def test_notice_list_shows_only_own_notices_and_mark_read_works(client_for, make_case):
    case = make_case()
    notify([user("demo_street")], "warning", "红色预警：群体性纠纷", "请尽快处置", case)
    notify([user("demo_street")], "system", "系统维护通知")
    notify([user("demo_mediator")], "review", "调解员自己的消息")
    c = client_for("demo_street")
    html = c.get("/admin/notices/notice/").content.decode()
    assert "红色预警：群体性纠纷" in html and "调解员自己的消息" not in html
    assert "我的消息（2）" in html
    mine = Notice.objects.get(title="红色预警：群体性纠纷")
    c.post("/admin/notices/notice/", {"action": "mark_selected_read", "_selected_action": [mine.pk]})
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert Notice.objects.get(title="系统维护通知").read_at is None
    assert "系统维护通知" in c.get("/admin/notices/notice/", {"read": "unread"}).content.decode()
    assert "红色预警" not in c.get("/admin/notices/notice/", {"read": "unread"}).content.decode()


def test_opening_a_notice_marks_it_read_and_others_notices_are_not_found(client_for):
    notify([user("demo_street")], "system", "街道的消息")
    notify([user("demo_mediator")], "review", "调解员的消息")
    c = client_for("demo_street")
    own = Notice.objects.get(title="街道的消息")
    assert c.get(f"/admin/notices/notice/{own.pk}/change/").status_code == 200
    own.refresh_from_db()
    assert own.read_at is not None
    other = Notice.objects.get(title="调解员的消息")
    assert c.get(f"/admin/notices/notice/{other.pk}/change/").status_code == 404
    other.refresh_from_db()
    assert other.read_at is None


# --- 附件下载 -------------------------------------------------------------------------------------
def test_attachment_download_is_scoped_to_the_cases_region(client_for, mediating, other_street_admin, client):
    photo = SimpleUploadedFile("现场照片.jpg", b"\xff\xd8\xff photo", content_type="image/jpeg")
    attachment = actions.add_log(mediating, user("demo_mediator"), content="调解", uploads=[photo]).attachments.get()
    url = f"/cases/attachments/{attachment.pk}/"
    ok = client_for("demo_street").get(url)
    assert ok.status_code == 200 and b"".join(ok.streaming_content) == b"\xff\xd8\xff photo"
    assert ok["Content-Type"] == "image/jpeg"
    assert client_for("xixi_street").get(url).status_code == 404
    assert client.get(url).status_code == 302  # anonymous: to the login page


def test_attachments_that_are_not_images_are_downloaded_not_rendered(client_for, mediating):
    doc = SimpleUploadedFile("协议.txt", b"<script>alert(1)</script>", content_type="text/html")
    attachment = actions.add_log(mediating, user("demo_mediator"), content="调解", uploads=[doc]).attachments.get()
    response = client_for("demo_mediator").get(f"/cases/attachments/{attachment.pk}/")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment")
