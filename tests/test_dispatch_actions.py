"""District side of dispatch: an approved dispatch request becomes an order with masked text;
third parties sign up within the window; staff award exactly once; the winner's organisation
gets the case (guardian grant) and a voucher; withdrawal takes everything back; completion and
evaluation follow the case's result review."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cases import actions as case_actions
from cases.models import Case, CaseEvent
from dispatch import actions
from dispatch.actions import ActionRefused
from dispatch.models import Bid, DispatchOrder
from notices.models import Notice
from tests.dispatch_helpers import close_window, dispatched_case, make_order, make_tp_user, tp_org, user


pytestmark = pytest.mark.backend  # depends on the database backend: order state updates under locks


@pytest.fixture
def order(make_case):
    return make_order(dispatched_case(make_case))


def test_order_from_an_approved_dispatch_request_masks_the_parties(make_case):
    case = dispatched_case(make_case)
    order = make_order(case)
    assert order.number.startswith("FD") and order.state == "open" and order.phase == "bidding"
    assert order.phase_label == "报名中"
    text = order.title + order.description
    assert "张三" not in text and "李四" not in text and "张某" in text and "李某" in text
    assert "11010519491231002X" not in text and "13800138000" not in text
    assert "1101**********002X" in text and "138****8000" in text
    assert order.region_path == case.region_path and order.case_type == "labor_wage"
    assert CaseEvent.objects.filter(case=case, kind="dispatch").exists()


def test_only_cases_whose_dispatch_request_passed_review_can_be_dispatched(make_case):
    case = make_case("湖滨社区", status="mediating")
    with pytest.raises(ActionRefused, match="发单审核通过"):
        make_order(case)
    dispatched = dispatched_case(make_case, title="第二件")
    make_order(dispatched)
    with pytest.raises(ActionRefused, match="已有发单"):
        make_order(dispatched)


def test_window_and_fee_are_validated(make_case):
    case, staff, now = dispatched_case(make_case), user("demo_district"), timezone.now()
    deadline = (now + dt.timedelta(days=30)).date()
    with pytest.raises(ActionRefused, match="晚于开始"):
        actions.create_order(case, staff, mediation_deadline=deadline, signup_start=now + dt.timedelta(hours=2),
                             signup_end=now + dt.timedelta(hours=1))
    with pytest.raises(ActionRefused, match="当前时间"):
        actions.create_order(case, staff, mediation_deadline=deadline, signup_start=now - dt.timedelta(hours=2),
                             signup_end=now - dt.timedelta(hours=1))
    with pytest.raises(ActionRefused, match="数字"):
        actions.create_order(case, staff, expected_fee="三千", mediation_deadline=deadline,
                             signup_start=now, signup_end=now + dt.timedelta(hours=1))
    with pytest.raises(ActionRefused, match="调解期限"):
        actions.create_order(case, staff, mediation_deadline=(now - dt.timedelta(days=3)).date(),
                             signup_start=now, signup_end=now + dt.timedelta(hours=1))
    assert not DispatchOrder.objects.exists()


def test_street_staff_and_third_parties_cannot_dispatch(make_case):
    case = dispatched_case(make_case)
    for username in ("demo_street", "demo_mediator", "demo_tp_admin"):
        with pytest.raises(ActionRefused):
            make_order(case, user(username))


def test_sign_up_once_per_organisation_only_while_open(order):
    mediator = user("demo_tp_mediator")
    bid = actions.sign_up(order, mediator, plan="有劳动争议调解经验", quoted_fee="2800")
    assert bid.status == "active" and bid.organization == tp_org()
    colleague = make_tp_user("hehe_2", org_name="和合商事调解中心")
    with pytest.raises(ActionRefused, match="已报名"):
        actions.sign_up(order, colleague)
    with pytest.raises(ActionRefused, match="只有第三方"):
        actions.sign_up(order, user("demo_mediator"))
    close_window(order)
    with pytest.raises(ActionRefused, match="已截止"):
        actions.sign_up(order, make_tp_user("pingan_1"))
    assert Bid.objects.filter(order=order).count() == 1


def test_sign_up_before_the_window_opens_is_refused(make_case):
    now = timezone.now()
    order = make_order(dispatched_case(make_case), start=now + dt.timedelta(hours=1), end=now + dt.timedelta(hours=5))
    assert order.phase_label == "未开始"
    with pytest.raises(ActionRefused, match="尚未开始"):
        actions.sign_up(order, user("demo_tp_mediator"))


def test_cancel_before_the_deadline_then_sign_up_again(order):
    mediator = user("demo_tp_mediator")
    bid = actions.sign_up(order, mediator)
    other = make_tp_user("pingan_1")
    with pytest.raises(ActionRefused, match="本人"):
        actions.cancel_bid(bid, other)
    actions.cancel_bid(bid, mediator)
    assert Bid.objects.get(pk=bid.pk).status == "cancelled"
    again = actions.sign_up(order, mediator)
    close_window(order)
    with pytest.raises(ActionRefused, match="截止"):
        actions.cancel_bid(again, mediator)


def _two_bids(order):
    a = actions.sign_up(order, user("demo_tp_mediator"), plan="方案甲")
    b = actions.sign_up(order, make_tp_user("pingan_1"), plan="方案乙")
    close_window(order)
    return a, b


def test_award_grants_the_case_issues_a_voucher_and_notifies(order):
    a, b = _two_bids(order)
    case = order.case
    tp = user("demo_tp_mediator")
    assert not case_actions.in_scope(tp, case)
    voucher = actions.award(order, a, user("demo_district"))
    order.refresh_from_db()
    assert order.state == "awarded" and order.awarded_org == tp_org() and order.phase_label == "已选定"
    assert voucher.number.startswith("PZ") and len(voucher.digest) == 64
    assert Bid.objects.get(pk=a.pk).status == "won" and Bid.objects.get(pk=b.pk).status == "lost"
    # the winner's organisation — including accounts created after the award — sees the case
    tp = user("demo_tp_mediator")
    assert case_actions.in_scope(tp, case) and user("demo_tp_admin").has_perm("cases.change_case", case)
    assert case_actions.in_scope(make_tp_user("hehe_late", org_name="和合商事调解中心"), case)
    assert not case_actions.in_scope(user("pingan_1"), case)
    assert Notice.objects.filter(recipient=tp, title__startswith="中选通知", case=case).exists()
    lost = Notice.objects.get(recipient__username="pingan_1")
    assert lost.case is None and "已选定其他组织" in lost.body


def test_award_before_the_deadline_or_twice_is_refused(order):
    a = actions.sign_up(order, user("demo_tp_mediator"))
    with pytest.raises(ActionRefused, match="尚未截止"):
        actions.award(order, a, user("demo_district"))
    close_window(order)
    actions.award(order, a, user("demo_district"))
    with pytest.raises(ActionRefused, match="已选定"):
        actions.award(order, a, user("demo_district"))


def test_cancelled_bid_cannot_win(order):
    a = actions.sign_up(order, user("demo_tp_mediator"))
    actions.cancel_bid(a, user("demo_tp_mediator"))
    close_window(order)
    with pytest.raises(ActionRefused, match="已取消"):
        actions.award(order, a, user("demo_district"))


def test_the_third_party_mediates_through_the_normal_case_actions(order, metadata):
    a, _ = _two_bids(order)
    actions.award(order, a, user("demo_district"))
    tp = user("demo_tp_mediator")
    actions.confirm_voucher(order, tp)
    order.refresh_from_db()
    case = Case.objects.get(pk=order.case_id)
    assert order.state == "mediating" and case.status == "mediating"
    case_actions.add_log(case, tp, content="第三方组织双方调解")
    case_actions.submit_result(case, tp, action="提交结果", outcome="success", agreement="达成协议")
    case.refresh_from_db()
    assert case.status == "pending_review"
    # the district reviews the result with the ordinary result review; the order completes
    with pytest.raises(ActionRefused):
        case_actions.do_transition(case, "审核通过", tp)
    case_actions.do_transition(case, "审核通过", user("demo_district"))
    actions.sync_completion([case.pk])
    order.refresh_from_db()
    assert order.state == "completed" and order.completed_at is not None
    ev = actions.evaluate(order, user("demo_district"), score=5, comment="调解及时")
    assert ev.score == 5
    with pytest.raises(ActionRefused, match="已评价"):
        actions.evaluate(order, user("demo_district"), score=4)


def test_staff_is_asked_to_review_and_completion_follows_the_review(order, django_capture_on_commit_callbacks):
    a, _ = _two_bids(order)
    actions.award(order, a, user("demo_district"))
    tp = user("demo_tp_mediator")
    actions.confirm_voucher(order, tp)
    case = Case.objects.get(pk=order.case_id)
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.submit_result(case, tp, action="提交结果", outcome="success")
    # the district staff who awarded it is asked to review, linked to the case
    assert Notice.objects.filter(recipient__username="demo_district", kind="review", case=case).exists()
    with django_capture_on_commit_callbacks(execute=True):
        case_actions.do_transition(Case.objects.get(pk=case.pk), "审核通过", user("demo_district"))
    assert DispatchOrder.objects.get(pk=order.pk).state == "completed"


def test_evaluation_needs_completion_and_a_valid_score(order):
    a, _ = _two_bids(order)
    actions.award(order, a, user("demo_district"))
    with pytest.raises(ActionRefused, match="完成"):
        actions.evaluate(order, user("demo_district"), score=5)
    DispatchOrder.objects.filter(pk=order.pk).update(state="completed")
    for bad in (0, 6, "好"):
        with pytest.raises(ActionRefused, match="1–5"):
            actions.evaluate(order, user("demo_district"), score=bad)


def test_withdrawal_revokes_the_grant_and_voids_the_voucher(order):
    a, _ = _two_bids(order)
    voucher = actions.award(order, a, user("demo_district"))
    with pytest.raises(ActionRefused, match="撤回原因"):
        actions.withdraw(order, user("demo_district"), reason=" ")
    actions.withdraw(order, user("demo_district"), reason="当事人已自行和解")
    order.refresh_from_db()
    voucher.refresh_from_db()
    assert order.state == "withdrawn" and voucher.revoked_at is not None
    tp = user("demo_tp_mediator")
    assert not case_actions.in_scope(tp, order.case)
    assert not tp.has_perm("cases.view_case", order.case)
    case = Case.objects.get(pk=order.case_id)
    assert case.status == "mediating"  # back to its region
    with pytest.raises(ActionRefused):
        actions.confirm_voucher(order, tp)
    assert Notice.objects.filter(recipient=tp, title__startswith="发单已撤回").exists()


def test_a_withdrawn_case_can_be_dispatched_again(order, make_case):
    actions.withdraw(order, user("demo_district"), reason="重新发单")
    case = Case.objects.get(pk=order.case_id)
    Case.objects.filter(pk=case.pk).update(status="dispatched")
    again = make_order(case)
    assert again.pk != order.pk and again.state == "open"


def test_staff_of_another_region_cannot_manage_the_order(order):
    from orgs.models import Region

    far = Region.objects.create(code="339902", name="邻区", level=1)
    from accounts.models import User
    from django.contrib.auth.models import Group

    outsider = User.objects.create_user("far_admin", password="x-unused-1", region=far, is_staff=True)
    outsider.groups.add(Group.objects.get(name="区级管理员"))
    outsider = User.objects.get(pk=outsider.pk)
    a = actions.sign_up(order, user("demo_tp_mediator"))
    close_window(order)
    with pytest.raises(ActionRefused, match="管辖范围"):
        actions.award(order, a, outsider)
    with pytest.raises(ActionRefused, match="管辖范围"):
        actions.withdraw(order, outsider, reason="越权")
