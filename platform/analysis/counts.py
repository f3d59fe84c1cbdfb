"""Grouped sums over the rollups for a period and region scope: whole months from the monthly
table, the edge days from the daily one (analysis.periods.plan), one small grouped query each,
merged here. Every figure reads the rollups through ``rows``/``total``."""
from __future__ import annotations

import datetime as dt

from django.db.models import F, Q, Sum

from analysis import datacache, models
from analysis.periods import plan

TABLES = {"case": (models.CaseDaily, models.CaseMonthly), "tag": (models.TagDaily, models.TagMonthly),
          "party": (models.PartyDaily, models.PartyMonthly)}


def _parts(kind: str, start: dt.date, end: dt.date, prefix: str, where: Q | None, by_day: bool):
    """The querysets that together hold the period exactly once. ``by_day``: day rows only (a
    per-day series needs the days)."""
    daily, monthly = TABLES[kind]
    days, months = ([(start, end)], None) if by_day else plan(start, end)
    parts = [daily.objects.filter(day__gte=a, day__lte=b) for a, b in days]
    if months:  # ``day`` names the month's first day here, so callers may group by it either way
        parts.append(monthly.objects.filter(month__gte=months[0], month__lte=months[1]).annotate(day=F("month")))
    if prefix:
        parts = [qs.filter(region_path__startswith=prefix) for qs in parts]
    if where is not None:
        parts = [qs.filter(where) for qs in parts]
    return [qs.order_by() for qs in parts]


def rows(kind: str, f, fields, sums=("n",), previous: bool = False, where: Q | None = None,
         by_day: bool = False) -> list[tuple]:
    """[(*fields values, *sums)] grouped by ``fields`` over the filters' period (or the previous
    one) — what ``values_list(*fields).annotate(n=Sum("n"), …)`` gives on one table."""
    s, e = (f.prev_start, f.prev_end) if previous else (f.start, f.end)
    # the rollups change only through a refresh, which bumps the cache version: exact, and a
    # figure many district users open at once is summed once
    return datacache.cached("rows", [kind, s, e, f.prefix, list(fields), list(sums), str(where), by_day],
                            lambda: _rows(kind, s, e, f.prefix, fields, sums, where, by_day))


def _rows(kind, s, e, prefix, fields, sums, where, by_day) -> list[tuple]:
    merged: dict[tuple, list] = {}
    for qs in _parts(kind, s, e, prefix, where, by_day):
        for row in qs.values_list(*fields).annotate(**{f"_{x}": Sum(x) for x in sums}):
            key, vals = row[:len(fields)], row[len(fields):]
            acc = merged.get(key)
            if acc is None:
                merged[key] = [v or 0 for v in vals]
            else:
                for i, v in enumerate(vals):
                    acc[i] += v or 0
    return [(*key, *vals) for key, vals in merged.items()]


def total(kind: str, f, previous: bool = False, where: Q | None = None) -> int:
    s, e = (f.prev_start, f.prev_end) if previous else (f.start, f.end)
    return datacache.cached("total", [kind, s, e, f.prefix, str(where)], lambda: sum(
        qs.aggregate(n=Sum("n"))["n"] or 0 for qs in _parts(kind, s, e, f.prefix, where, False)))
