"""Dispatch actions (the ``cases.actions`` style): each does the write, the case trace and the
notices in one transaction, and refuses with ``ActionRefused`` (a Chinese message shown as it is).
Views — district PC screens here, third-party PC/H5 in ``thirdparty`` — are thin callers.

Exactly-once rules: the order row is locked (``select_for_update``) by every action that changes
it or adds a bid, and state changes are compare-and-set, so a sign-up and the deadline, two
sign-ups of one organisation, or two staff awarding at once resolve to one outcome."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts import roles
from cases import states
from cases.actions import ActionRefused, trace, workflow
from cases.models import Case
from dispatch import grants, voucher as voucher_mod
from dispatch.masking import masked_case_text
from dispatch.models import Bid, DispatchOrder, Evaluation, Voucher
from dispatch.scope import is_org_admin, is_third_party, staff_orders, third_party_org
from notices.actions import case_label, notify

__all__ = ["ActionRefused", "create_order", "sign_up", "cancel_bid", "award", "confirm_voucher", "withdraw",
           "evaluate", "sync_completion", "dispatchable_cases"]

# the case workflow states the dispatch side relies on, read from the workflow (cases.states): a
# case waits in the state an approved dispatch review leads to (已发单); the awarded organisation
# handles it in the state a returned dispatch review leads back to (调解中) and submits its result
# through the ordinary result review
def case_dispatched() -> str:
    return states.decided_state("dispatch", "approve")


def case_mediating() -> str:
    return states.decided_state("dispatch", "return")


AWARDED_BY_OTHER = "该发单已由他人选定，请刷新后查看"


# --- helpers -----------------------------------------------------------------------------------
def _require_staff(user, order: DispatchOrder | None, perm: str) -> None:
    if is_third_party(user) or not user.has_perm(perm):
        raise ActionRefused("您没有发单管理的权限")
    if order is not None and not staff_orders(user).filter(pk=order.pk).exists():
        raise ActionRefused("该发单不在您的管辖范围内")


def _lock(order: DispatchOrder) -> DispatchOrder:
    return DispatchOrder.objects.select_for_update(of=("self",)).get(pk=order.pk)


def _decimal(value, label: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ActionRefused(f"{label}必须是数字")
    if out < 0 or out >= Decimal("1e10"):
        raise ActionRefused(f"{label}不能为负数或过大")
    return out.quantize(Decimal("0.01"))


def _org_users(org):
    from accounts.models import User

    return User.objects.filter(organization=org, is_active=True)


def dispatchable_cases(user):
    """Cases in the user's scope whose dispatch request passed review and have no live order."""
    from accounts.scope import scope_queryset

    if is_third_party(user) or not user.has_perm("dispatch.add_dispatchorder"):
        return Case.objects.none()
    live = DispatchOrder.objects.exclude(state="withdrawn").values("case_id")
    return scope_queryset(user, Case.objects.filter(status=case_dispatched())).exclude(pk__in=live)


# --- district staff ------------------------------------------------------------------------------
def create_order(case: Case, user, *, expected_fee=None, mediation_deadline: dt.date, signup_start: dt.datetime,
                 signup_end: dt.datetime, requirements: str = "", mediation_type: str = "") -> DispatchOrder:
    """发单: make an order from a case in state ``dispatched`` (its dispatch request passed review).
    Title and description are copied from the case with the parties' identities masked."""
    _require_staff(user, None, "dispatch.add_dispatchorder")
    fee = _decimal(expected_fee, "预期费用")
    if not (signup_start and signup_end):
        raise ActionRefused("请填写报名开始和截止时间")
    if signup_end <= signup_start:
        raise ActionRefused("报名截止时间必须晚于开始时间")
    now = timezone.now()
    if signup_end <= now:
        raise ActionRefused("报名截止时间必须晚于当前时间")
    if not mediation_deadline:
        raise ActionRefused("请填写调解期限")
    if mediation_deadline < timezone.localtime(signup_end).date():
        raise ActionRefused("调解期限不能早于报名截止日期")
    with transaction.atomic():
        case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        if not dispatchable_cases(user).filter(pk=case.pk).exists():
            if case.status != case_dispatched():
                raise ActionRefused("只有发单审核通过的案件才能发单")
            if DispatchOrder.objects.filter(case=case).exclude(state="withdrawn").exists():
                raise ActionRefused("该案件已有发单")
            raise ActionRefused("案件不在您的管辖范围内")
        title, description = masked_case_text(case)
        order = DispatchOrder.objects.create(
            case=case, region_id=case.region_id, region_path=case.region_path, case_type=case.case_type,
            title=title, description=description, mediation_type=mediation_type or case.mediation_type,
            requirements=(requirements or "").strip(), expected_fee=fee, mediation_deadline=mediation_deadline,
            signup_start=signup_start, signup_end=signup_end, created_by=user, created_at=now)
        trace(case, "dispatch", f"{user}：发单 {order.number}（报名 {timezone.localtime(signup_start):%Y-%m-%d %H:%M}"
                                f" 至 {timezone.localtime(signup_end):%Y-%m-%d %H:%M}）", user)
    return order


