"""Row-level scope for dispatch rows — every query of orders, bids and vouchers goes through here
(the case side is ``accounts.scope``, which includes the cases granted by an award).

- District staff (``dispatch.view_dispatchorder`` function permission): orders of cases in their
  region subtree (the order copies the case's ``region_path``).
- Third-party users (their organisation's kind is 第三方调解组织): open orders (未开始/报名中 — the
  order carries only masked text), their sign-ups (mediator: own; org admin: the organisation's),
  and the orders awarded to their own organisation. Nothing else."""
from __future__ import annotations

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import roles
from accounts.scope import scope_q
from dispatch.models import Bid, DispatchOrder, Voucher, phase_q
from orgs.models import Organization

def third_party_org(user):
    """The user's third-party organisation (active), or None."""
    if not (user.is_authenticated and user.is_active):
        return None
    org = getattr(user, "organization", None)
    if org is None or org.kind != Organization.Kind.THIRD_PARTY or not org.is_active:
        return None
    return org


def is_third_party(user) -> bool:
    return third_party_org(user) is not None


def is_org_admin(user) -> bool:
    return is_third_party(user) and roles.has_role(user, roles.TP_ADMIN)


def staff_orders(user, qs: QuerySet | None = None) -> QuerySet:
    """竞选管理 / 已中选案件: orders of cases in the staff member's region subtree."""
    qs = DispatchOrder.objects.all() if qs is None else qs
    if is_third_party(user) or not user.has_perm("dispatch.view_dispatchorder"):
        return qs.none()
    q = scope_q(user, "region_path")
    return qs if q is None else qs.filter(q)


def open_orders(user, qs: QuerySet | None = None, now=None) -> QuerySet:
    """The bid pool: orders 未开始/报名中 (masked fields only), for third-party users."""
    qs = DispatchOrder.objects.all() if qs is None else qs
    if not is_third_party(user):
        return qs.none()
    now = now or timezone.now()
    return qs.filter(phase_q("not_started", now) | phase_q("bidding", now))


def own_bids(user, qs: QuerySet | None = None) -> QuerySet:
    """Sign-ups: a mediator's own; an org admin's whole organisation's."""
    qs = Bid.objects.all() if qs is None else qs
    org = third_party_org(user)
    if org is None:
        return qs.none()
    if is_org_admin(user):
        return qs.filter(organization=org)
    return qs.filter(organization=org, mediator=user)


def awarded_orders(user, qs: QuerySet | None = None) -> QuerySet:
    """Orders awarded to the user's organisation (已选定/调解中/已完成; never a withdrawn one)."""
    qs = DispatchOrder.objects.all() if qs is None else qs
    org = third_party_org(user)
    if org is None:
        return qs.none()
    return qs.filter(awarded_org=org, state__in=["awarded", "mediating", "completed"])


def visible_orders(user, qs: QuerySet | None = None) -> QuerySet:
    """Any order the user may open: staff scope, or for third parties open ∪ own bids ∪ awarded."""
    qs = DispatchOrder.objects.all() if qs is None else qs
    if not is_third_party(user):
        return staff_orders(user, qs)
    now = timezone.now()
    org = third_party_org(user)
    bid_orders = own_bids(user).values("order_id")
    return qs.filter(phase_q("not_started", now) | phase_q("bidding", now) | Q(pk__in=bid_orders)
                     | Q(awarded_org=org, state__in=["awarded", "mediating", "completed"]))


def visible_vouchers(user, qs: QuerySet | None = None) -> QuerySet:
    """Vouchers: staff in scope; third parties only their own organisation's (not revoked ones' cases
    stay listed as 已作废 for the organisation's records)."""
    qs = Voucher.objects.all() if qs is None else qs
    org = third_party_org(user)
    if org is not None:
        return qs.filter(organization=org)
    return qs.filter(order__in=staff_orders(user))
