"""Each exactly-once guard on its own. A row lock makes the compare-and-set guards redundant while
it holds; here the lock is taken out — the action reads a copy of the row from before the other
request's change, as two requests would without the lock — so the guard alone must refuse, with
the text the README promises, and leave nothing half-written. (The real races, lock included:
tests/test_review_concurrency.py, tests/test_dispatch_concurrency.py.)"""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from cases import actions as case_actions
from cases.actions import ActionRefused
from cases.models import Case, CaseEvent, Review
from dispatch import actions as dispatch_actions
from dispatch.models import Bid, DispatchOrder, Voucher
from tests.dispatch_helpers import close_window, dispatched_case, make_order, make_tp_user, user
from tests.test_review_concurrency import submitted_case


pytestmark = pytest.mark.backend  # depends on the database backend: row locks and compare-and-set

class StaleRead:
    """Stands in for ``Case.objects.select_for_update(...)``: no lock, and the row as it was read
    before the other request wrote."""

    def __init__(self, row):
        self.row = row

    def select_related(self, *fields):
        return self

    def get(self, **lookup):
        return self.row


def second_district_staff():
    from accounts.models import User

    other = User.objects.create_user("district_b", password="x-unused-1", display_name="区矛调中心乙",
                                     region=user("demo_district").region, is_staff=True)
    other.groups.add(Group.objects.get(name="区级管理员"))
    return other


def written(case) -> tuple:
    return (Case.objects.get(pk=case.pk).status, CaseEvent.objects.filter(case=case).count(),
            sorted(Review.objects.filter(case=case).values_list("pk", "status", "decided_by_id")))


# --- cases: the status compare-and-set, the review closed only while pending ---------------------
def test_case_status_compare_and_set_alone_refuses_the_slower_decision(make_case, monkeypatch):
    case, _ = submitted_case(make_case, "状态比较并设置")
    read_before = Case.objects.select_related("region", "registrant").get(pk=case.pk)
    case_actions.do_transition(case, "审核通过", user("demo_street"), opinion="同意")
    before = written(case)
    monkeypatch.setattr(Case.objects, "select_for_update", lambda **kw: StaleRead(read_before))
    with pytest.raises(ActionRefused, match="^案件已被他人处理，请刷新后查看最新状态$"):
        case_actions.do_transition(case, "退回补充", user("demo_district"), opinion="请补充协议")
    assert written(case) == before and before[0] == "mediated"


def test_review_is_closed_only_while_pending_even_when_the_status_still_matches(make_case):
    """The other reviewer's decision has closed the review row while this request still finds the
    case in 结果待审核: the pending-only update alone refuses the second decision."""
    case, review = submitted_case(make_case, "审核只决定一次")
    Review.objects.filter(pk=review.pk).update(status="approve", decided_by=user("demo_street"),
                                               decided_at=timezone.now(), opinion="同意")
    before = written(case)
    with pytest.raises(ActionRefused, match="^该审核已由他人处理$"):
        case_actions.do_transition(case, "驳回", user("demo_district"), opinion="不予认可")
    assert written(case) == before and before[0] == "pending_review"
    assert Review.objects.get(pk=review.pk).decided_by.username == "demo_street"


# --- dispatch: one award per order -------------------------------------------------------------------
@pytest.fixture
def two_bids(make_case):
    order = make_order(dispatched_case(make_case))
    a = dispatch_actions.sign_up(order, user("demo_tp_mediator"), plan="甲")
    b = dispatch_actions.sign_up(order, make_tp_user("pingan_1"), plan="乙")
    return close_window(order), a, b


def awarded(order) -> tuple:
    o = DispatchOrder.objects.get(pk=order.pk)
    return (o.state, o.awarded_bid_id, o.awarded_by_id, Voucher.objects.filter(order=order).count(),
            sorted(Bid.objects.filter(order=order).values_list("pk", "status")))


def test_the_slower_staff_is_told_the_order_was_chosen_by_someone_else(two_bids):
    order, a, b = two_bids
    dispatch_actions.award(order, a, user("demo_district"))
    with pytest.raises(ActionRefused, match="^该发单已由他人选定，请刷新后查看$"):
        dispatch_actions.award(order, b, second_district_staff())
    with pytest.raises(ActionRefused, match="^该发单已选定，请刷新后查看$"):  # one's own double submit
        dispatch_actions.award(order, a, user("demo_district"))


def test_award_compare_and_set_alone_keeps_one_award(two_bids, monkeypatch):
    order, a, b = two_bids
    read_before = DispatchOrder.objects.get(pk=order.pk)
    dispatch_actions.award(order, a, user("demo_district"))
    # what the slower request read before that award committed: the order open, its bid live
    Bid.objects.filter(pk=b.pk).update(status="active")
    before = awarded(order)
    monkeypatch.setattr(dispatch_actions, "_lock", lambda o: read_before)
    with pytest.raises(ActionRefused, match="^该发单已由他人选定，请刷新后查看$"):
        dispatch_actions.award(order, b, second_district_staff())
    assert awarded(order) == before and before[:2] == ("awarded", a.pk)
