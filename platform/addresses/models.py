"""统一地址库: the standard addresses of the district.

A ``StandardAddress`` is one official address (a door, a building or a room) with its region
(the finest known: grid, else community, else street), the street/community/grid codes, and
coordinates. ``key`` is the normalised key (``addresses.normalize``) the matcher looks up; the
parsed components are kept in columns (for search and filters) and in ``components``.
"""
from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from addresses import normalize
from orgs.models import Region


def region_chain(region: Region | None) -> list[Region]:
    """``region`` and its ancestors, root first."""
    chain = []
    while region is not None:
        chain.append(region)
        region = region.parent
    return list(reversed(chain))


class StandardAddress(models.Model):
    text = models.CharField("标准地址", max_length=255, unique=True)
    key = models.CharField("规范化地址键", max_length=255, db_index=True, editable=False,
                           help_text="由标准地址自动生成，用于精确匹配")
    road = models.CharField("道路", max_length=64, blank=True, editable=False)
    number = models.CharField("门牌号", max_length=16, blank=True, editable=False)
    estate = models.CharField("小区/建筑物", max_length=64, blank=True, editable=False, db_index=True)
    building = models.CharField("幢", max_length=16, blank=True, editable=False)
    unit = models.CharField("单元", max_length=16, blank=True, editable=False)
    room = models.CharField("室", max_length=16, blank=True, editable=False)
    components = models.JSONField("地址要素", default=dict, blank=True, editable=False)
    region = models.ForeignKey(Region, verbose_name="所属区域", on_delete=models.PROTECT,
                               related_name="standard_addresses",
                               help_text="已知的最细一级：网格，否则社区/村，否则街道/镇")
    street_code = models.CharField("街道编码", max_length=32, blank=True, db_index=True)
    community_code = models.CharField("社区编码", max_length=32, blank=True, db_index=True)
    grid_code = models.CharField("网格编码", max_length=32, blank=True, db_index=True)
    longitude = models.DecimalField("经度", max_digits=10, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    source = models.CharField("来源", max_length=128, blank=True)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True, db_index=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "components"])

    class Meta:
        verbose_name = verbose_name_plural = "标准地址"
        ordering = ["street_code", "community_code", "key"]
        indexes = [models.Index(fields=["road", "number"], name="addr_road_number")]

    def __str__(self) -> str:
        return self.text

    # -- derived fields ------------------------------------------------------------------
    def vocabulary(self) -> normalize.Vocabulary:
        chain = region_chain(self.region) if self.region_id else []
        return normalize.Vocabulary(regions=[r.name for r in chain if r.level > Region.Level.DISTRICT],
                                    prefixes=[r.name for r in chain if r.level == Region.Level.DISTRICT])

    def refresh_derived(self, vocab: normalize.Vocabulary | None = None) -> normalize.Components:
        """Recompute key, components and region codes from ``text`` and ``region``."""
        self.text = normalize.to_halfwidth(self.text or "").strip()
        parsed = normalize.parse(self.text, vocab or self.vocabulary())
        self.key = parsed.key[:255]
        self.road, self.number, self.estate = parsed.road[:64], parsed.number[:16], parsed.estate[:64]
        self.building, self.unit, self.room = parsed.building[:16], parsed.unit[:16], parsed.room[:16]
        self.components = parsed.as_dict()
        if self.region_id:
            codes = {r.level: r.code for r in region_chain(self.region)}
            self.street_code = codes.get(Region.Level.STREET, "")
            self.community_code = codes.get(Region.Level.COMMUNITY, "")
            self.grid_code = codes.get(Region.Level.GRID, "")
        return parsed

    def save(self, *args, **kwargs):
        self.refresh_derived()
        super().save(*args, **kwargs)

    @property
    def street_name(self) -> str:
        return self._level_name(Region.Level.STREET)

    @property
    def community_name(self) -> str:
        return self._level_name(Region.Level.COMMUNITY)

    def _level_name(self, level: int) -> str:
        for r in region_chain(self.region) if self.region_id else []:
            if r.level == level:
                return r.name
        return ""