def award(order: DispatchOrder, bid: Bid, user) -> Voucher:
    """选定: after the deadline, choose one live sign-up. Exactly one award per order under
    concurrency. Grants the case to the winner's organisation, issues the voucher, notifies."""
    _require_staff(user, order, "dispatch.change_dispatchorder")
    with transaction.atomic():
        order = _lock(order)
        now = timezone.now()
        if order.state == DispatchOrder.State.WITHDRAWN:
            raise ActionRefused("该发单已撤回，不能选定")
        if order.state != DispatchOrder.State.OPEN:
            # the slower of two staff choosing at once waited on the lock: tell them (README)
            raise ActionRefused("该发单已选定，请刷新后查看" if order.awarded_by_id == user.pk else AWARDED_BY_OTHER)
        if now < order.signup_end:
            raise ActionRefused("报名尚未截止，截止后才能选定")
        bid = Bid.objects.select_related("organization", "mediator").filter(pk=bid.pk, order=order).first()
        if bid is None or bid.status != Bid.Status.ACTIVE:
            raise ActionRefused("该报名不存在或已取消")
        if not bid.organization.is_active or not bid.mediator.is_active:
            raise ActionRefused("该组织或调解员账号已停用，不能选定")
        if not DispatchOrder.objects.filter(pk=order.pk, state="open").update(
                state="awarded", awarded_bid=bid, awarded_org=bid.organization, awarded_at=now, awarded_by=user):
            raise ActionRefused(AWARDED_BY_OTHER)
        order.refresh_from_db()
        Bid.objects.filter(pk=bid.pk).update(status="won")
        losers = list(Bid.objects.filter(order=order, status="active").exclude(pk=bid.pk)
                      .select_related("mediator", "organization"))
        Bid.objects.filter(pk__in=[b.pk for b in losers]).update(status="lost")
        bid.status = "won"
        grants.grant_case(bid.organization, order.case)
        v = Voucher(order=order, bid=bid, organization=bid.organization, mediator=bid.mediator,
                    issued_at=now, issued_by=user, digest="")
        v.save()
        v.digest = voucher_mod.digest(v)
        v.save(update_fields=["digest"])
        trace(order.case, "dispatch", f"{user}：发单 {order.number} 选定 {bid.organization}（调解员 {bid.mediator}），"
                                      f"凭证 {v.number}", user)
        winners = list(_org_users(bid.organization).filter(roles.holders(roles.TP_ADMIN)).distinct()) + [bid.mediator]
        notify(winners, "system", f"中选通知：{order.title}",
               f"贵组织已中选发单 {order.number}，确认凭证 {v.number}。请确认凭证后开始调解。", order.case)
        for loser in losers:
            # no case link: the others must not be pointed at a case they cannot see
            notify(list(_org_users(loser.organization).filter(roles.holders(roles.TP_ADMIN)).distinct()) + [loser.mediator],
                   "system", f"竞选结果：{order.title}", f"发单 {order.number} 已选定其他组织，感谢参与。")
    return v


