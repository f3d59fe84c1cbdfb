"""Aggregation of outside channels: raw records kept untouched, clean records derived from them.

    RawRecord  ──derive (CleaningRule)──▶  Clue (+ ClueParty)     events: 12345, 民呼我为, 110, 基层智治
                                     └──▶  cases.Case (+ Party)   cases: 省矛调, ODR, X里调解, local

A record is identified everywhere as ``<source key>:<id>`` (``record_key``). Re-ingesting the
same payload changes nothing; a changed payload keeps the previous one (RawRecordVersion) and
re-derives the clean record. Cleaning rules are metadata (CleaningRule, versioned, with the
shipped snapshot of the low-code engine), so a rule change can be re-applied to the stored raw
records (``manage.py reclean``).
"""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from clues.fields import EncryptedJSONField
from lowcode.models import MetaRecord
from secure.fields import BlindIndexField, EncryptedField

KIND_CHOICES = [("event", "事件（线索）"), ("case", "案件（归集）")]


class Channel(MetaRecord):
    """One outside channel (or ``local``): key, name, kind and sort are shipped metadata
    (metadata/channels.yaml); pull settings are site configuration: the secret is never stored,
    only the name of the environment variable that holds it."""

    key = models.SlugField("来源编码", max_length=32, unique=True)
    name = models.CharField("来源名称", max_length=64)
    kind = models.CharField("数据类别", max_length=8, choices=KIND_CHOICES)
    pull_url = models.URLField("拉取地址", max_length=500, blank=True)
    auth_header = models.CharField("认证头名称", max_length=64, blank=True, help_text="例：Authorization")
    auth_env = models.CharField("认证值环境变量", max_length=64, blank=True,
                                help_text="保存认证值的环境变量名（密钥不存数据库），例：INGEST_12345_TOKEN")
    enabled = models.BooleanField("启用", default=True)
    sort = models.IntegerField("排序", default=0)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("key", "name", "kind", "sort")

    class Meta:
        verbose_name = verbose_name_plural = "数据来源"
        ordering = ["sort", "key"]

    def __str__(self) -> str:
        return self.name


def channel_choices() -> list[tuple[str, str]]:
    """(key, name) of every channel in display order: the items of the 事件来源 dictionary."""
    return list(Channel.objects.order_by("sort", "key").values_list("key", "name"))


class CleaningRule(MetaRecord):
    """清洗规则 of one channel — metadata a business admin edits (see metadata/cleaning/*.yaml
    for the shipped defaults, _common.yaml merged under each, and the meaning of every key)."""

    source = models.SlugField("来源编码", max_length=32, unique=True)
    name = models.CharField("规则名称", max_length=64)
    kind = models.CharField("数据类别", max_length=8, choices=KIND_CHOICES)
    id_field = models.CharField("编号字段", max_length=64, help_text="原始数据中唯一标识一条记录的字段")
    field_map = models.JSONField(
        "字段映射", default=dict,
        help_text='原始字段 → 标准字段，例：{"来电时间": "occurred_at", "来电人": "party[来电人].name"}')
    party_fields = models.JSONField("当事人子字段映射", default=dict, blank=True,
                                    help_text='当事人列表中每项的字段 → 标准字段，例：{"姓名": "name"}')
    time_formats = models.JSONField(
        "时间格式", default=list,
        help_text='依次尝试；strftime 格式，或 iso / epoch_ms / epoch_ms_wall / epoch_s / excel')
    normalisers = models.JSONField(
        "规整开关", default=dict, blank=True,
        help_text='{"phone": true, "name": true, "fullwidth": true, "strip_prefix": true}')
    prefix_patterns = models.JSONField("去除前缀（正则）", default=list, blank=True,
                                       help_text="标题、内容开头要去掉的前缀，例：^(【[^】]{1,12}】\\s*)+")
    type_map = models.JSONField("类型映射", default=dict, blank=True,
                                help_text='来源类型名称 → 案件类型编码，例：{"劳动保障-欠薪": "labor_wage"}；'
                                          '以 * 结尾表示前缀匹配')
    match_type_labels = models.BooleanField("按案件类型名称/编码自动匹配", default=True)
    type_fallback = models.CharField("未映射类型归入", max_length=64, blank=True,
                                     help_text="案件类数据必须有类型，未映射时归入此编码（计为映射缺失）")
    status_map = models.JSONField("状态映射", default=dict, blank=True,
                                  help_text='来源状态 → 案件状态编码（仅案件类），例：{"调解中": "mediating"}')
    status_default = models.CharField("默认状态", max_length=32, blank=True)
    validation = models.JSONField(
        "校验", default=dict, blank=True,
        help_text='{"required": ["source_id", "occurred_at"], "id_number": "drop", '
                  '"phone_pattern": "^(1[3-9]\\\\d{9}|0\\\\d{9,11})$", "phone": "keep"}')
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("source", "name", "kind", "id_field", "field_map", "party_fields", "time_formats",
                   "normalisers", "prefix_patterns", "type_map", "match_type_labels", "type_fallback",
                   "status_map", "status_default", "validation")

    class Meta:
        verbose_name = verbose_name_plural = "清洗规则"
        ordering = ["source"]

    def __str__(self) -> str:
        return f"{self.name}（{self.source}）"

    def clean(self):
        from clues.rules import validate_rule

        validate_rule(self)


