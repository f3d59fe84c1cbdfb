"""考核期间: 月 (2026-11), 季 (2026-Q4), 年 (2026). Half-open date ranges [start, end)."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import timezone

KIND_LABELS = {"month": "月", "quarter": "季", "year": "年"}


class PeriodError(ValueError):
    """A period the user typed that is not one (message in Chinese)."""


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date  # exclusive

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start.year}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return f"{self.start.year}年{self.start.month}月"
        if self.kind == "quarter":
            return f"{self.start.year}年第{(self.start.month - 1) // 3 + 1}季度"
        return f"{self.start.year}年"

    def bounds(self) -> tuple[dt.datetime, dt.datetime]:
        tz = timezone.get_current_timezone()
        return (dt.datetime.combine(self.start, dt.time(), tz), dt.datetime.combine(self.end, dt.time(), tz))

    def has_ended(self, today: dt.date | None = None) -> bool:
        return self.end <= (today or timezone.localdate())

    def previous(self) -> "Period":
        return containing(self.kind, self.start - dt.timedelta(days=1))

    def __str__(self) -> str:
        return self.label


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    return dt.date(d.year + y, m + 1, 1)


def containing(kind: str, day: dt.date) -> Period:
    if kind == "month":
        start = day.replace(day=1)
        return Period(kind, start, _add_months(start, 1))
    if kind == "quarter":
        start = dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(kind, start, _add_months(start, 3))
    if kind == "year":
        return Period(kind, dt.date(day.year, 1, 1), dt.date(day.year + 1, 1, 1))
    raise PeriodError(f"未知的期间类型：{kind}（可用：月 month、季 quarter、年 year）")


def last_month(today: dt.date | None = None) -> Period:
    return containing("month", today or timezone.localdate()).previous()


def parse(key: str) -> Period:
    """``2026-11`` → month, ``2026-Q4`` → quarter, ``2026`` → year."""
    key = (key or "").strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", key):
            return containing("month", dt.date(int(m[1]), int(m[2]), 1))
        if m := re.fullmatch(r"(\d{4})-[Qq]([1-4])", key):
            return containing("quarter", dt.date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1))
        if m := re.fullmatch(r"(\d{4})", key):
            return containing("year", dt.date(int(m[1]), 1, 1))
    except ValueError:
        pass
    raise PeriodError(f"期间格式不正确：{key[:20]}（月如 2026-11，季如 2026-Q4，年如 2026）")


def parse_checked(key: str) -> Period:
    p = parse(key)
    if not (1900 <= p.start.year <= timezone.localdate().year + 1):
        raise PeriodError("期间超出可考核的范围")
    return p
