"""Rollups behind the 研判 views: daily counts per (region × the case's core dimensions), per tag
and per party group. Maintained per bucket (one day of one region) by ``analysis.rollup`` from
signals and the records_changed hook; ``manage.py analysis_rebuild`` rebuilds them whole. They
hold counts only — nothing identifying."""
from __future__ import annotations

from django.db import models


class CaseDaily(models.Model):
    day = models.DateField("登记日期")
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.CASCADE,
                               related_name="+", db_constraint=False)
    region_path = models.CharField("区域路径", max_length=255)
    case_type = models.CharField("案件类型", max_length=64)
    mediation_type = models.CharField("调解类型", max_length=64, blank=True)
    source = models.CharField("案件来源", max_length=32)
    status = models.CharField("案件状态", max_length=32)
    level = models.PositiveSmallIntegerField("处理层级")
    # the case's MediationResult: outcome, handling time band; '' without a result
    outcome = models.CharField("调解结果", max_length=32, blank=True)
    days_band = models.CharField("办理用时", max_length=16, blank=True)
    n = models.PositiveIntegerField("案件数")
    days_sum = models.FloatField("办理天数合计", default=0)   # over the cases with a result
    on_time = models.PositiveIntegerField("按期办结数", default=0)  # result submitted by the deadline

    class Meta:
        verbose_name = verbose_name_plural = "案件日汇总"
        indexes = [
            models.Index(fields=["day", "region_path"], name="an_case_day_scope"),
            models.Index(fields=["region_path", "day"], name="an_case_scope_day",
                         opclasses=["varchar_pattern_ops", "date_ops"]),
            models.Index(fields=["region", "day"], name="an_case_bucket"),
        ]


class TagDaily(models.Model):
    day = models.DateField("登记日期")
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.CASCADE,
                               related_name="+", db_constraint=False)
    region_path = models.CharField("区域路径", max_length=255)
    tag = models.CharField("标签", max_length=64)
    n = models.PositiveIntegerField("案件数")

    class Meta:
        verbose_name = verbose_name_plural = "标签日汇总"
        indexes = [models.Index(fields=["day", "region_path"], name="an_tag_day_scope"),
                   models.Index(fields=["region", "day"], name="an_tag_bucket")]


class PartyDaily(models.Model):
    """Parties of the cases registered that day: age band at registration, sex, person or
    organisation. Derived from the non-identifying columns (Party.birth_year, Party.sex)."""

    day = models.DateField("登记日期")
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.CASCADE,
                               related_name="+", db_constraint=False)
    region_path = models.CharField("区域路径", max_length=255)
    party_kind = models.CharField("主体类型", max_length=32)
    age_band = models.CharField("年龄段", max_length=16, blank=True)
    sex = models.CharField("性别", max_length=1, blank=True)
    n = models.PositiveIntegerField("当事人数")

    class Meta:
        verbose_name = verbose_name_plural = "当事人日汇总"
        indexes = [models.Index(fields=["day", "region_path"], name="an_party_day_scope"),
                   models.Index(fields=["region", "day"], name="an_party_bucket")]
