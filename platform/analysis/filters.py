"""The controls every analysis view shares: the period (this month / quarter / year / a custom
range) with the previous period of the same length, the region (within the user's scope) and
an optional drill value (one dimension = one value). Bad input → ``FilterError`` with a
Chinese message (the views answer 400 with it)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.utils import timezone

from accounts.scope import region_prefix

RANGES = {"month": "本月", "quarter": "本季度", "year": "本年", "custom": "自定义"}
MAX_DAYS = 3 * 366


class FilterError(ValueError):
    pass


class NoScope(PermissionError):
    pass


@dataclass
class Filters:
    range: str
    start: dt.date            # inclusive
    end: dt.date              # inclusive
    region: object            # orgs.Region or None (the whole scope of a superuser)
    prefix: str               # region path prefix every row must start with ('' = all)
    params: dict = field(default_factory=dict)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def prev_start(self) -> dt.date:
        return self.start - dt.timedelta(days=self.days)

    @property
    def prev_end(self) -> dt.date:
        return self.start - dt.timedelta(days=1)

    def bounds(self, previous: bool = False) -> tuple[dt.datetime, dt.datetime]:
        s, e = (self.prev_start, self.prev_end) if previous else (self.start, self.end)
        return (timezone.make_aware(dt.datetime.combine(s, dt.time.min)),
                timezone.make_aware(dt.datetime.combine(e + dt.timedelta(days=1), dt.time.min)))

    def query(self, **extra) -> str:
        """The same filters as a query string (drill-through links, exports)."""
        base = {"range": self.range, "region": self.region.pk if self.region else ""}
        if self.range == "custom":
            base.update(start=self.start.isoformat(), end=self.end.isoformat())
        base.update({k: v for k, v in extra.items() if v not in (None, "")})
        return urlencode({k: v for k, v in base.items() if v != ""})

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m-%d} 至 {self.end:%Y-%m-%d}"

    @property
    def prev_label(self) -> str:
        return f"{self.prev_start:%Y-%m-%d} 至 {self.prev_end:%Y-%m-%d}"


def user_prefix(user) -> str:
    """'' for a superuser (everything), the user's region path, or NoScope: the analysis counts
    regions, so users outside the region tree (departments, third parties) have none."""
    if not (user.is_authenticated and user.is_active):
        raise NoScope("请先登录")
    if not user.has_perm("cases.view_case"):
        raise NoScope("您没有查看案件分析的权限")
    if user.is_superuser:
        return ""
    prefix = region_prefix(user)
    if not prefix:
        raise NoScope("研判分析按区域统计，您的账号不属于任何区域，无权查看")
    return prefix


def _date(raw: str, label: str) -> dt.date:
    try:
        value = dt.date.fromisoformat(raw.strip())
    except (ValueError, AttributeError):
        raise FilterError(f"{label}“{str(raw)[:20]}”不是有效日期（格式：2026-01-31）") from None
    if not 2000 <= value.year <= 2100:
        raise FilterError(f"{label}超出可查询范围（2000—2100 年）")
    return value


def parse(request) -> Filters:
    from orgs.models import Region

    scope = user_prefix(request.user)
    get = request.GET
    if any("\x00" in v for vs in get.lists() for v in vs[1]):
        raise FilterError("查询参数含有非法字符")
    rng = get.get("range") or "month"
    if rng not in RANGES:
        raise FilterError(f"时间范围“{rng[:20]}”无效，可选：本月、本季度、本年、自定义")
    today = timezone.localdate()
    if rng == "month":
        start, end = today.replace(day=1), today
    elif rng == "quarter":
        start, end = today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1), today
    elif rng == "year":
        start, end = today.replace(month=1, day=1), today
    else:
        start, end = _date(get.get("start", ""), "开始日期"), _date(get.get("end", ""), "结束日期")
        if end < start:
            raise FilterError("结束日期不能早于开始日期")
        if (end - start).days >= MAX_DAYS:
            raise FilterError("自定义时间范围不能超过 3 年")
    region = None
    raw = get.get("region") or ""
    if raw:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
            raise FilterError("区域参数无效")
        region = Region.objects.filter(pk=int(raw)).first()
        if region is None or not region.path.startswith(scope):
            raise FilterError("所选区域不存在或不在您的管辖范围内")
    elif scope:
        region = Region.objects.filter(path=scope).first()
    prefix = region.path if region is not None else scope
    return Filters(range=rng, start=start, end=end, region=region, prefix=prefix, params=dict(get.items()))


def region_choices(user) -> list[tuple[int, str, int]]:
    """(id, name, level) of the regions the selector offers: the user's subtree, by path."""
    from orgs.models import Region

    scope = user_prefix(user)
    qs = Region.objects.filter(path__startswith=scope) if scope else Region.objects.all()
    return list(qs.order_by("path").values_list("pk", "name", "level")[:2000])
