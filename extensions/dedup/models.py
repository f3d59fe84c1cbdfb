"""重复案件研判 — tables of the duplicate-case model.

    Signature  one row per case / clue: what the matcher compares (blind indexes, names,
               address, text shingles, report time). Derived data: rebuilt from the records.
    Block      blocking keys of a signature (64-bit hashes) with the report day, so finding the
               candidates of one record is a few index range scans, never a table scan.
    Pair       a verdict (same / similar) between two records with its score and reasons, and the
               staff decision (proposed / confirmed / rejected). Keyed by record keys so decisions
               survive a rebuild; a rejected pair is never proposed again.
    DedupGroup 一件事档案: records confirmed "same" linked into one file (links only — no source
               record is changed or lost, so a wrong merge can be split again).
    DedupSettings  thresholds, weights and windows — metadata a business admin edits.
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from lowcode.models import MetaRecord

KINDS = [("case", "案件"), ("clue", "线索")]
VERDICTS = [("same", "同一案件"), ("similar", "相似案件")]
STATUSES = [("proposed", "待确认"), ("confirmed", "已确认"), ("rejected", "已否决")]


class DedupSettings(MetaRecord):
    """One record (code "default"); shipped values in ``metadata/dedup/default.yaml``."""

    code = models.SlugField("编码", max_length=32, unique=True, default="default")
    name = models.CharField("名称", max_length=64, default="重复案件研判参数")
    same_threshold = models.FloatField("同一案件阈值", help_text="得分不低于此值判为同一案件（0~1）")
    similar_threshold = models.FloatField("相似案件阈值", help_text="得分不低于此值判为相似案件（0~1）")
    same_window_days = models.PositiveIntegerField("同一案件时间窗（天）",
                                                   help_text="两次反映相隔超过此天数不再判为同一案件")
    similar_window_days = models.PositiveIntegerField("相似案件时间窗（天）",
                                                      help_text="只在此天数内寻找相似案件")
    weights = models.JSONField("权重", default=dict,
                               help_text="各项证据的权重，见出厂值说明（text、amount、type、address、employer 等）")
    person_scores = models.JSONField("当事人匹配强度", default=dict,
                                     help_text="证件号码、电话、脱敏电话、姓名等匹配时的强度（0~1）")
    stop_phrases = models.JSONField("忽略的套话", default=list, blank=True,
                                    help_text="比较文本前去掉的套话，例：来电人称、报警人、要求处理")
    max_candidates = models.PositiveIntegerField("每条记录最多比较", default=400,
                                                 help_text="每条记录最多取多少条候选记录打分（控制速度）")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("code", "name", "same_threshold", "similar_threshold", "same_window_days",
                   "similar_window_days", "weights", "person_scores", "stop_phrases", "max_candidates")

    class Meta:
        verbose_name = verbose_name_plural = "重复研判参数"

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from django.core.exceptions import ValidationError

        errors = {}
        for f in ("same_threshold", "similar_threshold"):
            v = getattr(self, f)
            if v is None or not 0 < v <= 1:
                errors[f] = "阈值应在 0 到 1 之间（不含 0）"
        if not errors and self.similar_threshold > self.same_threshold:
            errors["similar_threshold"] = "相似案件阈值不能高于同一案件阈值"
        from extensions.dedup.score import PERSON_SCORES, WEIGHTS

        for f, needed in (("weights", WEIGHTS), ("person_scores", PERSON_SCORES)):
            v = getattr(self, f)
            if not isinstance(v, dict) or any(not isinstance(x, (int, float)) or x < 0 for x in v.values()):
                errors[f] = "应为 {名称: 非负数字} 的对象"
            elif missing := [k for k in needed if k not in v]:
                errors[f] = "缺少：" + "、".join(missing) + "（每一项都要有值，见出厂值说明）"
        if not isinstance(self.stop_phrases, list) or any(not isinstance(x, str) for x in self.stop_phrases):
            errors["stop_phrases"] = "应为文字列表"
        if errors:
            raise ValidationError(errors)


class DedupGroup(models.Model):
    """一件事档案."""

    name = models.CharField("档案名称", max_length=200)
    region_path = models.CharField("区域路径", max_length=255, db_index=True, default="", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "一件事档案"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class GroupMember(models.Model):
    group = models.ForeignKey(DedupGroup, verbose_name="档案", on_delete=models.CASCADE, related_name="members")
    key = models.CharField("记录标识", max_length=100, unique=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    added_at = models.DateTimeField("加入时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "档案记录"
        ordering = ["group", "added_at", "id"]

    def __str__(self) -> str:
        return self.key


class Signature(models.Model):
    key = models.CharField("记录标识", max_length=100, unique=True)
    kind = models.CharField("类别", max_length=8, choices=KINDS)
    obj_id = models.IntegerField("记录号")
    channel = models.CharField("来源", max_length=32)
    region_path = models.CharField("区域路径", max_length=255, default="", blank=True, db_index=True)
    case_type = models.CharField("案件类型", max_length=64, blank=True)
    reported_at = models.DateTimeField("反映时间", null=True, blank=True)
    day = models.IntegerField("反映日（序号）", default=0)
    title = models.CharField("标题", max_length=200, blank=True)
    # matching evidence; party lists hold blind indexes / masked forms only, never plaintext IDs
    parties = models.JSONField("当事人特征", default=list, blank=True)
    address = models.CharField("规整地址", max_length=255, blank=True)
    places = models.JSONField("地址特征", default=list, blank=True)  # [key, door, estate, community]
    address_id = models.IntegerField("标准地址", null=True, blank=True)
    employers = models.JSONField("涉及单位", default=list, blank=True)
    amounts = models.JSONField("金额/数量", default=list, blank=True)
    shingles = models.TextField("文本特征", blank=True)
    updated_at = models.DateTimeField("计算时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "研判特征"
        indexes = [models.Index(fields=["kind", "obj_id"], name="dedup_sig_obj")]

    def __str__(self) -> str:
        return self.key


class Block(models.Model):
    key = models.BigIntegerField("分块键")
    day = models.IntegerField("反映日")
    # no database constraint: rebuild COPYs millions of rows (an FK trigger per row would
    # dominate); the engine deletes a signature's blocks itself
    sig = models.ForeignKey(Signature, on_delete=models.DO_NOTHING, related_name="+", db_index=False,
                            db_constraint=False)

    class Meta:
        verbose_name = verbose_name_plural = "分块键"
        indexes = [models.Index(fields=["key", "day", "sig"], name="dedup_block_key_day"),
                   models.Index(fields=["sig"], name="dedup_block_sig")]


def common_path(a: str, b: str) -> str:
    """The deepest region path holding both region paths ("" when either is unlocated): the
    common prefix cut back to a whole segment (paths are "330106/330106001/…/"), so that a user
    with prefix P sees both records exactly when this starts with P."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return a[:a.rfind("/", 0, n) + 1]


