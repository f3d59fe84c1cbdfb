"""案件 and 当事人. Core attributes are real, indexed columns; the fields a business admin adds
live in ``extra`` (JSON) and are validated against their FieldDef by the generated forms."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from orgs.models import Region
from secure.fields import BlindIndexField, EncryptedField


class Case(models.Model):
    exchange_id = models.CharField("案件编号", max_length=40, unique=True, editable=False)
    title = models.CharField("案件标题", max_length=200)
    description = models.TextField("纠纷简要情况", blank=True)
    case_type = models.CharField("案件类型", max_length=64)
    mediation_type = models.CharField("调解类型", max_length=64, blank=True)
    source = models.CharField("案件来源", max_length=32, default="local")
    tags = models.JSONField("案件标签", default=list, blank=True)
    # no fixed default: a new case starts in the first state of its type's workflow (save())
    status = models.CharField("案件状态", max_length=32, blank=True)
    party_count = models.PositiveIntegerField("涉及人数", default=1)
    address = models.CharField("纠纷发生地", max_length=255, blank=True)
    occurred_at = models.DateTimeField("发生时间", null=True, blank=True)
    registered_at = models.DateTimeField("登记时间", default=timezone.now, db_index=True)
    deadline = models.DateTimeField("办理期限", null=True, blank=True, db_index=True)
    last_progress_at = models.DateTimeField("最近进展", null=True, blank=True)
    # 处理层级: who handles it now — the community, or after 提级 the street / the district
    level = models.PositiveSmallIntegerField("处理层级", default=Region.CASE_LEVEL)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", on_delete=models.PROTECT,
                               related_name="cases")
    # denormalised region path: the row-level scope filter is one indexed prefix match, no join
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False, default="")
    organization = models.ForeignKey("orgs.Organization", verbose_name="登记单位", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="cases")
    registrant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="登记人", null=True,
                                   blank=True, on_delete=models.SET_NULL, related_name="registered_cases")
    extra = models.JSONField("扩展字段", default=dict, blank=True)
    # 案件地图 (analysis): matched at save from the unified address library, else the region's centre
    lng = models.FloatField("经度", null=True, blank=True, editable=False)
    lat = models.FloatField("纬度", null=True, blank=True, editable=False)
    geo_source = models.CharField("坐标来源", max_length=16, blank=True, default="", editable=False)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    # History is read per case (its id) and by date; its other columns need no index (every
    # aggregated case writes each index of its history row too).
    history = HistoricalRecords(excluded_fields=["updated_at", "region_path", "lng", "lat", "geo_source"], no_db_index=[
        "exchange_id", "case_type", "mediation_type", "source", "status", "registered_at", "deadline",
        "region", "organization", "registrant"])

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
            # exact lookups only: plain btrees, no LIKE twins (ingest writes every index of every row)
            models.Index(fields=["case_type"], name="case_type"),
            models.Index(fields=["mediation_type"], name="case_mediation_type"),
            models.Index(fields=["source"], name="case_source"),
            # status first (exact lookups as before); then what the 研判 overdue count filters on,
            # so it is answered from the index alone (issue 13)
            models.Index(fields=["status", "registered_at"], name="case_status_time",
                         include=["deadline", "region_path"]),
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
        if not self.status and self._state.adding:
            from cases.states import initial_state

            self.status = initial_state(self.case_type)
        if self.deadline is None and self.case_type:
            from cases.timelimits import deadline_for

            self.deadline = deadline_for(self.case_type, self.registered_at)
        super().save(*args, **kwargs)

    @property
    def record_key(self) -> str:
        """Identity in imports, exports and duplicate reports: <source key>:<id>."""
        return f"{self.source}:{self.exchange_id}"


class Party(models.Model):
    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="parties")
    role = models.CharField("当事人类型", max_length=32, default="applicant")
    party_kind = models.CharField("主体类型", max_length=32, default="person")
    name = models.CharField("姓名/名称", max_length=100)
    id_number = EncryptedField("证件号码", kind="id_number", blank=True, default="")
    id_number_bidx = BlindIndexField(source="id_number", db_index=False)
    phone = EncryptedField("联系电话", kind="phone", blank=True, default="")
    phone_bidx = BlindIndexField(source="phone", db_index=False)
    # 住址 is personal data (GB/T 39786 §8.4 e): SM4 at rest like the ID number; nothing searches it
    # (the dispute's place, Case.address, stays a plain searchable column)
    address = EncryptedField("住址", kind="address", max_length=255, blank=True, default="")
    extra = models.JSONField("扩展字段", default=dict, blank=True)
    # 高发人群 (analysis): non-identifying columns derived from the ID number when it is saved
    birth_year = models.PositiveSmallIntegerField("出生年份", null=True, blank=True, editable=False)
    sex = models.CharField("性别", max_length=1, blank=True, default="", editable=False)  # M / F / ''
    # History is read per party and per case; names and blind indexes are looked up live only.
    history = HistoricalRecords(excluded_fields=["birth_year", "sex"],
                                no_db_index=["name", "id_number_bidx", "phone_bidx"])

    class Meta:
        verbose_name = verbose_name_plural = "当事人"
        ordering = ["case", "id"]
        # exact lookups only: plain btrees, no LIKE twins
        indexes = [models.Index(fields=["name"], name="party_name"),
                   models.Index(fields=["phone_bidx"], name="party_phone_bidx"),
                   models.Index(fields=["id_number_bidx"], name="party_id_bidx")]
        permissions = [("view_sensitive_party", "查看当事人完整证件号码和电话")]

    def __str__(self) -> str:
        return self.name


# --- handling: mediation, help requests, reviews, visits, archive -------------------------
def attachment_path(instance, filename: str) -> str:
    import uuid
    from pathlib import PurePosixPath

    suffix = PurePosixPath(filename).suffix.lower()[:10]
    return f"cases/{instance.case_id}/{uuid.uuid4().hex}{suffix}"


class MediationLog(models.Model):
    """调解日志: one mediation session."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="logs")
    occurred_at = models.DateTimeField("调解时间", default=timezone.now)
    place = models.CharField("调解地点", max_length=200, blank=True)
    participants = models.CharField("参与人员", max_length=500, blank=True)
    content = models.TextField("调解情况")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="记录人", null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("记录时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "调解日志"
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["case", "occurred_at"], name="log_case_time")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.occurred_at:%Y-%m-%d}"


