"""Metadata records: what a business admin may change at runtime, without code or restart.

Names follow Frappe's DocField vocabulary (reqd, depends_on, mandatory_depends_on,
in_list_view, in_standard_filter…) and JeecgBoot's (数据字典 binding, query_mode single/range),
so both audiences recognise them.

Shipped defaults vs site changes: every record remembers the values it was shipped with
(``shipped``, written by ``load_metadata``). A record whose values differ from its shipped
snapshot is a site customisation; ``load_metadata`` never overwrites it and the admin shows the
difference. Records a site adds itself have ``origin = site`` and no snapshot.
"""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from lowcode import fieldtypes


class MetaVersion(models.Model):
    """One row; bumped on every metadata save. Compiled metadata is cached per process and
    keyed by ``stamp``, so a change shows on the next request in every process. The stamp is
    random rather than the counter, so a database restored to an older state (or a rolled-back
    transaction) can never match a cache compiled from other metadata."""

    version = models.PositiveBigIntegerField(default=1)
    stamp = models.CharField(max_length=32, default="")

    class Meta:
        verbose_name = verbose_name_plural = "元数据版本"


class MetaRecord(models.Model):
    ORIGIN_CHOICES = [("shipped", "出厂"), ("site", "本地新增")]
    origin = models.CharField("来源", max_length=8, choices=ORIGIN_CHOICES, default="site",
                              editable=False)
    shipped = models.JSONField("出厂值", null=True, blank=True, editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True

    # The fields written to / read from metadata/*.yaml, in file order. Subclasses set this.
    META_FIELDS: tuple[str, ...] = ()

    def meta_values(self) -> dict:
        from lowcode.serialization import record_values

        return record_values(self)

    def save(self, *args, **kwargs):
        # simple-history writes a row on every save (#638); keep only real changes.
        if self.pk:
            old = type(self).objects.filter(pk=self.pk).first()
            if old is not None and _tracked_values(old) == _tracked_values(self):
                self.skip_history_when_saving = True
        try:
            super().save(*args, **kwargs)
        finally:
            self.__dict__.pop("skip_history_when_saving", None)

    @property
    def is_customised(self) -> bool:
        from lowcode.serialization import differs_from_shipped

        return self.origin == "shipped" and self.shipped is not None and differs_from_shipped(
            self.meta_values(), self.shipped)


def _tracked_values(obj: MetaRecord) -> list:
    """What a save may change that history should show: every column but the bookkeeping ones
    (a record may hold site settings beside its metadata, e.g. a channel's pull address)."""
    return [getattr(obj, f.attname) for f in obj._meta.concrete_fields
            if f.name not in ("id", "updated_at", "origin", "shipped")]


class Dictionary(MetaRecord):
    code = models.SlugField("编码", max_length=64, unique=True)
    name = models.CharField("名称", max_length=64)
    is_tree = models.BooleanField("树形", default=False)
    description = models.CharField("说明", max_length=255, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("code", "name", "is_tree", "description")

    class Meta:
        verbose_name = verbose_name_plural = "数据字典"
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class DictItem(MetaRecord):
    dictionary = models.ForeignKey(Dictionary, verbose_name="字典", on_delete=models.CASCADE,
                                   related_name="items")
    code = models.CharField("编码", max_length=64)
    label = models.CharField("名称", max_length=64)
    parent = models.ForeignKey("self", verbose_name="上级", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="children")
    sort = models.IntegerField("排序", default=0)
    color = models.CharField("颜色", max_length=16, blank=True)
    is_active = models.BooleanField("启用", default=True)
    attrs = models.JSONField("附加属性", default=dict, blank=True,
                             help_text='业务参数，例如案件类型的办理时限：{"time_limit_days": 30}')
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("code", "label", "parent", "sort", "color", "is_active", "attrs")

    class Meta:
        verbose_name = verbose_name_plural = "字典项"
        ordering = ["dictionary", "sort", "code"]
        constraints = [models.UniqueConstraint(fields=["dictionary", "code"], name="uniq_dictitem_code")]

    def __str__(self) -> str:
        return self.path_label

    @property
    def path_label(self) -> str:
        return f"{self.parent.path_label} › {self.label}" if self.parent_id else self.label

    def clean(self):
        if self.parent_id and self.parent.dictionary_id != self.dictionary_id:
            raise ValidationError({"parent": "上级必须属于同一个字典"})
        node, seen = self.parent, set()
        while node is not None:
            if node.pk == self.pk or node.pk in seen:
                raise ValidationError({"parent": "上级不能是自身或自身的下级"})
            seen.add(node.pk)
            node = node.parent


class FieldDef(MetaRecord):
    """One field of an entity: a core model column (core=True) or an extra field kept in the
    entity's JSON column and validated against this definition."""

    QUERY_MODES = [("single", "精确/单值"), ("range", "范围")]

    entity = models.CharField("业务对象", max_length=32, db_index=True)
    code = models.CharField("字段编码", max_length=64,
                            help_text="英文字母开头，只含字母、数字、下划线；创建后不要修改")
    label = models.CharField("字段名称", max_length=64)
    fieldtype = models.CharField("字段类型", max_length=16, choices=fieldtypes.CHOICES)
    core = models.BooleanField("核心字段（数据库列）", default=False, editable=False)
    dictionary = models.ForeignKey(Dictionary, verbose_name="绑定字典", null=True, blank=True,
                                   on_delete=models.PROTECT)
    scope = models.JSONField("适用范围", default=list, blank=True,
                             help_text="适用的分类编码（如案件类型），空表示全部；上级分类包含下级")
    reqd = models.BooleanField("必填", default=False)
    mandatory_depends_on = models.CharField("条件必填（表达式）", max_length=255, blank=True,
                                            help_text="例：涉及人数 >= 10")
    depends_on = models.CharField("条件显示（表达式）", max_length=255, blank=True)
    hidden = models.BooleanField("隐藏", default=False)
    read_only = models.BooleanField("只读", default=False)
    default = models.CharField("默认值", max_length=255, blank=True)
    min_value = models.DecimalField("最小值", max_digits=18, decimal_places=4, null=True, blank=True)
    max_value = models.DecimalField("最大值", max_digits=18, decimal_places=4, null=True, blank=True)
    max_length = models.PositiveIntegerField("最大长度", null=True, blank=True)
    precision = models.PositiveSmallIntegerField("小数位数", null=True, blank=True)
    pattern = models.CharField("校验正则", max_length=255, blank=True)
    pattern_message = models.CharField("校验提示", max_length=128, blank=True)
    description = models.CharField("填写说明", max_length=255, blank=True)
    sensitive = models.BooleanField("敏感（加密+脱敏）", default=False)
    in_list_view = models.BooleanField("列表显示", default=False)
    in_standard_filter = models.BooleanField("列表筛选", default=False)
    query_mode = models.CharField("查询方式", max_length=8, choices=QUERY_MODES, default="single")
    search_index = models.BooleanField("可搜索", default=False)
    in_import = models.BooleanField("导入导出", default=True)
    idx = models.IntegerField("顺序", default=0)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("entity", "code", "label", "fieldtype", "core", "dictionary", "scope", "reqd",
                   "mandatory_depends_on", "depends_on", "hidden", "read_only", "default",
                   "min_value", "max_value", "max_length", "precision", "pattern",
                   "pattern_message", "description", "sensitive", "in_list_view",
                   "in_standard_filter", "query_mode", "search_index", "in_import", "idx")

    class Meta:
        verbose_name = verbose_name_plural = "字段定义"
        ordering = ["entity", "idx", "id"]
        constraints = [models.UniqueConstraint(fields=["entity", "code"], name="uniq_fielddef_code")]

    def __str__(self) -> str:
        return f"{self.label}（{self.code}）"

    def clean(self):
        from lowcode.validation import validate_fielddef

        validate_fielddef(self)


class FormLayout(MetaRecord):
    """Sections and field order of one screen of an entity, optionally for one scope value
    (e.g. a case type) and/or one role. The most specific layout wins."""

    SCREENS = [("edit", "登记/编辑"), ("detail", "详情"), ("review", "审核"), ("h5", "移动端")]

    entity = models.CharField("业务对象", max_length=32)
    screen = models.CharField("界面", max_length=16, choices=SCREENS)
    scope_value = models.CharField("适用分类编码", max_length=64, blank=True,
                                   help_text="空表示通用；填案件类型编码表示仅该类型（含下级）")
    role = models.CharField("适用角色", max_length=64, blank=True, help_text="空表示所有角色")
    sections = models.JSONField("分组与字段", default=list,
                                help_text='[{"title": "基本信息", "fields": ["title", "case_type"]}]')
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("entity", "screen", "scope_value", "role", "sections")

    class Meta:
        verbose_name = verbose_name_plural = "表单布局"
        ordering = ["entity", "screen", "scope_value", "role"]
        constraints = [models.UniqueConstraint(fields=["entity", "screen", "scope_value", "role"],
                                               name="uniq_formlayout")]

    def __str__(self) -> str:
        scope = f" · {self.scope_value}" if self.scope_value else ""
        role = f" · {self.role}" if self.role else ""
        return f"{self.entity} {self.get_screen_display()}{scope}{role}"

    def clean(self):
        from lowcode.validation import validate_layout

        validate_layout(self)


class ListView(MetaRecord):
    entity = models.CharField("业务对象", max_length=32)
    role = models.CharField("适用角色", max_length=64, blank=True, help_text="空表示所有角色")
    columns = models.JSONField("列", default=list)
    filters = models.JSONField("筛选", default=list, blank=True)
    search_fields = models.JSONField("搜索字段", default=list, blank=True)
    ordering = models.JSONField("排序", default=list, blank=True, help_text='例：["-registered_at"]')
    page_size = models.PositiveSmallIntegerField("每页条数", default=20)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("entity", "role", "columns", "filters", "search_fields", "ordering", "page_size")

    class Meta:
        verbose_name = verbose_name_plural = "列表配置"
        ordering = ["entity", "role"]
        constraints = [models.UniqueConstraint(fields=["entity", "role"], name="uniq_listview")]

    def __str__(self) -> str:
        return f"{self.entity} 列表" + (f" · {self.role}" if self.role else "")

    def clean(self):
        from lowcode.validation import validate_listview

        validate_listview(self)


class Workflow(MetaRecord):
    """States and transitions of an entity (Frappe Workflow).

    states: ["registered", {"name": "pending_review", "review": "result"}, {"name": "archived", "closed": true}]
      — a state with "review" is a review step (its outgoing transitions are the decisions);
        "closed" states stop the handling clock.
    transitions: [{"action": "提交结果", "from": ["mediating"], "to": "pending_review",
      "roles": ["mediator"], "condition": "", "form": "result", "decision": "", "opinion": false}]
      — "roles" are role codes (accounts.Role, never display names); "decision" (approve / return /
        reject) marks a review decision; "opinion" makes an opinion
        required; "form" names the data the action collects; "effects" names domain side effects.
    timers: [{"state": "pending_review", "remind_after_hours": 24, "escalate_after_hours": 48},
             {"state": "mediating", "stale_after_days": 7}]"""

    entity = models.CharField("业务对象", max_length=32)
    scope_value = models.CharField("适用分类编码", max_length=64, blank=True)
    state_field = models.CharField("状态字段", max_length=64, default="status")
    states = models.JSONField("状态", default=list)
    transitions = models.JSONField("流转", default=list)
    timers = models.JSONField("催办时限", default=list, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("entity", "scope_value", "state_field", "states", "transitions", "timers")

    class Meta:
        verbose_name = verbose_name_plural = "流程"
        ordering = ["entity", "scope_value"]
        constraints = [models.UniqueConstraint(fields=["entity", "scope_value"], name="uniq_workflow")]

    def __str__(self) -> str:
        return f"{self.entity} 流程" + (f" · {self.scope_value}" if self.scope_value else "")

    def clean(self):
        from lowcode.validation import validate_workflow

        validate_workflow(self)

