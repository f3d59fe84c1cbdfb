"""Sending and reading notices. Later channels (政钉) hang off ``notify``.

One rule on both ends (finding 3 of the assessment): a notice about a case reaches only someone who
may see that case — checked when it is sent (one query for all recipients) and again when it is
read (the mediator moved, the case's region changed, a referral was withdrawn since). Titles and
bodies name the case by number and type, never by party (callers use ``case_label``)."""
from __future__ import annotations

from typing import Iterable

from django.db.models import Q
from django.utils import timezone

from accounts.scope import case_viewers_q, scope_q
from lowcode import hooks
from notices.models import Notice

CASE_PERMISSION = ("cases", "view_case")


def case_label(case) -> str:
    """How a notice names a case: number and type (the title often names the parties)."""
    from lowcode.registry import get_dictionary

    types = get_dictionary("case_type")
    kind = types[case.case_type].label if case.case_type in types else case.case_type
    return f"{case.exchange_id}（{kind}）" if kind else case.exchange_id


def _has_case_right() -> Q:
    from django.contrib.auth.models import Permission

    app_label, codename = CASE_PERMISSION
    perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).values("pk")
    return Q(is_superuser=True) | Q(user_permissions__in=perm) | Q(groups__permissions__in=perm)


def may_see_case(users: Iterable, case) -> set[int]:
    """Ids of ``users`` who may open ``case`` now (function right + row scope), in one query."""
    from django.contrib.auth import get_user_model

    ids = [u.pk for u in users]
    if not ids:
        return set()
    return set(get_user_model().objects.filter(pk__in=ids).filter(case_viewers_q(case)).filter(_has_case_right())
               .values_list("pk", flat=True).distinct())


# reminders about a case (超期, 催办, 无进展): a recipient holds at most one unread about each case
REMINDER_KINDS = ("overdue", "remind")


def notify(recipients: Iterable, kind: str, title: str, body: str = "", case=None, *, digest: bool = False) -> int:
    """Send a notice to each recipient (who may see ``case``). ``digest``: a reminder — a recipient
    who still holds an unread reminder about the same case gets that one brought up to date and to
    the top instead of a second one (one per case until read; the message box is not flooded)."""
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    if case is not None and users:
        allowed = may_see_case(users.values(), case)
        users = {pk: u for pk, u in users.items() if pk in allowed}
    if digest and case is not None and users:
        held = Notice.objects.filter(case=case, recipient_id__in=list(users), kind__in=REMINDER_KINDS,
                                     read_at__isnull=True)
        refreshed = set(held.values_list("recipient_id", flat=True))
        if refreshed:
            held.update(kind=kind, title=title, body=body, created_at=timezone.now())
            users = {pk: u for pk, u in users.items() if pk not in refreshed}
        if not users:
            return len(refreshed)
    created = Notice.objects.bulk_create([Notice(recipient=u, kind=kind, title=title, body=body, case=case)
                                          for u in users.values()])
    if created:  # other channels (政钉 工作通知, integrations.notices) subscribe; they run after commit
        hooks.fire("notices_sent", ids=[n.pk for n in created if n.pk is not None])
    return len(users)


def readable_q(user) -> Q | None:
    """The user's notices they may still read: those without a case, and those whose case is in
    their scope now. None: all of them (superuser)."""
    if not user.has_perm(".".join(CASE_PERMISSION)):
        return Q(case__isnull=True)
    q = scope_q(user, "case__region_path", Notice)
    return None if q is None else Q(case__isnull=True) | q


def readable(user, queryset=None):
    """``queryset`` (default: all notices) narrowed to the user's own readable notices."""
    qs = (Notice.objects.all() if queryset is None else queryset).filter(recipient=user)
    q = readable_q(user)
    return qs if q is None else qs.filter(q)


def unread_count(user) -> int:
    return readable(user).filter(read_at__isnull=True).count()


def mark_read(user, notice_ids=None, kind: str | None = None) -> int:
    """Mark the user's own unread notices read: the given ones, or all (of one ``kind``)."""
    qs = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=list(notice_ids))
    if kind:
        qs = qs.filter(kind=kind)
    return qs.update(read_at=timezone.now())


def unread_by_kind(user) -> list[tuple[str, str, int]]:
    """(kind, label, unread count) for every kind, in the order of Notice.KINDS — the inbox tabs."""
    from django.db.models import Count

    counts = dict(readable(user).filter(read_at__isnull=True).values_list("kind").annotate(n=Count("id"))
                  .order_by())
    return [(code, label, counts.get(code, 0)) for code, label in Notice.KINDS]