# PostgreSQL form of ``common_path`` for set-based updates (%(a)s / %(b)s: the two path columns):
# the longest prefix of a ending in "/" that b starts with
COMMON_PATH_SQL = ("COALESCE((SELECT left(%(a)s, i) FROM generate_series(length(%(a)s), 1, -1) i "
                   "WHERE substr(%(a)s, i, 1) = '/' AND left(%(b)s, i) = left(%(a)s, i) LIMIT 1), '')")


class Pair(models.Model):
    """Always stored with a_key < b_key. ``scope_path`` is derived (``common_path`` of both
    records' region paths), kept by the engine, so the list's row scope is one indexed prefix
    match instead of an IN over every visible signature (issue 18)."""

    a_key = models.CharField("记录A", max_length=100)
    b_key = models.CharField("记录B", max_length=100, db_index=True)
    verdict = models.CharField("研判结果", max_length=8, choices=VERDICTS)
    score = models.FloatField("得分")
    reasons = models.JSONField("理由", default=list)
    status = models.CharField("状态", max_length=10, choices=STATUSES, default="proposed", db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)
    updated_at = models.DateTimeField("研判时间", default=timezone.now)
    scope_path = models.CharField("共同区域", max_length=255, default="", blank=True, db_index=True)

    class Meta:
        verbose_name = "重复研判结果"
        verbose_name_plural = "重复线索清单"
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["a_key", "b_key"], name="dedup_pair_unique")]
        # the list's order (newest first), so a page is an index walk, not a sort of every pair
        indexes = [models.Index(fields=["-updated_at", "-id"], name="dedup_pair_recent")]

    def __str__(self) -> str:
        return f"{self.a_key} ~ {self.b_key}"

    def other(self, key: str) -> str:
        return self.b_key if key == self.a_key else self.a_key

    def save(self, *args, **kwargs):
        # a pair created one by one (not by the engine's bulk writers) gets its scope here
        if self._state.adding and not self.scope_path:
            paths = dict(Signature.objects.filter(key__in=[self.a_key, self.b_key])
                         .values_list("key", "region_path"))
            self.scope_path = common_path(paths.get(self.a_key, ""), paths.get(self.b_key, ""))
        super().save(*args, **kwargs)


class HotKey(models.Model):
    """A blocking key shared by too many records to mean anything (a stock wording's MinHash
    band, a busy door): skipped by the chunk candidate query. Emptied by the rebuild."""

    key = models.BigIntegerField("分块键", primary_key=True)

    class Meta:
        verbose_name = verbose_name_plural = "高频分块键"
