"""Per-case object permissions (django-guardian, direct-FK ``CaseUserObjectPermission``) for the
users of the awarded organisation: ``cases.view_case`` and ``cases.change_case``.

Per user rather than per group, so no technical group shows up among the roles. Membership is
kept exact by ``sync_member`` (called when a user is saved — dispatch.signals): a mediator added
later gets the organisation's awarded cases, one who leaves or moves loses them.
``accounts.scope`` adds the granted cases to every case query."""
from __future__ import annotations

from django.contrib.auth.models import Permission

from dispatch.models import CaseUserObjectPermission, DispatchOrder

CASE_PERMS = ("view_case", "change_case")
GRANTED_STATES = ("awarded", "mediating", "completed")


def _perms() -> list[Permission]:
    return list(Permission.objects.filter(content_type__app_label="cases", codename__in=CASE_PERMS))


def _grant(users, case_ids) -> None:
    perms = _perms()
    have = set(CaseUserObjectPermission.objects.filter(user__in=users, content_object_id__in=case_ids)
               .values_list("user_id", "content_object_id", "permission_id"))
    CaseUserObjectPermission.objects.bulk_create([
        CaseUserObjectPermission(user=u, content_object_id=cid, permission=p)
        for u in users for cid in case_ids for p in perms if (u.pk, cid, p.pk) not in have])


def grant_case(org, case) -> None:
    _grant(list(org.users.all()), [case.pk])


def revoke_case(org, case) -> None:
    """Every grant on the case goes: a withdrawn order leaves no third party with access."""
    CaseUserObjectPermission.objects.filter(content_object=case, permission__codename__in=CASE_PERMS).delete()


def sync_member(user) -> None:
    """Make ``user``'s case grants exactly the cases awarded to their third-party organisation."""
    org = getattr(user, "organization", None)
    wanted = set()
    if org is not None and org.kind == "third":
        wanted = set(DispatchOrder.objects.filter(awarded_org=org, state__in=GRANTED_STATES)
                     .values_list("case_id", flat=True))
    held = CaseUserObjectPermission.objects.filter(user=user, permission__codename__in=CASE_PERMS)
    stale = held.exclude(content_object_id__in=wanted)
    if stale.exists():
        stale.delete()
    if wanted:
        _grant([user], sorted(wanted))