def withdraw(order: DispatchOrder, user, *, reason: str) -> DispatchOrder:
    """撤回: take the order back (before or after the award). Revokes the organisation's grants,
    voids the voucher, cancels open sign-ups; the case returns to its region for mediation."""
    _require_staff(user, order, "dispatch.change_dispatchorder")
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused("请填写撤回原因")
    with transaction.atomic():
        order = _lock(order)
        if order.state in ("completed", "withdrawn"):
            raise ActionRefused(f"发单已{order.get_state_display()}，不能撤回")
        now = timezone.now()
        previous = order.state
        DispatchOrder.objects.filter(pk=order.pk, state=previous).update(
            state="withdrawn", withdrawn_at=now, withdraw_reason=reason[:300])
        order.refresh_from_db()
        affected = list(Bid.objects.filter(order=order, status__in=["active", "won"]).select_related("mediator"))
        Bid.objects.filter(order=order, status="active").update(status="cancelled", cancelled_at=now)
        Bid.objects.filter(order=order, status="won").update(status="lost")
        Voucher.objects.filter(order=order, revoked_at__isnull=True).update(revoked_at=now)
        case = Case.objects.select_for_update(of=("self",)).get(pk=order.case_id)
        if order.awarded_org_id:
            grants.revoke_case(order.awarded_org, case)
        waiting, back = case_dispatched(), case_mediating()
        if case.status == waiting:
            Case.objects.filter(pk=case.pk, status=waiting).update(status=back, last_progress_at=now)
            trace(case, "dispatch", f"{user}：撤回发单 {order.number}，案件退回属地调解。原因：{reason}", user,
                  waiting, back)
        else:
            trace(case, "dispatch", f"{user}：撤回发单 {order.number}。原因：{reason}", user)
        recipients = [b.mediator for b in affected]
        if order.awarded_org_id:
            recipients += list(_org_users(order.awarded_org).filter(roles.holders(roles.TP_ADMIN)).distinct())
        notify(recipients, "system", f"发单已撤回：{order.title}", f"发单 {order.number} 已撤回。原因：{reason}")
    return order


def evaluate(order: DispatchOrder, user, *, score, comment: str = "") -> Evaluation:
    """调解评价: once per completed order, by district staff in scope."""
    _require_staff(user, order, "dispatch.add_evaluation")
    try:
        score = int(score)
    except (TypeError, ValueError):
        raise ActionRefused("请选择 1–5 分的评分")
    if not 1 <= score <= 5:
        raise ActionRefused("评分必须在 1–5 分之间")
    with transaction.atomic():
        order = _lock(order)
        if order.state != DispatchOrder.State.COMPLETED:
            raise ActionRefused("调解完成（结果审核通过）后才能评价")
        if Evaluation.objects.filter(order=order).exists():
            raise ActionRefused("该发单已评价，不能重复评价")
        ev = Evaluation.objects.create(order=order, score=score, comment=(comment or "").strip(), evaluated_by=user)
        trace(order.case, "dispatch", f"{user}：调解评价 {score} 分", user)
        notify(_org_users(order.awarded_org).filter(roles.holders(roles.TP_ADMIN)).distinct(), "system",
               f"调解评价：{order.title}", f"发单 {order.number} 评价 {score} 分。{ev.comment}")
    return ev


# --- third parties -----------------------------------------------------------------------------
def sign_up(order: DispatchOrder, user, *, plan: str = "", quoted_fee=None, mediator=None) -> Bid:
    """报名: a third-party mediator (or their org admin naming one of the org's mediators) signs the
    organisation up, only while 报名中 by server time, once per organisation."""
    org = third_party_org(user)
    if org is None or not user.has_perm("dispatch.add_bid"):
        raise ActionRefused("只有第三方调解组织的调解员可以报名")
    mediator = mediator or user
    if mediator.pk != user.pk:
        if not is_org_admin(user):
            raise ActionRefused("只能以本人名义报名")
        if mediator.organization_id != org.pk or not mediator.is_active \
                or not roles.has_role(mediator, roles.TP_MEDIATOR):
            raise ActionRefused("所选调解员不属于本组织或已停用")
    fee = _decimal(quoted_fee, "报价")
    with transaction.atomic():
        order = _lock(order)
        now = timezone.now()  # read after the lock: the deadline is judged when the row is ours
        phase = order.phase_at(now)
        if phase == "not_started":
            raise ActionRefused("报名尚未开始")
        if phase != "bidding":
            raise ActionRefused("报名已截止" if phase == "closed" else f"发单{order.phase_label}，不能报名")
        if Bid.objects.filter(order=order, organization=org).exclude(status="cancelled").exists():
            raise ActionRefused("本组织已报名该发单，不能重复报名")
        try:
            with transaction.atomic():
                bid = Bid.objects.create(order=order, organization=org, mediator=mediator,
                                         plan=(plan or "").strip(), quoted_fee=fee, created_at=now)
        except IntegrityError:
            raise ActionRefused("本组织已报名该发单，不能重复报名")
    return bid