class IngestBatch(models.Model):
    ORIGINS = [("upload", "页面上传"), ("command", "命令行"), ("pull", "定时拉取"), ("reclean", "重新清洗"),
               ("api", "平台接口推送")]
    STATUSES = [("queued", "排队中"), ("running", "进行中"), ("done", "已完成"), ("failed", "文件被拒绝")]

    channel = models.ForeignKey(Channel, verbose_name="来源", to_field="key", db_column="source",
                                on_delete=models.PROTECT, related_name="batches")
    file_name = models.CharField("文件", max_length=255, blank=True)
    origin = models.CharField("方式", max_length=8, choices=ORIGINS)
    status = models.CharField("状态", max_length=8, choices=STATUSES, default="running")
    message = models.CharField("说明", max_length=500, blank=True)
    read = models.PositiveIntegerField("读取", default=0)
    new = models.PositiveIntegerField("新增", default=0)
    updated = models.PositiveIntegerField("更新", default=0)
    unchanged = models.PositiveIntegerField("未变", default=0)
    rejected = models.PositiveIntegerField("拒绝", default=0)
    started_at = models.DateTimeField("开始时间", default=timezone.now, db_index=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+")
    report_path = models.CharField("拒绝记录报告", max_length=500, blank=True)
    # progress of a long run (background upload): updated after every chunk
    size = models.PositiveBigIntegerField("文件大小（字节）", default=0)
    percent = models.PositiveSmallIntegerField("进度（%）", default=0)
    upload_path = models.CharField("待导入文件", max_length=500, blank=True,
                                   help_text="上传后保存的文件，后台导入结束后删除")

    class Meta:
        verbose_name = verbose_name_plural = "归集批次"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel_id} {self.file_name or self.get_origin_display()} {self.started_at:%Y-%m-%d %H:%M}"

    def counts(self) -> dict:
        return {"read": self.read, "new": self.new, "updated": self.updated,
                "unchanged": self.unchanged, "rejected": self.rejected}

    @property
    def finished(self) -> bool:
        return self.status in ("done", "failed")


