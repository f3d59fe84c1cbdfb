"""典型案例 (proposals → review → library), the 调解案例 search index, the 基层减负 Q&A knowledge
base and 重点事 (key matters). Everything a user reads here about a case is anonymised: the
write-up is checked against the case's parties before it is saved, and the index is built from
anonymised text only (library.anonymise)."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class TypicalCase(models.Model):
    """A closed case proposed as typical. ``status`` follows the Workflow metadata of the entity
    ``typical_case`` (metadata/workflows.yaml); ``level`` is the proposer's region level, and the
    review is decided above it (like the case reviews)."""

    case = models.ForeignKey("cases.Case", verbose_name="案件", on_delete=models.PROTECT,
                             related_name="typical_proposals")
    status = models.CharField("状态", max_length=32, blank=True, db_index=True)
    level = models.PositiveSmallIntegerField("推荐层级")
    typical_level = models.CharField("典型级别", max_length=32, blank=True, db_index=True)  # dictionary typical_level
    title = models.CharField("案例标题", max_length=200)
    reason = models.TextField("推荐理由", max_length=2000)
    writeup = models.TextField("案例材料（已匿名）", max_length=20000)
    case_type = models.CharField("纠纷类型", max_length=64, blank=True, db_index=True)
    mediation_type = models.CharField("调解类型", max_length=64, blank=True)
    tags = models.JSONField("标签", default=list, blank=True)
    method = models.CharField("调解方法", max_length=200, blank=True)
    legal_basis = models.TextField("法律依据", max_length=2000, blank=True)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False, default="")
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="推荐人", null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    proposed_at = models.DateTimeField("推荐时间", default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    opinion = models.TextField("审核意见", blank=True)
    approved_at = models.DateTimeField("入库时间", null=True, blank=True, db_index=True)
    extra = models.JSONField("扩展字段", default=dict, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "典型案例"
        ordering = ["-proposed_at", "-pk"]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        if self.region_id and not self.region_path:
            self.region_path = self.region.path
        super().save(*args, **kwargs)


class SearchDoc(models.Model):
    """One searchable document: an approved typical case, a closed case, or a Q&A entry. Only
    anonymised text is stored. Plain tables (no backend full-text search): SQLite, PostgreSQL and
    Dameng run the same queries."""

    KINDS = [("typical", "典型案例"), ("case", "已办结案件"), ("qa", "问答")]
    kind = models.CharField("类别", max_length=8, choices=KINDS)
    ref_id = models.BigIntegerField("对象编号")
    region_path = models.CharField("区域路径", max_length=255, blank=True, default="")
    case_type = models.CharField("纠纷类型", max_length=64, blank=True)
    mediation_type = models.CharField("调解类型", max_length=64, blank=True)
    tags = models.CharField("标签", max_length=500, blank=True, default="")  # "|a|b|" for a portable contains
    title = models.CharField("标题", max_length=200)
    summary = models.CharField("摘要", max_length=500, blank=True)
    length = models.PositiveIntegerField("词数", default=0)

    class Meta:
        verbose_name = verbose_name_plural = "检索文档"
        constraints = [models.UniqueConstraint(fields=["kind", "ref_id"], name="library_doc_kind_ref")]


class SearchToken(models.Model):
    """Inverted index: one row per (token, document), with the document's kind and region copied
    so a query reads the index alone before scoring."""

    token = models.CharField("词", max_length=32)
    doc = models.ForeignKey(SearchDoc, on_delete=models.CASCADE, related_name="tokens", db_constraint=True)
    kind = models.CharField("类别", max_length=8)
    region_path = models.CharField("区域路径", max_length=255, blank=True, default="")
    weight = models.FloatField("权重")

    class Meta:
        verbose_name = verbose_name_plural = "检索词"
        indexes = [models.Index(fields=["token", "kind"], name="library_token_kind")]


class QACategory(models.Model):
    name = models.CharField("分类名称", max_length=50, unique=True)
    sort = models.PositiveIntegerField("排序", default=100)

    class Meta:
        verbose_name = verbose_name_plural = "问答分类"
        ordering = ["sort", "pk"]

    def __str__(self) -> str:
        return self.name


class QAEntry(models.Model):
    """基层减负 Q&A, maintained by the district; ``source`` leaves room for a pulled channel."""

    category = models.ForeignKey(QACategory, verbose_name="分类", on_delete=models.PROTECT, related_name="entries")
    question = models.CharField("问题", max_length=300)
    answer = models.TextField("答案", max_length=5000)
    synonyms = models.CharField("同义词", max_length=500, blank=True, help_text="用顿号、逗号或空格分隔，如：减负、减轻负担")
    enabled = models.BooleanField("启用", default=True)
    source = models.CharField("来源", max_length=32, default="local", editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "基层减负问答"
        ordering = ["category__sort", "pk"]
        constraints = [models.UniqueConstraint(fields=["category", "question"], name="library_qa_unique_question")]

    def __str__(self) -> str:
        return self.question


class KeyMatter(models.Model):
    """重点事: a case followed up as a key matter (level, responsible leader, reason); visits are
    allowed on it while it is open (cases.actions.may_visit)."""

    STATES = [("open", "管控中"), ("closed", "已销号")]
    case = models.OneToOneField("cases.Case", verbose_name="案件", on_delete=models.PROTECT, related_name="key_matter")
    level = models.CharField("重点级别", max_length=32)  # dictionary key_matter_level
    leader = models.CharField("包案领导", max_length=50)
    reason = models.TextField("列为重点事的原因", max_length=2000)
    state = models.CharField("状态", max_length=8, choices=STATES, default="open", db_index=True)
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False, default="")
    marked_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="标记人", null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    marked_at = models.DateTimeField("标记时间", default=timezone.now)
    closed_at = models.DateTimeField("销号时间", null=True, blank=True)
    close_note = models.TextField("销号说明", blank=True, max_length=2000)

    class Meta:
        verbose_name = verbose_name_plural = "重点事"
        ordering = ["state", "-marked_at"]

    def __str__(self) -> str:
        return f"重点事：{self.case.title}"
