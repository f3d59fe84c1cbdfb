"""django-q2 entry point: the daily re-evaluation of every case and person (schedule
"升级预警每日研判", created by migration escalation.0002 or ``evaluate_warnings --install-schedule``).
Daily because facts move with time alone: 超期天数 grows, reports fall out of the N-day window."""
from __future__ import annotations

SCHEDULE_NAME = "升级预警每日研判"
SCHEDULE_FUNC = "extensions.escalation.tasks.evaluate_daily"


def evaluate_daily(now=None) -> dict:
    from cases.tasks import parse_moment
    from extensions.escalation.evaluate import evaluate_all

    return evaluate_all(parse_moment(now) if now else None).as_dict()


def ensure_schedule() -> bool:
    from django.utils import timezone
    from django_q.models import Schedule

    _, created = Schedule.objects.get_or_create(name=SCHEDULE_NAME, defaults={
        "func": SCHEDULE_FUNC, "schedule_type": Schedule.DAILY, "repeats": -1, "next_run": timezone.now()})
    return created
