"""Demo 考核评价: snapshots of the last six months for every dimension (ranking pages, rank
change, 考核分析 trends and the H5 个人中心 card show data at once). Re-running recomputes only
the periods not yet computed (closed periods are never recomputed silently)."""
from __future__ import annotations

from assessment import compute, periods
from assessment.models import Snapshot


def seed_assessment(months: int = 6) -> int:
    period = periods.last_month()
    todo = []
    for _ in range(months):
        todo.append(period)
        period = period.previous()
    made = 0
    for p in reversed(todo):  # oldest first: each month's rank change reads the month before
        if Snapshot.objects.filter(period_kind=p.kind, period_key=p.key).exists():
            continue
        made += len(compute.compute_period(p))
    return made
