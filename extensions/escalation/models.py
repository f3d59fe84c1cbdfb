"""升级预警 (case and party escalation warnings).

Metadata a business admin edits (MetaRecord: shipped YAML defaults under ``defaults/``, site
changes kept on upgrade, simple-history with revert):
    WarningLevel    红/橙/黄/绿 — label, colour, order, who takes charge
    WarningRule     a condition over case (or party) facts → a level, by priority
    WarningKeyword  violence / 民转刑 / extreme words, matched on jieba tokens
    WarningSetting  thresholds (group size, large amount, 突出当事人 …), usable in conditions by name

Results (written by the evaluator, never edited by hand):
    CaseWarning     the current colour of a case, the facts and the reasons
    WarningEvent    warning history: when, which rule, which facts, from → to colour
    PartyWarning    the 预警名单: one row per person with a warning, plus PersonCase links
Register:
    KeyPerson (+ StabilisationLog)  重点人, identified by ID-number / phone blind index
"""
from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from lowcode.models import MetaRecord
from secure.fields import BlindIndexField, EncryptedField

TARGETS = [("case", "案件"), ("party", "当事人")]


class WarningLevel(MetaRecord):
    key = models.SlugField("编码", max_length=32, unique=True)
    label = models.CharField("名称", max_length=16, help_text="如 红色预警")
    color = models.CharField("颜色", max_length=16, help_text="如 #d9534f")
    order = models.IntegerField("严重程度排序", default=0, help_text="数字越小越严重")
    responsible = models.CharField("责任主体", max_length=100, blank=True, help_text="如 街道主导、分管领导包案")
    lead_level = models.PositiveSmallIntegerField(
        "牵头层级", null=True, blank=True, help_text="预警时另行通知的区域层级：1 区级、2 街道、3 社区；空表示只通知办理人及其上一级")
    leader = models.CharField("责任领导", max_length=64, blank=True, help_text="具名领导（可空）")
    notify = models.BooleanField("首次预警即通知", default=True,
                                 help_text="案件首次被评为该颜色时是否通知（颜色变化总会通知）")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("key", "label", "color", "order", "responsible", "lead_level", "leader", "notify")

    class Meta:
        verbose_name = verbose_name_plural = "预警等级"
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.label

    def clean(self):
        from extensions.escalation.validation import validate_level

        validate_level(self)


