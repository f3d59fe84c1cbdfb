"""Demo dispatch data: third-party mediators and a few orders in every state (未开始, 报名中,
已截止 with sign-ups to compare, 已选定, 调解中, 已完成 with evaluation, 已撤回), made through
``dispatch.actions`` like a user would. Idempotent: nothing happens once demo orders exist."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from accounts import roles

EXTRA_ORG = ("安和家事调解中心", "third")
TP_MEDIATORS = [("demo_tp_pingan", "平安工作室调解员", "平安律师调解工作室"),
                ("demo_tp_anhe", "安和中心调解员", "安和家事调解中心")]


def ensure_tp_accounts(password: str) -> list:
    from accounts.models import User
    from orgs.models import Organization, Region

    district = Region.objects.filter(level=Region.Level.DISTRICT).order_by("pk").first()
    Organization.objects.get_or_create(name=EXTRA_ORG[0], defaults={"kind": EXTRA_ORG[1], "region": district})
    role = roles.group(roles.TP_MEDIATOR)
    out = []
    for username, display, org_name in TP_MEDIATORS:
        user, created = User.objects.get_or_create(username=username, defaults={
            "display_name": display, "organization": Organization.objects.get(name=org_name), "is_staff": True})
        if created:
            user.set_password(password)
            user.save()
            user.groups.add(role)
        out.append(user)
    return out


def _window(order, start, end):
    type(order).objects.filter(pk=order.pk).update(signup_start=start, signup_end=end)
    order.refresh_from_db()
    return order


def seed_dispatch(password: str) -> int:
    from accounts.models import User
    from cases import actions as case_actions
    from cases.models import Case, HelpRequest
    from dispatch import actions
    from dispatch.models import DispatchOrder

    if DispatchOrder.objects.exists():
        _bids_inside_their_window()
        return 0
    pingan, anhe = ensure_tp_accounts(password)
    staff = User.objects.filter(username="demo_district").first()
    hehe = User.objects.filter(username="demo_tp_mediator").first()
    candidates = list(Case.objects.filter(status="mediating", registrant__username__startswith="demo_")
                      .order_by("registered_at")[:8])
    if staff is None or hehe is None or len(candidates) < 8:
        return 0
    now = timezone.now()
    hour, day = dt.timedelta(hours=1), dt.timedelta(days=1)
    created = 0
    with transaction.atomic():
        orders = []
        for case in candidates:  # the dispatch request passed review
            HelpRequest.objects.create(case=case, kind="dispatch", reason="案情复杂，申请专业调解组织介入",
                                       expected_fee=3000, requested_by=case.registrant)
            Case.objects.filter(pk=case.pk).update(status="dispatched")
            case_actions.trace(case, "transition", "演示：发单审核通过", staff, "dispatch_review", "dispatched")
            orders.append(actions.create_order(
                Case.objects.get(pk=case.pk), staff, expected_fee="3000", requirements="三十日内完成调解，提交调解协议",
                mediation_deadline=(now + 40 * day).date(), signup_start=now - hour, signup_end=now + 3 * day))
            created += 1
        not_started, bidding, bidding_empty, closed, awarded, mediating, completed, withdrawn = orders
        _window(not_started, now + day, now + 4 * day)
        actions.sign_up(bidding, pingan, plan="律师团队参与，一周内首次调解", quoted_fee="2800")
        for order in (closed, awarded, mediating, completed):
            actions.sign_up(order, hehe, plan="商事调解经验丰富", quoted_fee="3000")
            actions.sign_up(order, pingan, plan="律师团队参与", quoted_fee="2800")
            actions.sign_up(order, anhe, plan="家事调解见长", quoted_fee="2500")
            _window(order, now - 5 * day, now - day)
        from dispatch.models import Bid

        def bid_of(order, org_user):
            return Bid.objects.get(order=order, organization_id=org_user.organization_id)

        actions.award(awarded, bid_of(awarded, hehe), staff)
        actions.award(mediating, bid_of(mediating, hehe), staff)
        actions.confirm_voucher(mediating, hehe)
        actions.award(completed, bid_of(completed, pingan), staff)
        actions.confirm_voucher(completed, pingan)
        case = Case.objects.get(pk=completed.case_id)
        case_actions.add_log(case, pingan, content="组织双方到场调解，达成一致")
        case_actions.submit_result(case, pingan, action="提交结果", outcome="success", agreement="双方达成调解协议")
        case_actions.do_transition(Case.objects.get(pk=case.pk), "审核通过", staff)
        actions.sync_completion([case.pk])
        actions.evaluate(DispatchOrder.objects.get(pk=completed.pk), staff, score=5, comment="响应及时，调解效果好")
        actions.withdraw(withdrawn, staff, reason="当事人已自行和解")
        _bids_inside_their_window()
    return created


def _bids_inside_their_window() -> int:
    """The demo signs up first and moves the window into the past afterwards: put each sign-up
    inside its order's window (as a real one is), also in a database seeded before this fix."""
    from dispatch.models import Bid

    moved = 0
    for bid in Bid.objects.select_related("order"):
        order = bid.order
        if order.signup_end and order.signup_start and not order.signup_start <= bid.created_at <= order.signup_end:
            at = order.signup_start + (order.signup_end - order.signup_start) / (2 + bid.pk % 3)
            moved += Bid.objects.filter(pk=bid.pk).update(created_at=at)
    return moved
