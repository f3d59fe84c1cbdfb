"""Row-level scope of dispatch: third parties see open orders (masked), their own sign-ups and
their own organisation's awarded orders and cases — nothing else, by any query path; district
staff see orders of their region subtree; grants appear on award and vanish on withdrawal."""
from __future__ import annotations

import pytest

from accounts.scope import scope_queryset
from cases.models import Case, MediationLog, Party
from dispatch import actions, scope
from dispatch.models import Bid, DispatchOrder
from tests.dispatch_helpers import close_window, dispatched_case, make_order, make_tp_user, user


pytestmark = pytest.mark.backend  # depends on the database backend: scope filters


@pytest.fixture
def orders(make_case):
    """open (bidding), closed with bids of both orgs, awarded to 和合, awarded to 平安."""
    pingan = make_tp_user("pingan_1")
    hehe = user("demo_tp_mediator")
    bidding = make_order(dispatched_case(make_case, title="报名中案件"))
    closed = make_order(dispatched_case(make_case, title="已截止案件"))
    actions.sign_up(closed, pingan)
    close_window(closed)
    ours = make_order(dispatched_case(make_case, title="和合中选案件"))
    actions.award(close_window(_signed(ours, hehe)), Bid.objects.get(order=ours), user("demo_district"))
    theirs = make_order(dispatched_case(make_case, "溪口社区", title="平安中选案件"))
    actions.award(close_window(_signed(theirs, pingan)), Bid.objects.get(order=theirs), user("demo_district"))
    return {"bidding": bidding, "closed": closed, "ours": ours, "theirs": theirs}


def _signed(order, who):
    actions.sign_up(order, who)
    return order


def test_third_party_sees_open_orders_own_bids_and_own_awards_only(orders):
    hehe = user("demo_tp_mediator")
    visible = set(scope.visible_orders(hehe).values_list("pk", flat=True))
    assert visible == {orders["bidding"].pk, orders["ours"].pk}
    assert set(scope.open_orders(hehe).values_list("pk", flat=True)) == {orders["bidding"].pk}
    assert set(scope.awarded_orders(hehe).values_list("pk", flat=True)) == {orders["ours"].pk}
    # the other organisation: its closed sign-up and its award, not ours
    pingan = user("pingan_1")
    assert set(scope.visible_orders(pingan).values_list("pk", flat=True)) == {
        orders["bidding"].pk, orders["closed"].pk, orders["theirs"].pk}


def test_mediator_sees_own_bids_org_admin_sees_the_organisation(orders):
    colleague = make_tp_user("hehe_2", org_name="和合商事调解中心")
    actions.sign_up(orders["bidding"], colleague)
    assert list(scope.own_bids(user("demo_tp_mediator")).values_list("mediator__username", flat=True)) == [
        "demo_tp_mediator"]
    assert set(scope.own_bids(user("demo_tp_admin")).values_list("mediator__username", flat=True)) == {
        "demo_tp_mediator", "hehe_2"}


def test_case_scope_includes_granted_cases_for_third_parties_only(orders):
    hehe = user("demo_tp_mediator")
    cases = scope_queryset(hehe, Case.objects.all())
    assert list(cases.values_list("pk", flat=True)) == [orders["ours"].case_id]
    # rows reached through the case follow it
    MediationLog.objects.create(case=orders["theirs"].case, content="平安的日志")
    MediationLog.objects.create(case=orders["ours"].case, content="和合的日志")
    logs = scope_queryset(hehe, MediationLog.objects.all(), "case__region_path")
    assert list(logs.values_list("content", flat=True)) == ["和合的日志"]
    parties = scope_queryset(hehe, Party.objects.all(), "case__region_path")
    assert {p.case_id for p in parties} == {orders["ours"].case_id}
    # region users are unchanged: the community mediator sees 湖滨 cases only, not 溪口's
    local = scope_queryset(user("demo_mediator"), Case.objects.all())
    assert orders["theirs"].case_id not in set(local.values_list("pk", flat=True))


def test_inactive_or_removed_accounts_lose_the_grant(orders):
    hehe = user("demo_tp_mediator")
    hehe.is_active = False
    hehe.save()
    assert not scope_queryset(user("demo_tp_mediator"), Case.objects.all()).exists()
    hehe.is_active = True
    hehe.organization = None  # left the organisation
    hehe.save()
    assert not scope_queryset(user("demo_tp_mediator"), Case.objects.all()).exists()


def test_withdrawal_removes_the_case_from_every_third_party_query(orders):
    hehe = user("demo_tp_mediator")
    actions.withdraw(orders["ours"], user("demo_district"), reason="撤回")
    assert not scope_queryset(hehe, Case.objects.all()).exists()
    assert not scope.awarded_orders(hehe).exists()
    # the sign-up record stays in "my sign-ups" (masked order, shown as 已撤回), the case does not
    bid = scope.own_bids(hehe).get(order=orders["ours"])
    assert bid.status == "lost" and bid.order.phase_label == "已撤回"


def test_staff_scope_is_the_region_subtree(orders):
    assert set(scope.staff_orders(user("demo_district")).values_list("pk", flat=True)) == {
        o.pk for o in orders.values()}
    assert not scope.staff_orders(user("demo_tp_admin")).exists()
    assert not scope.staff_orders(user("demo_mediator")).exists()  # no dispatch function right


def test_third_party_case_screens_show_only_the_awarded_case(orders, client_for):
    tp = client_for("demo_tp_mediator")
    listing = tp.get("/admin/cases/case/").content.decode()
    assert "和合中选案件" in listing and "平安中选案件" not in listing and "已截止案件" not in listing
    assert tp.get(f"/admin/cases/case/{orders['ours'].case_id}/detail/").status_code == 200
    assert tp.get(f"/admin/cases/case/{orders['theirs'].case_id}/detail/").status_code == 404
    assert tp.get(f"/admin/cases/case/{orders['bidding'].case_id}/detail/").status_code == 404
    hehe = user("demo_tp_mediator")
    assert hehe.has_perm("cases.change_case", orders["ours"].case)
    assert not hehe.has_perm("cases.view_case", orders["theirs"].case)


def test_the_awarded_mediator_handles_the_case_other_orgs_cannot(orders):
    from cases import actions as case_actions
    from cases.actions import ActionRefused

    ours = Case.objects.get(pk=orders["ours"].case_id)
    case_actions.add_log(ours, user("demo_tp_mediator"), content="第三方调解日志")
    with pytest.raises(ActionRefused, match="管辖范围"):
        case_actions.add_log(ours, user("pingan_1"), content="越权日志")
    assert DispatchOrder.objects.get(pk=orders["ours"].pk).state == "awarded"
