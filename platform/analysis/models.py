"""Rollups behind the 研判 views: counts per (region × the case's core dimensions), per tag and
per party group — by day (the ``…Daily`` tables) and by calendar month (the ``…Monthly`` twins,
derived from the day rows of that month and region whenever they change). A period reads whole
months from the monthly tables and edge days from the daily ones (analysis.periods). Maintained
per bucket (one day of one region) by ``analysis.rollup`` from signals and the records_changed
hook; ``manage.py analysis_rebuild`` rebuilds them whole. They hold counts only — nothing
identifying."""
from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from lowcode.models import MetaRecord


class CaseCounts(models.Model):
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
        abstract = True


class TagCounts(models.Model):
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.CASCADE,
                               related_name="+", db_constraint=False)
    region_path = models.CharField("区域路径", max_length=255)
    tag = models.CharField("标签", max_length=64)
    n = models.PositiveIntegerField("案件数")

    class Meta:
        abstract = True


class PartyCounts(models.Model):
    """Parties of the cases registered in the bucket: age band at registration, sex, person or
    organisation. Derived from the non-identifying columns (Party.birth_year, Party.sex)."""

    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.CASCADE,
                               related_name="+", db_constraint=False)
    region_path = models.CharField("区域路径", max_length=255)
    party_kind = models.CharField("主体类型", max_length=32)
    age_band = models.CharField("年龄段", max_length=16, blank=True)
    sex = models.CharField("性别", max_length=1, blank=True)
    n = models.PositiveIntegerField("当事人数")

    class Meta:
        abstract = True


class CaseDaily(CaseCounts):
    day = models.DateField("登记日期")

    class Meta:
        verbose_name = verbose_name_plural = "案件日汇总"
        indexes = [
            models.Index(fields=["day", "region_path"], name="an_case_day_scope"),
            models.Index(fields=["region_path", "day"], name="an_case_scope_day",
                         opclasses=["varchar_pattern_ops", "date_ops"]),
            models.Index(fields=["region", "day"], name="an_case_bucket"),
        ]


class TagDaily(TagCounts):
    day = models.DateField("登记日期")

    class Meta:
        verbose_name = verbose_name_plural = "标签日汇总"
        indexes = [models.Index(fields=["day", "region_path"], name="an_tag_day_scope"),
                   models.Index(fields=["region", "day"], name="an_tag_bucket")]


class PartyDaily(PartyCounts):
    day = models.DateField("登记日期")

    class Meta:
        verbose_name = verbose_name_plural = "当事人日汇总"
        indexes = [models.Index(fields=["day", "region_path"], name="an_party_day_scope"),
                   models.Index(fields=["region", "day"], name="an_party_bucket")]


class CaseMonthly(CaseCounts):
    month = models.DateField("登记月份")  # the month's first day

    class Meta:
        verbose_name = verbose_name_plural = "案件月汇总"
        indexes = [
            models.Index(fields=["month", "region_path"], name="an_case_month_scope"),
            models.Index(fields=["region_path", "month"], name="an_case_scope_month",
                         opclasses=["varchar_pattern_ops", "date_ops"]),
            models.Index(fields=["region", "month"], name="an_case_mbucket"),
        ]


class TagMonthly(TagCounts):
    month = models.DateField("登记月份")

    class Meta:
        verbose_name = verbose_name_plural = "标签月汇总"
        indexes = [models.Index(fields=["month", "region_path"], name="an_tag_month_scope"),
                   models.Index(fields=["region", "month"], name="an_tag_mbucket")]


class PartyMonthly(PartyCounts):
    month = models.DateField("登记月份")

    class Meta:
        verbose_name = verbose_name_plural = "当事人月汇总"
        indexes = [models.Index(fields=["month", "region_path"], name="an_party_month_scope"),
                   models.Index(fields=["region", "month"], name="an_party_mbucket")]


