"""django-q2 entry point: 考核评价每日计算 — the current month (open, recomputed daily) and the
previous month (computed once when it has just ended; never recomputed silently once closed)."""
from __future__ import annotations

SCHEDULE_NAME = "考核评价每日计算"
SCHEDULE_FUNC = "assessment.tasks.compute_daily"


def compute_daily(today=None) -> dict:
    import datetime as dt

    from django.utils import timezone

    from assessment import compute, periods
    from assessment.models import Snapshot

    today = dt.date.fromisoformat(today) if isinstance(today, str) else today
    current = periods.containing("month", today or timezone.localdate())
    done = {}
    for period in (current.previous(), current):
        closed = set(Snapshot.objects.filter(period_kind=period.kind, period_key=period.key, status="closed")
                     .values_list("dimension", flat=True))
        dims = [d for d in ("mediator", "community", "street", "dept", "third") if d not in closed]
        if dims:
            compute.compute_period(period, dims, today=today)
        done[period.key] = dims
    return done


def ensure_schedule() -> bool:
    from django.utils import timezone
    from django_q.models import Schedule

    _, created = Schedule.objects.get_or_create(name=SCHEDULE_NAME, defaults={
        "func": SCHEDULE_FUNC, "schedule_type": Schedule.DAILY, "repeats": -1, "next_run": timezone.now()})
    return created
