"""Sending and reading notices. Later channels (政钉) hang off ``notify``."""
from __future__ import annotations

from typing import Iterable

from django.utils import timezone

from notices.models import Notice


def notify(recipients: Iterable, kind: str, title: str, body: str = "", case=None) -> int:
    users = {u.pk: u for u in recipients if u is not None and u.is_active}
    Notice.objects.bulk_create([Notice(recipient=u, kind=kind, title=title, body=body, case=case)
                                for u in users.values()])
    return len(users)


def unread_count(user) -> int:
    return Notice.objects.filter(recipient=user, read_at__isnull=True).count()


def mark_read(user, notice_ids=None) -> int:
    qs = Notice.objects.filter(recipient=user, read_at__isnull=True)
    if notice_ids is not None:
        qs = qs.filter(pk__in=list(notice_ids))
    return qs.update(read_at=timezone.now())