class HelpDaily(models.Model):
    """求助 per (day requested, the case's region, kind, case type, the case's outcome) with the
    decisions of the case's reviews of that kind (counted on its latest request of the kind).
    Kept with the case's bucket (case_day, region): a write to a help request, review or result
    announces the case (cases.signals), which refreshes that bucket."""

    case_day = models.DateField("案件登记日期")
    day = models.DateField("求助日期")
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.CASCADE,
                               related_name="+", db_constraint=False)
    region_path = models.CharField("区域路径", max_length=255)
    kind = models.CharField("求助方式", max_length=16)
    case_type = models.CharField("案件类型", max_length=64)
    outcome = models.CharField("调解结果", max_length=32, blank=True)
    n = models.PositiveIntegerField("求助数")
    decided = models.PositiveIntegerField("已审批数", default=0)
    approved = models.PositiveIntegerField("批准数", default=0)
    waited = models.PositiveIntegerField("有审批用时数", default=0)
    wait_hours = models.FloatField("审批用时合计（小时）", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "求助日汇总"
        indexes = [models.Index(fields=["day", "region_path"], name="an_help_day_scope"),
                   models.Index(fields=["region", "case_day"], name="an_help_bucket")]


class PartyRef(models.Model):
    """One row per party with an ID number of the bucket's cases (its blind index, not the
    number): 重复涉案当事人 groups these by blind index instead of joining parties to cases."""

    day = models.DateField("登记日期")
    region = models.ForeignKey("orgs.Region", verbose_name="区域", on_delete=models.CASCADE,
                               related_name="+", db_constraint=False)
    region_path = models.CharField("区域路径", max_length=255)
    bidx = models.CharField("身份证号盲索引", max_length=64)
    case_id = models.BigIntegerField("案件")

    class Meta:
        verbose_name = verbose_name_plural = "当事人盲索引"
        indexes = [models.Index(fields=["day", "region_path"], name="an_pref_day_scope", include=["bidx", "case_id"]),
                   models.Index(fields=["region", "day"], name="an_pref_bucket")]


# --- 常用视图 (metadata kind "analysis_views") ---------------------------------------------------
VIEW_PAGES = [("cockpit", "总体分析"), ("cases", "案件分析"), ("help", "求助分析"), ("map", "案件地图")]
# the filter parameters a saved view may hold (analysis.filters reads them); a region is kept by
# its 区划代码 so a view travels between installations
VIEW_PARAMS = ("range", "start", "end", "region_code", "dim", "value", "kpi", "warning")


class SavedView(MetaRecord):
    """A named analysis view — a page with its filters — that everyone with the analysis opens from
    the view bar (e.g. 本年婚姻家庭纠纷、本季度群体性纠纷). Shipped ones in metadata/analysis/views.yaml;
    a business admin adds and edits them in the admin or saves the view on screen."""

    code = models.SlugField("编码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=64)
    page = models.CharField("页面", max_length=16, choices=VIEW_PAGES, default="cockpit")
    params = models.JSONField("筛选条件", default=dict, blank=True,
                              help_text="时间范围 range（month/quarter/year/custom，custom 时填 start、end）、区域 region_code（区划代码）、"
                                        "维度 dim 与取值 value、指标 kpi、预警 warning")
    description = models.CharField("说明", max_length=200, blank=True)
    sort = models.IntegerField("排序", default=100)
    enabled = models.BooleanField("启用", default=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("code", "name", "page", "params", "description", "sort", "enabled")

    class Meta:
        verbose_name = verbose_name_plural = "常用分析视图"
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        if not isinstance(self.params, dict):
            raise ValidationError({"params": "筛选条件应为键值对象"})
        unknown = sorted(set(self.params) - set(VIEW_PARAMS))
        if unknown:
            raise ValidationError({"params": f"不认识的筛选条件：{'、'.join(unknown)}（可用：{'、'.join(VIEW_PARAMS)}）"})
        bad = [k for k, v in self.params.items() if not isinstance(v, (str, int)) or len(str(v)) > 64]
        if bad:
            raise ValidationError({"params": f"筛选条件取值应为不超过 64 字的文字：{'、'.join(bad)}"})
        rng = self.params.get("range", "month")
        if rng not in ("month", "quarter", "year", "custom"):
            raise ValidationError({"params": "时间范围 range 只能是 month、quarter、year 或 custom"})
        if rng == "custom" and not (self.params.get("start") and self.params.get("end")):
            raise ValidationError({"params": "自定义时间范围须同时填写 start 和 end（如 2026-01-01）"})
