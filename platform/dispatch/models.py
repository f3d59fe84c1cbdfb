"""发单库: dispatch orders made from cases whose dispatch request passed review, the third-party
organisations' sign-ups (bids), the award's confirmation voucher, the district's evaluation,
and the per-case guardian grants that let the awarded organisation see and handle the case.

Order states: ``state`` persists what people decided (open / awarded / mediating / completed /
withdrawn); while ``open``, the phase shown (未开始 / 报名中 / 已截止) is derived from the sign-up
window against server time (``phase``, ``phase_q``), so no job has to flip states at midnight."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from orgs.models import Organization

# phases shown to people: the persisted states plus the three time-derived ones of "open"
PHASES = [("not_started", "未开始"), ("bidding", "报名中"), ("closed", "已截止"), ("awarded", "已选定"),
          ("mediating", "调解中"), ("completed", "已完成"), ("withdrawn", "已撤回")]
PHASE_LABELS = dict(PHASES)


class DispatchOrder(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "发布中"            # phase from the window: 未开始 / 报名中 / 已截止
        AWARDED = "awarded", "已选定"      # winner chosen, voucher issued, waiting for confirmation
        MEDIATING = "mediating", "调解中"  # the winner confirmed the voucher and handles the case
        COMPLETED = "completed", "已完成"  # the case's result passed review
        WITHDRAWN = "withdrawn", "已撤回"  # taken back by the district; grants revoked

    number = models.CharField("发单编号", max_length=32, unique=True, editable=False)
    case = models.ForeignKey("cases.Case", verbose_name="案件", on_delete=models.PROTECT,
                             related_name="dispatch_orders")
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", on_delete=models.PROTECT, related_name="+")
    # copied from the case: the district-side scope is one indexed prefix match, as for cases
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False, default="")
    case_type = models.CharField("案件类型", max_length=64, db_index=True)
    title = models.CharField("发单标题", max_length=200)                  # masked
    description = models.TextField("纠纷简要情况（已脱敏）", blank=True)  # masked
    mediation_type = models.CharField("调解类型要求", max_length=64, blank=True)
    requirements = models.TextField("调解要求", blank=True)
    expected_fee = models.DecimalField("预期费用（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    mediation_deadline = models.DateField("调解期限")
    signup_start = models.DateTimeField("报名开始时间")
    signup_end = models.DateTimeField("报名截止时间", db_index=True)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.OPEN, db_index=True)
    awarded_bid = models.OneToOneField("Bid", verbose_name="中选报名", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="+")
    awarded_org = models.ForeignKey("orgs.Organization", verbose_name="中选组织", null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="awarded_orders")
    awarded_at = models.DateTimeField("选定时间", null=True, blank=True)
    awarded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="选定人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdraw_reason = models.CharField("撤回原因", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="发单人", null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField("发单时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "发单"
        ordering = ["-created_at", "-id"]
        constraints = [
            # a case has at most one live order; a withdrawn one may be dispatched again
            models.UniqueConstraint(fields=["case"], condition=~Q(state="withdrawn"), name="order_one_live_per_case"),
            models.CheckConstraint(condition=Q(signup_end__gt=models.F("signup_start")), name="order_window_valid"),
        ]
        indexes = [
            models.Index(fields=["state", "signup_end"], name="order_state_end"),
            models.Index(fields=["awarded_org", "state"], name="order_org_state"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs):
        if not self.number:
            from dispatch.numbering import next_number

            self.number = next_number(DispatchOrder, "FD", self.created_at)
        if self.region_id and not self.region_path:
            from orgs.models import Region

            self.region_path = Region.objects.values_list("path", flat=True).get(pk=self.region_id)
        super().save(*args, **kwargs)

    def phase_at(self, now=None) -> str:
        if self.state != self.State.OPEN:
            return self.state
        now = now or timezone.now()
        if now < self.signup_start:
            return "not_started"
        return "bidding" if now < self.signup_end else "closed"

    @property
    def phase(self) -> str:
        return self.phase_at()

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]


def phase_q(phase: str, now=None) -> Q:
    """Orders in ``phase`` (one of PHASES) at ``now`` (server time)."""
    now = now or timezone.now()
    if phase == "not_started":
        return Q(state="open", signup_start__gt=now)
    if phase == "bidding":
        return Q(state="open", signup_start__lte=now, signup_end__gt=now)
    if phase == "closed":
        return Q(state="open", signup_end__lte=now)
    return Q(state=phase)


class Bid(models.Model):
    """报名: one live sign-up per organisation per order, made by one of its mediators."""

    class Status(models.TextChoices):
        ACTIVE = "active", "已报名"
        CANCELLED = "cancelled", "已取消"
        WON = "won", "已中选"
        LOST = "lost", "未中选"

    order = models.ForeignKey(DispatchOrder, verbose_name="发单", on_delete=models.CASCADE, related_name="bids")
    organization = models.ForeignKey("orgs.Organization", verbose_name="调解组织", on_delete=models.PROTECT,
                                     related_name="bids")
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="调解员", on_delete=models.PROTECT,
                                 related_name="bids")
    plan = models.TextField("调解方案/报名说明", blank=True)
    quoted_fee = models.DecimalField("报价（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    created_at = models.DateTimeField("报名时间", default=timezone.now)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "报名"
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["order", "organization"], condition=~Q(status="cancelled"),
                                               name="bid_one_live_per_org")]
        indexes = [models.Index(fields=["organization", "created_at"], name="bid_org_time"),
                   models.Index(fields=["mediator", "created_at"], name="bid_mediator_time")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.organization}"


class Voucher(models.Model):
    """确认凭证: issued on award; its integrity code is the SM3 digest of a canonical payload
    (dispatch.voucher), recomputed by the public verification page."""

    number = models.CharField("凭证编号", max_length=32, unique=True, editable=False)
    order = models.OneToOneField(DispatchOrder, verbose_name="发单", on_delete=models.PROTECT, related_name="voucher")
    bid = models.OneToOneField(Bid, verbose_name="中选报名", on_delete=models.PROTECT, related_name="voucher")
    organization = models.ForeignKey("orgs.Organization", verbose_name="调解组织", on_delete=models.PROTECT,
                                     related_name="vouchers")
    mediator = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="调解员", on_delete=models.PROTECT,
                                 related_name="+")
    issued_at = models.DateTimeField("出具时间", default=timezone.now)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="出具人", null=True,
                                  on_delete=models.SET_NULL, related_name="+")
    digest = models.CharField("校验码（SM3）", max_length=64)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="确认人", null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    revoked_at = models.DateTimeField("作废时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "确认凭证"
        ordering = ["-issued_at"]

    def __str__(self) -> str:
        return self.number

    def save(self, *args, **kwargs):
        if not self.number:
            from dispatch.numbering import next_number

            self.number = next_number(Voucher, "PZ", self.issued_at)
        super().save(*args, **kwargs)


class Evaluation(models.Model):
    """调解评价: once per order, by district staff, after the third party's work."""

    order = models.OneToOneField(DispatchOrder, verbose_name="发单", on_delete=models.CASCADE,
                                 related_name="evaluation")
    score = models.PositiveSmallIntegerField("评分（1–5）")
    comment = models.TextField("评价意见", blank=True)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="评价人", null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    evaluated_at = models.DateTimeField("评价时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "调解评价"
        constraints = [models.CheckConstraint(condition=Q(score__gte=1, score__lte=5), name="evaluation_score_1_5")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.score}"


# guardian direct-FK object permissions on cases (guardian finds them by the FK to cases.Case):
# indexed joins instead of the generic table's text object_pk
class CaseUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey("cases.Case", on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = verbose_name_plural = "案件用户授权"


class CaseGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey("cases.Case", on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = verbose_name_plural = "案件组授权"


# --- admin screens over the same rows --------------------------------------------------------
class AwardedOrder(DispatchOrder):
    """已中选案件: the orders awarded to a third party (a screen of its own in the admin)."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "已中选案件"


class ThirdPartyOrg(Organization):
    """第三方调解组织 and their accounts (M-1.9): the organisations of kind ``third``."""

    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "第三方调解组织"