class Rejection(models.Model):
    batch = models.ForeignKey(IngestBatch, verbose_name="批次", on_delete=models.CASCADE,
                              related_name="rejections")
    line = models.PositiveIntegerField("行号", null=True, blank=True,
                                       help_text="JSON Lines 的行号或 Excel 的行号；空表示整个文件")
    record_key = models.CharField("记录标识", max_length=100, blank=True, db_index=True)
    reason = models.CharField("原因", max_length=500)
    # SM4-encrypted: a refused line may carry anything (names, phones, ID numbers); shown masked
    excerpt = EncryptedField("原始内容（节选）", kind="text", blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "拒绝记录"
        ordering = ["batch", "line", "id"]

    def __str__(self) -> str:
        return f"第 {self.line} 行：{self.reason}" if self.line else self.reason


class RawRecord(models.Model):
    """The record exactly as the channel delivered it."""

    # Indexes are few on purpose (every one costs on each ingested row): the (source, first_seen)
    # index serves lookups by channel, the unique constraint (no LIKE index) serves record keys.
    channel = models.ForeignKey(Channel, verbose_name="来源", to_field="key", db_column="source",
                                on_delete=models.PROTECT, related_name="raw_records", db_index=False)
    source_id = models.CharField("来源编号", max_length=64)
    record_key = models.CharField("记录标识", max_length=100)
    payload = EncryptedJSONField("原始数据")  # SM4 at rest; no SQL search inside it
    payload_hash = models.CharField("内容摘要", max_length=64)
    first_seen = models.DateTimeField("首次接收", default=timezone.now)
    last_seen = models.DateTimeField("最近接收", default=timezone.now, db_index=True)
    times_seen = models.PositiveIntegerField("接收次数", default=1)
    last_batch = models.ForeignKey(IngestBatch, verbose_name="最近批次", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # result of the last cleaning (for the data-quality view and reclean)
    clean_hash = models.CharField("清洗结果摘要", max_length=64, blank=True)
    clean_error = models.CharField("清洗失败原因", max_length=500, blank=True)
    warnings = models.JSONField("清洗提示", default=list, blank=True)
    type_missed = models.BooleanField("类型未映射", default=False)
    address_quality = models.CharField("地址匹配", max_length=16, blank=True)
    # no index: standard addresses are deactivated, hardly ever deleted; clues carry the indexed link
    address_standard = models.ForeignKey("addresses.StandardAddress", verbose_name="标准地址", null=True,
                                         blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False)
    case = models.ForeignKey("cases.Case", verbose_name="归集案件", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="raw_records")

    class Meta:
        verbose_name = verbose_name_plural = "原始记录"
        ordering = ["-last_seen", "-id"]
        indexes = [models.Index(fields=["channel", "first_seen"], name="raw_channel_time")]
        constraints = [models.UniqueConstraint(fields=["record_key"], name="raw_record_key_uniq")]

    def __str__(self) -> str:
        return self.record_key


class RawRecordVersion(models.Model):
    """A payload that was replaced by a newer delivery of the same record."""

    raw = models.ForeignKey(RawRecord, verbose_name="原始记录", on_delete=models.CASCADE, related_name="versions")
    payload = EncryptedJSONField("原始数据")
    payload_hash = models.CharField("内容摘要", max_length=64)
    received_at = models.DateTimeField("接收时间")
    replaced_at = models.DateTimeField("被替换时间", default=timezone.now)
    batch = models.ForeignKey(IngestBatch, verbose_name="替换批次", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "原始记录历史版本"
        ordering = ["raw", "-replaced_at", "-id"]

    def __str__(self) -> str:
        return f"{self.raw_id} @ {self.replaced_at:%Y-%m-%d %H:%M}"


class Clue(models.Model):
    STATUSES = [("new", "待处理"), ("assigned", "已分派"), ("converted", "已转案件"), ("closed", "已关闭")]
    ADDRESS_QUALITY = [("exact", "精确匹配"), ("building", "匹配到楼栋"), ("road", "匹配到道路"),
                       ("region", "仅匹配到区域"), ("none", "未匹配")]

    record_key = models.CharField("记录标识", max_length=100)
    raw = models.OneToOneField(RawRecord, verbose_name="原始记录", on_delete=models.PROTECT, related_name="clue")
    channel = models.ForeignKey(Channel, verbose_name="来源", to_field="key", db_column="source",
                                on_delete=models.PROTECT, related_name="clues", db_index=False)
    source_id = models.CharField("来源编号", max_length=64)
    occurred_at = models.DateTimeField("发生/上报时间", null=True, blank=True, db_index=True)
    title = models.CharField("标题", max_length=200, blank=True)
    text = models.TextField("内容", blank=True)
    type_code = models.CharField("案件类型", max_length=64, blank=True)
    type_label = models.CharField("来源类型", max_length=100, blank=True)
    people = models.JSONField("涉及人员", default=list, blank=True)
    address_raw = models.CharField("原始地址", max_length=255, blank=True)
    address = models.CharField("规整地址", max_length=255, blank=True)
    address_standard = models.ForeignKey("addresses.StandardAddress", verbose_name="标准地址", null=True,
                                         blank=True, on_delete=models.SET_NULL, related_name="clues")
    address_quality = models.CharField("地址匹配", max_length=16, choices=ADDRESS_QUALITY, default="none")
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="clues")
    region_path = models.CharField("区域路径", max_length=255, default="", blank=True)  # see clue_scope_time
    status = models.CharField("状态", max_length=16, choices=STATUSES, default="new")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="处理人", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="assigned_clues")
    converted_case = models.ForeignKey("cases.Case", verbose_name="转成案件", null=True, blank=True,
                                       on_delete=models.SET_NULL, related_name="from_clues")
    extra = models.JSONField("扩展字段", default=dict, blank=True)
    created_at = models.DateTimeField("入库时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # History is read per clue (its id) and by date; its other columns need no index.
    history = HistoricalRecords(excluded_fields=["updated_at"], no_db_index=[
        "record_key", "raw", "channel", "occurred_at", "type_code", "region", "region_path", "status",
        "assignee", "converted_case", "address_standard"])

    class Meta:
        verbose_name = verbose_name_plural = "线索"
        ordering = ["-occurred_at", "-id"]
        # Plain btrees only (no LIKE twins): ingest writes every index of every row.
        indexes = [
            models.Index(fields=["region_path", "occurred_at"], name="clue_scope_time",
                         opclasses=["varchar_pattern_ops", "timestamptz_ops"]),
            models.Index(fields=["channel", "occurred_at"], name="clue_channel_time"),
            models.Index(fields=["type_code"], name="clue_type"),
            models.Index(fields=["status"], name="clue_status"),
        ]
        constraints = [models.UniqueConstraint(fields=["record_key"], name="clue_record_key_uniq")]

    def __str__(self) -> str:
        return f"{self.record_key} {self.title}"


class CachedBlindIndexField(BlindIndexField):
    """BlindIndexField that computes each distinct value's index once per process (ingest writes
    the same phones over and over)."""

    def pre_save(self, model_instance, add):
        from clues.normalise import cached_blind_index

        source_field = model_instance._meta.get_field(self.source)
        value = cached_blind_index(getattr(model_instance, self.source) or "", source_field.kind)
        setattr(model_instance, self.attname, value)
        return value


class ClueParty(models.Model):
    clue = models.ForeignKey(Clue, verbose_name="线索", on_delete=models.CASCADE, related_name="parties")
    role = models.CharField("身份", max_length=32, blank=True)
    name = models.CharField("姓名", max_length=100, blank=True)
    name_known = models.BooleanField("姓名完整", default=True)
    phone = EncryptedField("联系电话", kind="phone", blank=True, default="")
    phone_bidx = CachedBlindIndexField(source="phone", db_index=False)
    phone_masked = models.CharField("脱敏电话（来源已脱敏）", max_length=32, blank=True)
    id_number = EncryptedField("证件号码", kind="id_number", blank=True, default="")
    id_number_bidx = CachedBlindIndexField(source="id_number", db_index=False)

    class Meta:
        verbose_name = verbose_name_plural = "线索涉及人员"
        ordering = ["clue", "id"]
        # exact lookups only: plain btrees, no LIKE twins
        indexes = [models.Index(fields=["name"], name="clueparty_name"),
                   models.Index(fields=["phone_bidx"], name="clueparty_phone_bidx"),
                   models.Index(fields=["id_number_bidx"], name="clueparty_id_bidx")]

    def __str__(self) -> str:
        return self.name


class PullState(models.Model):
    """Where the scheduled HTTP pull of a channel stands (clues.pull). ``since`` only moves after
    a pull that read every page completely; a failed or truncated pull asks again from the same
    ``since`` next time (ingest is idempotent by record key, so nothing is created twice)."""

    STATUSES = [("ok", "成功"), ("partial", "部分成功"), ("failed", "失败")]

    channel = models.OneToOneField(Channel, verbose_name="来源", to_field="key", db_column="source",
                                   on_delete=models.CASCADE, related_name="pull_state")
    since = models.DateTimeField("已拉取至", null=True, blank=True,
                                 help_text="最近一次完整拉取的开始时间；下次从此时间起拉取（since 参数）")
    last_run_at = models.DateTimeField("最近拉取", null=True, blank=True)
    last_ok_at = models.DateTimeField("最近成功", null=True, blank=True)
    last_status = models.CharField("最近结果", max_length=8, choices=STATUSES, blank=True)
    last_error = models.CharField("最近问题", max_length=500, blank=True)
    last_batch = models.ForeignKey(IngestBatch, verbose_name="最近批次", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # claimed by the pull in progress (clues.pull): a second pull of the channel skips
    running_since = models.DateTimeField("拉取进行中（开始时间）", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "拉取状态"

    def __str__(self) -> str:
        return f"{self.channel_id} {self.get_last_status_display()}"