class WarningRule(MetaRecord):
    code = models.SlugField("编码", max_length=64, unique=True)
    name = models.CharField("规则名称", max_length=100)
    target = models.CharField("对象", max_length=8, choices=TARGETS, default="case")
    condition = models.CharField("条件（表达式）", max_length=500,
                                 help_text="例：暴力关键词数 > 0 or 民转刑；可用的事实与阈值名称见下方说明")
    level = models.CharField("预警等级", max_length=32, help_text="预警等级的编码，如 red")
    priority = models.IntegerField("优先级", default=100, help_text="数字小的先判断；第一个满足的规则决定颜色")
    message = models.CharField("提示语", max_length=200, blank=True,
                               help_text="可引用事实，如 “近{窗口天数}天同一纠纷报告 {报告次数} 次”")
    window_days = models.PositiveIntegerField("统计天数", default=30, help_text="“近N天”类事实的统计窗口")
    enabled = models.BooleanField("启用", default=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("code", "name", "target", "condition", "level", "priority", "message", "window_days", "enabled")

    class Meta:
        verbose_name = verbose_name_plural = "预警规则"
        ordering = ["target", "priority", "code"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from extensions.escalation.validation import validate_rule

        validate_rule(self)


class WarningKeyword(MetaRecord):
    CATEGORIES = [("violence", "暴力"), ("criminal", "民转刑"), ("extreme", "极端")]
    word = models.CharField("关键词", max_length=32, unique=True)
    category = models.CharField("类别", max_length=16, choices=CATEGORIES, default="violence")
    enabled = models.BooleanField("启用", default=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("word", "category", "enabled")

    class Meta:
        verbose_name = verbose_name_plural = "预警关键词"
        ordering = ["category", "word"]

    def __str__(self) -> str:
        return self.word

    def clean(self):
        self.word = (self.word or "").strip()
        if not self.word:
            raise ValidationError({"word": "关键词不能为空"})
        if any(ch.isspace() for ch in self.word):
            raise ValidationError({"word": "关键词不能包含空格"})


class WarningSetting(MetaRecord):
    key = models.SlugField("编码", max_length=64, unique=True)
    name = models.CharField("名称（表达式中使用）", max_length=32, unique=True,
                            help_text="中文名称，规则条件中可直接引用，如 群体规模阈值")
    value = models.JSONField("值", help_text="数字、文字或列表，如 10、[\"police110\"]")
    description = models.CharField("说明", max_length=255, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("key", "name", "value", "description")

    class Meta:
        verbose_name = verbose_name_plural = "预警阈值与参数"
        ordering = ["key"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        from extensions.escalation.validation import validate_setting

        validate_setting(self)


# --- results -----------------------------------------------------------------------------------
class CaseWarning(models.Model):
    case = models.OneToOneField("cases.Case", verbose_name="案件", on_delete=models.CASCADE,
                                primary_key=True, related_name="warning")
    level = models.CharField("预警等级", max_length=32, db_index=True)
    rule = models.CharField("决定规则", max_length=64, blank=True)
    reasons = models.JSONField("预警原因", default=list, blank=True)
    facts = models.JSONField("研判事实", default=dict, blank=True)
    # facts for every rule window ({"30": {...}}): the preview re-decides from these
    facts_by_window = models.JSONField("各统计窗口的事实", default=dict, blank=True)
    region_path = models.CharField("区域路径", max_length=255, db_index=True, default="")
    evaluated_at = models.DateTimeField("研判时间", default=timezone.now)
    changed_at = models.DateTimeField("变色时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "案件预警"
        ordering = ["-changed_at"]
        indexes = [models.Index(fields=["level", "region_path"], name="casewarning_level_scope",
                                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.level}"


class WarningEvent(models.Model):
    """预警记录: one colour change of a case."""

    case = models.ForeignKey("cases.Case", verbose_name="案件", on_delete=models.CASCADE,
                             related_name="warning_events")
    from_level = models.CharField("原等级", max_length=32, blank=True)
    to_level = models.CharField("新等级", max_length=32)
    rule = models.CharField("决定规则", max_length=64, blank=True)
    rule_name = models.CharField("规则名称", max_length=100, blank=True)
    reasons = models.JSONField("预警原因", default=list, blank=True)
    facts = models.JSONField("研判事实", default=dict, blank=True)
    region_path = models.CharField("区域路径", max_length=255, db_index=True, default="")
    notified = models.PositiveIntegerField("通知人数", default=0)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "案件预警记录"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.from_level or '—'} → {self.to_level}"


class PartyWarning(models.Model):
    """预警名单: a person with a warning. ``person_key`` is how the person is identified:
    ``id:<blind index>``, else ``phone:<blind index>``, else ``name:<name>|<address>``."""

    IDENTITIES = [("id", "证件号码"), ("phone", "联系电话"), ("name", "姓名+住址")]
    person_key = models.CharField("当事人标识", max_length=400, unique=True)
    identity = models.CharField("识别依据", max_length=8, choices=IDENTITIES)
    name = models.CharField("姓名", max_length=100, db_index=True)
    party = models.ForeignKey("cases.Party", verbose_name="代表记录", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    level = models.CharField("预警等级", max_length=32, db_index=True)
    rule = models.CharField("决定规则", max_length=64, blank=True)
    reasons = models.JSONField("预警原因", default=list, blank=True)
    facts = models.JSONField("研判事实", default=dict, blank=True)
    evaluated_at = models.DateTimeField("研判时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "当事人预警名单"
        ordering = ["level", "-evaluated_at"]

    def __str__(self) -> str:
        return self.name


class PersonCase(models.Model):
    """Which cases a person is a party to (同人不同案) — also the scope of a 预警名单 row: a user
    sees the person when one of the person's cases is in their region."""

    person_key = models.CharField("当事人标识", max_length=400, db_index=True)
    case = models.ForeignKey("cases.Case", verbose_name="案件", on_delete=models.CASCADE, related_name="+")
    party = models.ForeignKey("cases.Party", verbose_name="当事人记录", on_delete=models.CASCADE, related_name="+")
    phone_bidx = models.CharField("电话盲索引", max_length=64, blank=True, default="")
    region_path = models.CharField("区域路径", max_length=255, default="")

    class Meta:
        verbose_name = verbose_name_plural = "当事人案件"
        constraints = [models.UniqueConstraint(fields=["person_key", "case"], name="uniq_person_case")]
        indexes = [models.Index(fields=["person_key", "region_path"], name="personcase_scope",
                                opclasses=["varchar_pattern_ops", "varchar_pattern_ops"])]


# --- 重点人 register ----------------------------------------------------------------------------
class KeyPerson(models.Model):
    name = models.CharField("姓名", max_length=100, db_index=True)
    id_number = EncryptedField("证件号码", kind="id_number", blank=True, default="")
    id_number_bidx = BlindIndexField(source="id_number")
    phone = EncryptedField("联系电话", kind="phone", blank=True, default="")
    phone_bidx = BlindIndexField(source="phone")
    reason = models.CharField("列管原因", max_length=300)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False, default="")
    active = models.BooleanField("在管", default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "重点人员"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        if not (self.id_number or "").strip() and not (self.phone or "").strip():
            raise ValidationError("证件号码和联系电话至少填写一项，用于识别涉及的案件")
        if "*" in (self.id_number or "") or "*" in (self.phone or ""):
            raise ValidationError("请填写完整的证件号码或电话，不能是脱敏后的值")

    def save(self, *args, **kwargs):
        if self.region_id:
            self.region_path = self.region.path
        super().save(*args, **kwargs)


class StabilisationLog(models.Model):
    """稳控化解日志."""

    person = models.ForeignKey(KeyPerson, verbose_name="重点人员", on_delete=models.CASCADE, related_name="logs")
    occurred_at = models.DateTimeField("时间", default=timezone.now)
    content = models.TextField("稳控化解情况")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="记录人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "稳控化解日志"
        ordering = ["-occurred_at"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.occurred_at:%Y-%m-%d}"


# --- 重点人 走访 and 待核查线索 (issue #15; extensions/escalation/keywork.py) ---------------------------
class KeyPersonVisit(models.Model):
    """走访 of a key person, beside the 稳控化解日志."""

    person = models.ForeignKey(KeyPerson, verbose_name="重点人员", on_delete=models.CASCADE, related_name="visits")
    visited_at = models.DateTimeField("走访时间", default=timezone.now)
    way = models.CharField("走访方式", max_length=32)  # dictionary visit_way
    content = models.TextField("走访情况", max_length=2000)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="走访人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "重点人员走访"
        ordering = ["-visited_at"]

    def __str__(self) -> str:
        return f"{self.person_id} {self.visited_at:%Y-%m-%d}"


class VerificationTask(models.Model):
    """待核查线索: a clue that concerns a key person or a warned party, to be verified in its
    region: assigned, verified with a result, closed."""

    STATES = [("open", "待核查"), ("assigned", "已指派"), ("verified", "已核查"), ("closed", "已关闭")]
    clue = models.ForeignKey("clues.Clue", verbose_name="线索", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(KeyPerson, verbose_name="重点人员", null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="tasks")
    person_key = models.CharField("当事人标识", max_length=400, blank=True, default="")
    person_name = models.CharField("涉及人员", max_length=100)
    reason = models.CharField("核查原因", max_length=200)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, default="")
    state = models.CharField("状态", max_length=12, choices=STATES, default="open", db_index=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="核查人", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    result = models.TextField("核查结果", blank=True, max_length=2000)
    verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="核查确认人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    verified_at = models.DateTimeField("核查时间", null=True, blank=True)
    closed_at = models.DateTimeField("关闭时间", null=True, blank=True)
    created_at = models.DateTimeField("生成时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "待核查线索"
        ordering = ["state", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["clue", "person_name", "person_key"],
                                               name="escalation_task_clue_person")]

    def __str__(self) -> str:
        return f"{self.person_name}：{self.reason}"
