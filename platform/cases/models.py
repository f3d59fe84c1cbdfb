"""案件 and 当事人. Core attributes are real, indexed columns; the fields a business admin adds
live in ``extra`` (JSON) and are validated against their FieldDef by the generated forms."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from secure.fields import BlindIndexField, EncryptedField


class Case(models.Model):
    exchange_id = models.CharField("案件编号", max_length=40, unique=True, editable=False)
    title = models.CharField("案件标题", max_length=200)
    description = models.TextField("纠纷简要情况", blank=True)
    case_type = models.CharField("案件类型", max_length=64, db_index=True)
    mediation_type = models.CharField("调解类型", max_length=64, blank=True, db_index=True)
    source = models.CharField("案件来源", max_length=32, default="local", db_index=True)
    tags = models.JSONField("案件标签", default=list, blank=True)
    status = models.CharField("案件状态", max_length=32, default="registered", db_index=True)
    party_count = models.PositiveIntegerField("涉及人数", default=1)
    address = models.CharField("纠纷发生地", max_length=255, blank=True)
    occurred_at = models.DateTimeField("发生时间", null=True, blank=True)
    registered_at = models.DateTimeField("登记时间", default=timezone.now, db_index=True)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", on_delete=models.PROTECT,
                               related_name="cases")
    # denormalised region path: the row-level scope filter is one indexed prefix match, no join
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False, default="")
    organization = models.ForeignKey("orgs.Organization", verbose_name="登记单位", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="cases")
    registrant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="registered_cases")
    extra = models.JSONField("扩展字段", default=dict, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at", "region_path"])

    class Meta:
        verbose_name = verbose_name_plural = "案件"
        ordering = ["-registered_at"]
        # The scope filter is a prefix match (region_path LIKE '339901001%'). PostgreSQL can use
        # a btree for it only with the pattern operator class when the collation isn't "C";
        # other databases ignore opclasses and get a plain index.
        indexes = [
            models.Index(fields=["region_path", "registered_at"], name="case_scope_time",
                         opclasses=["varchar_pattern_ops", "timestamptz_ops"]),
            models.Index(fields=["case_type", "region_path"], name="case_type_scope",
                         opclasses=["varchar_pattern_ops", "varchar_pattern_ops"]),
            models.Index(fields=["case_type", "registered_at"], name="case_type_time"),
        ]

    def __str__(self) -> str:
        return f"{self.exchange_id} {self.title}"

    def save(self, *args, **kwargs):
        if not self.exchange_id:
            from cases.numbering import next_exchange_id

            self.exchange_id = next_exchange_id(self.registered_at)
        if self.region_id:
            from orgs.models import Region

            self.region_path = Region.objects.values_list("path", flat=True).get(pk=self.region_id)
        super().save(*args, **kwargs)

    @property
    def record_key(self) -> str:
        """Identity in imports, exports and duplicate reports: <source key>:<id>."""
        return f"{self.source}:{self.exchange_id}"


class Party(models.Model):
    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="parties")
    role = models.CharField("当事人类型", max_length=32, default="applicant")
    party_kind = models.CharField("主体类型", max_length=32, default="person")
    name = models.CharField("姓名/名称", max_length=100, db_index=True)
    id_number = EncryptedField("证件号码", kind="id_number", blank=True, default="")
    id_number_bidx = BlindIndexField(source="id_number")
    phone = EncryptedField("联系电话", kind="phone", blank=True, default="")
    phone_bidx = BlindIndexField(source="phone")
    address = models.CharField("住址", max_length=255, blank=True)
    extra = models.JSONField("扩展字段", default=dict, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = verbose_name_plural = "当事人"
        ordering = ["case", "id"]
        permissions = [("view_sensitive_party", "查看当事人完整证件号码和电话")]

    def __str__(self) -> str:
        return self.name
