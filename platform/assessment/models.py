"""考核评价.

Metadata a business admin edits (MetaRecord: shipped defaults in metadata/assessment/indicators.yaml,
site changes kept on upgrade, history with revert):
    Indicator       a formula over facts of one dimension, normalised, capped, weighted

Results (written by ``assessment.compute``; never edited by hand):
    Snapshot        one dimension × one period (月/季/年): the indicators used and when computed
    SnapshotRow     one unit's facts, indicator values and scores, total, rank and previous rank
    RecomputeLog    every explicit recompute of a closed period (who, when, why)

Entered by people:
    Adjustment      加减分项 with evidence, approved one level up
    PaddingFlag     a case that looks padded (near-identical to another of the same person), out of
                    the scoring until a reviewer clears it
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from lowcode.models import MetaRecord

DIMENSIONS = [("mediator", "调解员"), ("community", "社区"), ("street", "街道"), ("dept", "部门"), ("third", "第三方")]
DIMENSION_LABELS = dict(DIMENSIONS)
DIRECTIONS = [("higher", "越高越好"), ("lower", "越低越好")]
NORMALISATIONS = [("target", "目标值（达标满分）"), ("minmax", "最小–最大"), ("rank", "排名百分位"),
                  ("saturating", "饱和（边际递减）")]
PERIOD_KINDS = [("month", "月"), ("quarter", "季"), ("year", "年")]
PERIOD_CHOICES = [("any", "月/季/年均适用")] + PERIOD_KINDS


class Indicator(MetaRecord):
    code = models.SlugField("编码", max_length=64, unique=True)
    name = models.CharField("指标名称", max_length=64)
    dimension = models.CharField("考核对象", max_length=16, choices=DIMENSIONS)
    formula = models.CharField(
        "计算公式（表达式）", max_length=500,
        help_text="用事实名称写表达式，如 成功率、min(登记数, 30)、件均日志数 * 10；可用的事实见下方说明")
    weight = models.FloatField("权重", default=1, help_text="各指标得分按权重加权平均（权重之和不必为 1）")
    direction = models.CharField("方向", max_length=8, choices=DIRECTIONS, default="higher")
    normalisation = models.CharField("标准化方法", max_length=16, choices=NORMALISATIONS, default="target")
    target = models.FloatField("目标值", null=True, blank=True,
                               help_text="目标值法：达到即满分；饱和法：得 50 分的值（越多越接近 100，不会超过）")
    worst = models.FloatField("最差值", null=True, blank=True,
                              help_text="目标值法：得 0 分的值（越高越好时默认 0；越低越好时必填，如 30 天）")
    cap = models.FloatField("封顶值", null=True, blank=True,
                            help_text="计算值超过封顶值按封顶值计（防止刷量，数量类指标建议设置）")
    period = models.CharField("适用期间", max_length=8, choices=PERIOD_CHOICES, default="any")
    sort = models.IntegerField("排序", default=0)
    enabled = models.BooleanField("启用", default=True)
    description = models.CharField("说明", max_length=255, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("code", "name", "dimension", "formula", "weight", "direction", "normalisation", "target",
                   "worst", "cap", "period", "sort", "enabled", "description")

    class Meta:
        verbose_name = verbose_name_plural = "考核指标"
        ordering = ["dimension", "sort", "code"]

    def __str__(self) -> str:
        return f"{self.get_dimension_display()}：{self.name}"

    def clean(self):
        from assessment.scoring import validate_indicator

        errors = validate_indicator(self)
        if errors:
            raise ValidationError(errors)

    def spec(self) -> dict:
        from assessment.scoring import spec_of

        return spec_of(self)


class Snapshot(models.Model):
    STATUSES = [("open", "本期进行中"), ("closed", "已关闭")]
    dimension = models.CharField("考核对象", max_length=16, choices=DIMENSIONS)
    period_kind = models.CharField("期间类型", max_length=8, choices=PERIOD_KINDS)
    period_key = models.CharField("期间", max_length=16, help_text="如 2026-11、2026-Q4、2026")
    start = models.DateField("开始日期")
    end = models.DateField("结束日期（不含）")
    status = models.CharField("状态", max_length=8, choices=STATUSES, default="open")
    indicators = models.JSONField("所用指标", default=list)
    unit_count = models.PositiveIntegerField("对象数", default=0)
    computed_at = models.DateTimeField("计算时间", default=timezone.now)
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="计算人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    recomputed = models.PositiveIntegerField("重算次数", default=0)
    seconds = models.FloatField("耗时（秒）", default=0)
    # What the stored rows of an open period were scored with (metadata version + approved 加减分):
    # when it differs from now, the rows are re-scored once and written back, so every ranking page
    # is paged and scoped by the database instead of re-ranking all units per request.
    scored_with = models.CharField("评分依据", max_length=64, blank=True, default="", editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "考核快照"
        ordering = ["-start", "dimension"]
        constraints = [models.UniqueConstraint(fields=["dimension", "period_kind", "period_key"],
                                               name="assessment_snapshot_unique_period")]

    def __str__(self) -> str:
        return f"{self.get_dimension_display()}考核 {self.period_key}"

    @property
    def closed(self) -> bool:
        return self.status == "closed"


class SnapshotRow(models.Model):
    snapshot = models.ForeignKey(Snapshot, verbose_name="快照", on_delete=models.CASCADE, related_name="rows")
    unit_key = models.CharField("对象标识", max_length=64)
    unit_name = models.CharField("对象", max_length=200)
    region_path = models.CharField("区域路径", max_length=255, default="", db_index=True)
    facts = models.JSONField("事实", default=dict)
    values = models.JSONField("指标值与得分", default=dict)
    manual = models.FloatField("加减分", default=0)
    score = models.FloatField("总分", default=0)
    rank = models.PositiveIntegerField("排名", default=0)
    prev_rank = models.PositiveIntegerField("上期排名", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "考核结果"
        ordering = ["snapshot", "rank", "unit_name"]
        indexes = [models.Index(fields=["snapshot", "rank"], name="assessment_row_rank")]
        constraints = [models.UniqueConstraint(fields=["snapshot", "unit_key"], name="assessment_row_unique_unit")]

    def __str__(self) -> str:
        return f"{self.unit_name} {self.score}"


class RecomputeLog(models.Model):
    snapshot = models.ForeignKey(Snapshot, verbose_name="快照", on_delete=models.CASCADE, related_name="recomputes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField("时间", default=timezone.now)
    reason = models.CharField("原因", max_length=300)
    changed_units = models.PositiveIntegerField("得分变化的对象数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "已关闭期间重算记录"
        ordering = ["-at"]


def evidence_path(instance, filename: str) -> str:
    return f"assessment/{timezone.now():%Y/%m}/{filename}"


class Adjustment(models.Model):
    """加减分项: entered with evidence by the unit's own level or above, approved one level up."""

    STATUSES = [("pending", "待审核"), ("approved", "已通过"), ("rejected", "已驳回")]
    dimension = models.CharField("考核对象", max_length=16, choices=DIMENSIONS)
    unit_key = models.CharField("对象标识", max_length=64)
    unit_name = models.CharField("对象", max_length=200)
    region_path = models.CharField("区域路径", max_length=255, default="", db_index=True)
    period_key = models.CharField("期间", max_length=16, help_text="如 2026-11")
    points = models.FloatField("分值", help_text="加分为正，减分为负，单项 -20 至 20")
    reason = models.CharField("事由", max_length=300)
    evidence = models.FileField("证明材料", upload_to=evidence_path)
    status = models.CharField("状态", max_length=8, choices=STATUSES, default="pending", db_index=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="录入人", null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    entered_at = models.DateTimeField("录入时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    opinion = models.CharField("审核意见", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "加减分项"
        ordering = ["-entered_at"]

    def __str__(self) -> str:
        return f"{self.unit_name} {self.points:+g}（{self.reason}）"


class PaddingFlag(models.Model):
    """A case near-identical to another registered by the same person (疑似凑数): excluded from
    the scoring until a reviewer clears it."""

    STATUSES = [("flagged", "待复核（不计分）"), ("cleared", "已复核（计分）")]
    case = models.OneToOneField("cases.Case", verbose_name="案件", on_delete=models.CASCADE,
                                related_name="padding_flag")
    similar_to = models.ForeignKey("cases.Case", verbose_name="相似案件", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", null=True,
                               on_delete=models.SET_NULL, related_name="+")
    similarity = models.FloatField("文本相似度")
    region_path = models.CharField("区域路径", max_length=255, default="", db_index=True)
    status = models.CharField("状态", max_length=8, choices=STATUSES, default="flagged", db_index=True)
    flagged_at = models.DateTimeField("发现时间", default=timezone.now)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="复核人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField("复核时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "疑似凑数案件"
        ordering = ["-flagged_at"]

    def __str__(self) -> str:
        return f"{self.case_id} ≈ {self.similar_to_id}"


class MediatorProfile(models.Model):
    """调解力量 roster: one mediator's specialty, qualification and certificates."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name="调解员", on_delete=models.CASCADE,
                                related_name="mediator_profile")
    specialty = models.CharField("擅长领域", max_length=200, blank=True, help_text="如 婚姻家庭、劳动争议")
    qualification = models.CharField("资格/职称", max_length=100, blank=True, help_text="如 一级人民调解员、律师")
    certificates = models.TextField("证书", blank=True, max_length=2000, help_text="每行一个：证书名称、编号、发证日期")
    region_path = models.CharField("区域路径", max_length=255, default="", db_index=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "调解员名册"
        ordering = ["region_path", "user__username"]

    def __str__(self) -> str:
        return str(self.user)

    def save(self, *args, **kwargs):
        self.region_path = self.user.region.path if self.user.region_id else ""
        super().save(*args, **kwargs)


class TrainingRecord(models.Model):
    """培训记录 with hours: feeds the 培训学时 fact of the mediator's assessment."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="调解员", on_delete=models.CASCADE,
                             related_name="training_records")
    title = models.CharField("培训名称", max_length=200)
    held_on = models.DateField("培训日期")
    hours = models.DecimalField("学时", max_digits=5, decimal_places=1)
    organiser = models.CharField("主办单位", max_length=100, blank=True)
    region_path = models.CharField("区域路径", max_length=255, default="", db_index=True, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "培训记录"
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return f"{self.user} {self.title} {self.hours} 学时"

    def clean(self):
        if self.hours is not None and not (0 < self.hours <= 100):
            raise ValidationError({"hours": "学时须在 0 至 100 之间"})

    def save(self, *args, **kwargs):
        self.region_path = self.user.region.path if self.user.region_id else ""
        super().save(*args, **kwargs)
