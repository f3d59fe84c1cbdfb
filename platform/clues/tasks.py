"""django-q2 task entry points for aggregation (the worker: ``python manage.py qcluster``):
the scheduled pulls and the background ingest of admin uploads.

The schedule "拉取外部渠道数据" → ``clues.tasks.pull_all`` every 15 minutes is created by the
migration ``clues.0002_pullstate_pull_schedule`` (or ``ensure_schedule()`` where migrations were
faked). The endpoint contract is in clues/pull.py."""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

SCHEDULE_NAME = "拉取外部渠道数据"
SCHEDULE_FUNC = "clues.tasks.pull_all"
SCHEDULE_MINUTES = 15


def enqueue(func: str, *args, name: str) -> bool:
    """Queue one of these tasks for the worker — or run it in the request when
    ``settings.INGEST_UPLOAD_SYNC`` (tests, a setup without a worker). False when the queue cannot
    be reached (logged; the caller tells the user)."""
    from django.conf import settings
    from django_q.tasks import async_task

    try:
        async_task(func, *args, task_name=name[:100], sync=bool(getattr(settings, "INGEST_UPLOAD_SYNC", False)))
    except Exception:  # noqa: BLE001 — the queue is unreachable
        logger.exception("could not queue %s %s", func, args)
        return False
    return True


def pull_all() -> dict[str, dict]:
    """Pull every enabled channel that has a pull address. Returns {source key: result} (the
    task's result as django-q2 stores it: plain JSON-able values)."""
    from clues import pull

    return {r.channel: r.as_dict() for r in pull.pull_all()}


def pull_channel(key: str) -> dict:
    from clues import pull

    return pull.pull_channel(key).as_dict()


def ensure_schedule() -> bool:
    """Create the 15-minute schedule unless it exists (by name); True if it was created."""
    from django.utils import timezone
    from django_q.models import Schedule

    _, created = Schedule.objects.get_or_create(name=SCHEDULE_NAME, defaults={
        "func": SCHEDULE_FUNC, "schedule_type": Schedule.MINUTES, "minutes": SCHEDULE_MINUTES,
        "repeats": -1, "next_run": timezone.now()})
    return created


def ingest_upload(batch_id: int) -> dict:
    """An admin upload, in the background (clues.uploads)."""
    from clues import uploads

    return uploads.run(batch_id)


def reclean_channel(source: str, user_id: int | None = None) -> dict:
    """「按新规则重新清洗」 of the cleaning-rule screen, in the background."""
    from django.contrib.auth import get_user_model

    from clues.ingest import reclean

    user = get_user_model().objects.filter(pk=user_id).first() if user_id else None
    return reclean(source, user=user).counts
