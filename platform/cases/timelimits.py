"""Handling time limits: each case type's ``time_limit_days`` (dictionary item attrs, inherited
from the parent type) gives a case its deadline."""
from __future__ import annotations

import datetime as dt

from lowcode.registry import get_meta

DEFAULT_DAYS_ATTR = "time_limit_days"


def time_limit_days(case_type: str) -> int | None:
    meta = get_meta("case")
    items = meta.dictionaries.get("case_type", {})
    code = case_type
    while code and code in items:
        days = items[code].attrs.get(DEFAULT_DAYS_ATTR)
        if days:
            return int(days)
        code = items[code].parent
    return None


def deadline_for(case_type: str, registered_at: dt.datetime) -> dt.datetime | None:
    days = time_limit_days(case_type)
    return registered_at + dt.timedelta(days=days) if days else None
