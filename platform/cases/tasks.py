"""django-q2 task entry points (the worker: ``python manage.py qcluster``).

The hourly schedule "检查办理时限与催办" → ``cases.tasks.check_deadlines`` is created by the
migration ``cases.0004_check_deadlines_schedule`` (or ``manage.py check_deadlines
--install-schedule`` where migrations were faked, e.g. 达梦 with a DBA-run DDL script)."""
from __future__ import annotations

import datetime as dt

SCHEDULE_NAME = "检查办理时限与催办"
SCHEDULE_FUNC = "cases.tasks.check_deadlines"


def check_deadlines(now: str | dt.datetime | None = None) -> dict[str, int]:
    """Overdue cases, review reminders and escalations, stale cases (see cases.chasing)."""
    from cases import chasing

    return chasing.check_all(parse_moment(now) if now else None)


def parse_moment(value: str | dt.datetime) -> dt.datetime:
    """An ISO 8601 date or time; without an offset it is local time (Asia/Shanghai)."""
    from django.utils import timezone

    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).strip())
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def ensure_schedule() -> bool:
    """Create the hourly schedule unless it exists (by name); True if it was created."""
    from django.utils import timezone
    from django_q.models import Schedule

    _, created = Schedule.objects.get_or_create(name=SCHEDULE_NAME, defaults={
        "func": SCHEDULE_FUNC, "schedule_type": Schedule.HOURLY, "repeats": -1, "next_run": timezone.now()})
    return created
