"""The region tree (区 ⊃ 街道/镇 ⊃ 社区/村 ⊃ 网格) and organisations.

Regions carry a materialised path ("330106/330106001/…/") so "this region and everything
below it" is one indexed prefix filter on any database."""
from __future__ import annotations

from django.db import models


class Region(models.Model):
    class Level(models.IntegerChoices):
        """The one place region levels are named: code compares levels through these, never
        through bare numbers (a lower number is a higher level)."""
        DISTRICT = 1, "区"
        STREET = 2, "街道/镇"
        COMMUNITY = 3, "社区/村"
        GRID = 4, "网格"

    # A case belongs to a community or a grid: where cases are registered and handled first.
    CASE_LEVEL = Level.COMMUNITY
    # Ranks of users beside the tree: a superuser acts above the district; a user without a
    # region (a third party) below every level.
    ABOVE_ALL = 0
    BELOW_ALL = 99

    code = models.CharField("区划代码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("层级", choices=Level.choices)
    parent = models.ForeignKey("self", verbose_name="上级", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    path = models.CharField("路径", max_length=255, db_index=True, editable=False)
    sort = models.IntegerField("排序", default=0)
    # centre for the 案件地图 (a case without a matched address is placed here)
    lng = models.FloatField("中心经度", null=True, blank=True)
    lat = models.FloatField("中心纬度", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "区域"
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.path = (self.parent.path if self.parent_id else "") + self.code + "/"
        super().save(*args, **kwargs)

    @property
    def holds_cases(self) -> bool:
        """Whether a case may belong to this region (community or grid)."""
        return self.level >= self.CASE_LEVEL

    @property
    def full_name(self) -> str:
        names, node = [], self
        while node is not None:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class Organization(models.Model):
    class Kind(models.TextChoices):
        GOVERNMENT = "gov", "党政机关/矛调中心"
        STREET = "street", "街道综治中心"
        COMMITTEE = "committee", "人民调解委员会"
        DEPARTMENT = "dept", "职能部门"
        THIRD_PARTY = "third", "第三方调解组织"

    name = models.CharField("名称", max_length=128, unique=True)
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    region = models.ForeignKey(Region, verbose_name="所属区域", on_delete=models.PROTECT,
                               related_name="organizations")
    contact = models.CharField("联系人", max_length=32, blank=True)
    is_active = models.BooleanField("启用", default=True)

    class Meta:
        verbose_name = verbose_name_plural = "组织机构"
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name
