"""Every notice a user receives is also sent as a 政钉 工作通知 when the user is bound to 政钉
(notices.actions fires ``notices_sent``). One WorkNotice row per notice: ``biz_msg_id`` is the
gateway's dedupe key, so a retry after a lost answer never sends twice. A failed send is retried
with exponential backoff (``retry_due``, run every minute by the schedule and by
``manage.py zzd_notices``) and given up after MAX_ATTEMPTS; the notice in the system is never
affected by 政钉 being down."""
from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from integrations.http import IntegrationError
from integrations.models import ExternalAccount, ExternalSystem, WorkNotice
from lowcode import hooks

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
RETRY_BASE = dt.timedelta(minutes=1)


def on_notices_sent(ids=(), **_):
    from notices.models import Notice

    system = ExternalSystem.objects.filter(kind=ExternalSystem.ZZD, enabled=True).order_by("pk").first()
    if system is None or not ids:
        return
    notices = list(Notice.objects.filter(pk__in=list(ids)).only("pk", "recipient_id"))
    bound = dict(ExternalAccount.objects.filter(system=system, user_id__in={n.recipient_id for n in notices})
                 .values_list("user_id", "external_id"))
    rows = [WorkNotice(notice_id=n.pk, system=system, receiver=bound[n.recipient_id], biz_msg_id=f"mdtj-{n.pk}")
            for n in notices if n.recipient_id in bound]
    WorkNotice.objects.bulk_create(rows, ignore_conflicts=True)
    deliver(WorkNotice.objects.filter(notice_id__in=[r.notice_id for r in rows], status="pending"))


hooks.subscribe("notices_sent", on_notices_sent, queued=True)


def deliver(queryset) -> dict:
    """Send the given work notices (each at most once successfully). Returns counts."""
    from integrations.zzd import Client

    counts = {"sent": 0, "failed": 0, "gave_up": 0}
    client = None
    for wn in queryset.select_related("notice", "system"):
        now = timezone.now()
        wn.attempts += 1
        try:
            client = client or Client(wn.system)
            wn.message_id = client.work_notice(wn.receiver, wn.biz_msg_id, wn.notice.title, wn.notice.body)[:128]
            wn.status, wn.sent_at, wn.last_error = "sent", now, ""
        except IntegrationError as exc:
            if "bizMsgId" in str(exc) and "重复" in str(exc):  # sent before, the answer was lost
                wn.status, wn.sent_at, wn.last_error = "sent", now, ""
            else:
                wn.last_error = str(exc)[:500]
                wn.status = "gave_up" if wn.attempts >= MAX_ATTEMPTS else "failed"
                wn.next_try_at = now + RETRY_BASE * (2 ** (wn.attempts - 1))
        counts[wn.status] = counts.get(wn.status, 0) + 1
        wn.save()
    return counts


def retry_due(now=None) -> dict:
    now = now or timezone.now()
    due = list(WorkNotice.objects.filter(status__in=["pending", "failed"], next_try_at__lte=now)
               .order_by("pk").values_list("pk", flat=True)[:500])
    return deliver(WorkNotice.objects.filter(pk__in=due).order_by("pk"))