class MediationItem(models.Model):
    """调解清单: the claims under mediation and how each was settled."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="items")
    content = models.CharField("调解事项", max_length=300)
    claim_amount = models.DecimalField("诉求金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    settled = models.BooleanField("已达成一致", default=False)
    note = models.CharField("说明", max_length=300, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "调解清单"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.content


class MediationResult(models.Model):
    """调解结果, submitted for review; one per case (a returned result is edited and resubmitted)."""

    case = models.OneToOneField(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="result")
    outcome = models.CharField("调解结果", max_length=32)  # dictionary mediation_outcome
    agreement = models.TextField("协议内容/情况说明", blank=True)
    amount = models.DecimalField("涉及金额（元）", max_digits=14, decimal_places=2, null=True, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提交人", null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField("提交时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "调解结果"
        # the workbench's 成功率 counts the results submitted in this and the previous period
        # (cases.workbench.indicators): a range on submitted_at, on every workbench load
        indexes = [models.Index(fields=["submitted_at"], name="result_submitted")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.outcome}"


class HelpRequest(models.Model):
    """案件求助: escalate to a higher level (提级) or dispatch to third parties (发单)."""

    KINDS = [("escalate", "提级"), ("dispatch", "发单")]
    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="help_requests")
    kind = models.CharField("求助方式", max_length=16, choices=KINDS)
    reason = models.TextField("求助原因")
    expected_fee = models.DecimalField("预期费用（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="申请人", null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    requested_at = models.DateTimeField("申请时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "求助申请"
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.case_id}"


class Review(models.Model):
    """One review step a case waits in (结果审核 / 提级审核 / 发单审核 …, from workflow metadata).
    Decided exactly once: the decision is a compare-and-set on status='pending'."""

    STATUSES = [("pending", "待审核"), ("approve", "通过"), ("return", "退回"), ("reject", "驳回")]
    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="reviews")
    kind = models.CharField("审核类别", max_length=32)
    state = models.CharField("审核环节（状态）", max_length=32)
    status = models.CharField("审核状态", max_length=16, choices=STATUSES, default="pending", db_index=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="提交人", null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField("提交时间", default=timezone.now, db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    action = models.CharField("审核动作", max_length=64, blank=True)
    opinion = models.TextField("审核意见", blank=True)
    reminded_at = models.DateTimeField("催办时间", null=True, blank=True)
    escalated_at = models.DateTimeField("上报上级时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审核"
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["status", "state"], name="review_status_state")]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} {self.get_status_display()}"


class Visit(models.Model):
    """回访/走访 of a mediated case."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="visits")
    visited_at = models.DateTimeField("回访时间", default=timezone.now)
    way = models.CharField("回访方式", max_length=32)            # dictionary visit_way
    satisfaction = models.CharField("满意度", max_length=32)     # dictionary satisfaction
    notes = models.TextField("回访情况", blank=True)
    visitor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="回访人", null=True,
                                on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "回访记录"
        ordering = ["-visited_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.visited_at:%Y-%m-%d}"


class Attachment(models.Model):
    """A photo or document on a case, a mediation log or a result."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="attachments")
    log = models.ForeignKey(MediationLog, verbose_name="调解日志", null=True, blank=True,
                            on_delete=models.CASCADE, related_name="attachments")
    purpose = models.CharField("用途", max_length=16, default="case")  # case / log / result / visit
    file = models.FileField("文件", upload_to=attachment_path)
    name = models.CharField("文件名", max_length=200)
    size = models.PositiveIntegerField("大小（字节）", default=0)
    content_type = models.CharField("类型", max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="上传人", null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "附件"
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.name


class CaseEvent(models.Model):
    """The case's trace: every transition, review decision, reminder and escalation."""

    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="events")
    kind = models.CharField("类别", max_length=32)  # transition / review / remind / escalate / overdue / stale / tag / archive
    message = models.CharField("内容", max_length=500)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    from_state = models.CharField("原状态", max_length=32, blank=True)
    to_state = models.CharField("新状态", max_length=32, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "案件轨迹"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.message


class CaseFile(models.Model):
    """档案: same-type cases archived together."""

    name = models.CharField("档案名称", max_length=200)
    case_type = models.CharField("案件类型", max_length=64, blank=True)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", on_delete=models.PROTECT)
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False, default="")
    cases = models.ManyToManyField(Case, verbose_name="案件", related_name="case_files", blank=True)
    note = models.TextField("说明", blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="创建人", null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "案件档案"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        self.region_path = self.region.path
        super().save(*args, **kwargs)


class CaseReferral(models.Model):
    """转办/交办 to a 职能部门: the one way a department user gets to see a case. While the
    referral is open or answered, the department's users see the case (accounts.scope); a
    withdrawn referral takes the sight away again."""

    KINDS = [("transfer", "转办"), ("assign", "交办")]
    STATES = [("open", "待办理"), ("answered", "已反馈"), ("withdrawn", "已撤回")]
    VISIBLE_STATES = ("open", "answered")
    case = models.ForeignKey(Case, verbose_name="案件", on_delete=models.CASCADE, related_name="referrals")
    department = models.ForeignKey("orgs.Organization", verbose_name="承办部门", on_delete=models.PROTECT,
                                   related_name="referrals")
    kind = models.CharField("方式", max_length=16, choices=KINDS, default="transfer")
    reason = models.TextField("转办事由", max_length=2000)
    state = models.CharField("状态", max_length=16, choices=STATES, default="open")
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="转办人", null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    referred_at = models.DateTimeField("转办时间", default=timezone.now)
    answer = models.TextField("办理反馈", blank=True, max_length=2000)
    answered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="反馈人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    answered_at = models.DateTimeField("反馈时间", null=True, blank=True)
    closed_at = models.DateTimeField("撤回时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "部门转办"
        ordering = ["-referred_at", "-id"]
        # the department user's scope is "case ids referred to my organisation": one index walk
        indexes = [models.Index(fields=["department", "state", "case"], name="referral_scope")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}给 {self.department}"