def cancel_bid(bid: Bid, user) -> Bid:
    """取消报名: the bidding mediator or the org admin, before the deadline."""
    org = third_party_org(user)
    if org is None or not user.has_perm("dispatch.change_bid"):
        raise ActionRefused("您没有取消报名的权限")
    if bid.organization_id != org.pk or (bid.mediator_id != user.pk and not is_org_admin(user)):
        raise ActionRefused("只能取消本人（本组织）的报名")
    with transaction.atomic():
        order = _lock(bid.order)
        now = timezone.now()
        if order.phase_at(now) != "bidding":
            raise ActionRefused("报名已截止，不能取消")
        if not Bid.objects.filter(pk=bid.pk, status="active").update(status="cancelled", cancelled_at=now):
            raise ActionRefused("该报名已取消")
        bid.refresh_from_db()
    return bid


def confirm_voucher(order: DispatchOrder, user) -> Voucher:
    """确认凭证: the awarded mediator (or the org admin) confirms; the order becomes 调解中 and the
    case moves from ``dispatched`` to ``mediating`` in the organisation's hands."""
    org = third_party_org(user)
    if org is None or not user.has_perm("dispatch.change_voucher"):
        raise ActionRefused("您没有确认凭证的权限")
    with transaction.atomic():
        order = _lock(order)
        if order.awarded_org_id != org.pk:
            raise ActionRefused("该发单未选定贵组织")
        v = Voucher.objects.select_for_update().get(order=order)
        if v.mediator_id != user.pk and not is_org_admin(user):
            raise ActionRefused("只有中选调解员或组织管理员可以确认凭证")
        if order.state != DispatchOrder.State.AWARDED:
            raise ActionRefused("凭证已确认" if order.state in ("mediating", "completed") else "发单已撤回，凭证已作废")
        now = timezone.now()
        DispatchOrder.objects.filter(pk=order.pk, state="awarded").update(state="mediating")
        Voucher.objects.filter(pk=v.pk).update(confirmed_at=now, confirmed_by=user)
        order.refresh_from_db()
        v.refresh_from_db()
        case = Case.objects.select_for_update(of=("self",)).get(pk=order.case_id)
        waiting, mediating = case_dispatched(), case_mediating()
        if case.status == waiting:
            Case.objects.filter(pk=case.pk).update(status=mediating, last_progress_at=now)
            trace(case, "dispatch", f"{user}（{org}）：确认凭证 {v.number}，开始调解", user, waiting, mediating)
        else:
            trace(case, "dispatch", f"{user}（{org}）：确认凭证 {v.number}", user)
        notify([order.awarded_by], "system", f"凭证已确认：{order.title}",
               f"{org} 已确认发单 {order.number} 的确认凭证，开始调解。", case)
    return v


def notify_awarding_staff(case_id: int, state: str) -> int:
    """The third party submitted something for review (the case entered a review state while its
    order is 已选定/调解中): tell the staff member who awarded it — the district reviews
    dispatched work, while the workflow's own notice goes to the nearest reviewer level."""
    order = (DispatchOrder.objects.filter(case_id=case_id, state__in=["awarded", "mediating"])
             .select_related("case", "awarded_by", "awarded_org").first())
    if order is None or order.awarded_by is None:
        return 0
    try:
        review = workflow(order.case).state(state).review
    except ActionRefused:
        return 0
    if not review:
        return 0
    return notify([order.awarded_by], "review", f"待审核：{case_label(order.case)}",
                  f"{order.awarded_org} 提交了发单 {order.number} 的调解结果，请审核。", order.case)


# --- completion (the case's result passed review) ----------------------------------------------
def sync_completion(case_ids) -> int:
    """Orders in 已选定/调解中 whose case reached a closed workflow state (e.g. 已调解 after the
    result review) become 已完成. Called after commit for every changed case (dispatch.signals)."""
    done = 0
    orders = DispatchOrder.objects.filter(case_id__in=list(case_ids), state__in=["awarded", "mediating"]) \
        .select_related("case")
    for order in orders:
        case = order.case
        if case.status == case_dispatched():
            continue
        try:
            closed = workflow(case).state(case.status).closed
        except (ActionRefused, KeyError):
            continue
        if not closed:
            continue
        with transaction.atomic():
            if DispatchOrder.objects.filter(pk=order.pk, state__in=["awarded", "mediating"]).update(
                    state="completed", completed_at=timezone.now()):
                trace(case, "dispatch", f"发单 {order.number} 调解完成")
                done += 1
    return done
