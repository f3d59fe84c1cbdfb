"""Small charts on the 工作台 (issue 18): a 30-day trend and two distributions of the cases in the
user's scope, as tables in the shape of the 研判 views ({key, title, chart, columns, rows}) drawn by
mdtj/minichart.js. Kept apart from ``cases.workbench`` (the indicator counts): a few grouped
queries, cached per user for a few minutes."""
from __future__ import annotations

import datetime as dt

from django.core.cache import cache
from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from cases import states, workbench
from lowcode.registry import get_dictionary

TREND_DAYS = 30
TOP_TYPES = 7
CACHE_SECONDS = 300


def chart(key: str, title: str, kind: str, columns: list[str], rows: list[list]) -> dict:
    return {"key": key, "data_id": f"chart-data-{key}", "title": title, "chart": kind, "columns": columns,
            "rows": rows}


def top_rows(pairs: list[tuple[str, int]], top: int = TOP_TYPES) -> list[list]:
    """Largest first; the tail summed as 其他."""
    pairs = sorted(pairs, key=lambda p: (-p[1], p[0]))
    rows = [[label, n] for label, n in pairs[:top]]
    rest = sum(n for _, n in pairs[top:])
    return rows + ([["其他", rest]] if rest else [])


def _label(dictionary: str, code: str) -> str:
    items = get_dictionary(dictionary)
    return items[code].label if code in items else (code or "未填")


def trend(cases, now: dt.datetime) -> dict:
    today = timezone.localdate(now)
    start = today - dt.timedelta(days=TREND_DAYS - 1)
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    closed = Q(status__in=states.closed_states())
    by_day = {row["day"]: row for row in cases.filter(registered_at__gte=since)
              .annotate(day=TruncDate("registered_at", tzinfo=timezone.get_current_timezone()))
              .values("day").annotate(n=Count("pk"), done=Count("pk", filter=closed)).order_by()}
    rows = []
    for i in range(TREND_DAYS):
        day = start + dt.timedelta(days=i)
        row = by_day.get(day, {})
        rows.append([day.strftime("%m-%d"), row.get("n", 0), row.get("done", 0)])
    return chart("trend", f"近{TREND_DAYS}天登记趋势", "line", ["日期", "登记", "其中已办结"],
                 rows if any(r[1] for r in rows) else [])


def by_type(cases, period) -> dict:
    counts = (cases.filter(registered_at__gte=period.start, registered_at__lt=period.end)
              .values_list("case_type").annotate(n=Count("pk")).order_by())
    return chart("types", f"{period.label}案件类型分布", "pie", ["案件类型", "件数"],
                 top_rows([(_label("case_type", code), n) for code, n in counts]))


def by_status(cases) -> dict:
    counts = dict(cases.filter(status__in=states.open_states()).values_list("status").annotate(n=Count("pk"))
                  .order_by())
    rows = [[_label("case_status", code), counts[code]] for code in sorted(counts, key=lambda c: -counts[c])]
    return chart("status", "在办案件状态分布", "bar", ["状态", "件数"], rows)


def charts(user, period, now: dt.datetime | None = None) -> list[dict]:
    now = now or timezone.now()
    key = f"mdtj:wbcharts:{user.pk}:{period.code}:{timezone.localdate(now)}"
    found = cache.get(key)
    if found is None:
        cases = workbench.scoped_cases(user)
        found = [trend(cases, now), by_type(cases, period), by_status(cases)]
        cache.set(key, found, CACHE_SECONDS)
    return found
