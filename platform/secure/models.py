"""Security audit trail (等保三级 安全审计): one append-only row per security-relevant event.

Rows are written only by ``secure.audit.record``: each carries a sequence number and an HMAC-SM3
over its content and the previous row's MAC (a chain), so a changed, inserted or deleted row is
found by ``manage.py verify_audit_chain``. The application cannot update or delete a row (the
model and its queryset refuse; on PostgreSQL a trigger refuses too); only the retention purge
removes rows, oldest first, older than 180 days, and records where the chain now starts."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class AppendOnlyError(PermissionError):
    """An attempt to change or delete an audit row through the application."""

    def __init__(self, message: str = "安全审计日志只能追加，不能修改或删除"):
        super().__init__(message)


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError()

    def delete(self):
        raise AppendOnlyError()

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError()

    def bulk_create(self, *args, **kwargs):
        raise AppendOnlyError("安全审计日志只能通过 secure.audit.record 逐条写入（带校验链）")

    def update_or_create(self, *args, **kwargs):
        raise AppendOnlyError()

    def _purge_prefix(self, through_seq: int) -> int:
        """Retention purge only (``secure.audit.purge``): delete rows up to ``through_seq``."""
        return models.QuerySet.delete(self.filter(seq__lte=through_seq))[0]


class SecurityEvent(models.Model):
    OUTCOME_SUCCESS, OUTCOME_FAILURE = "success", "failure"
    OUTCOMES = [(OUTCOME_SUCCESS, "成功"), (OUTCOME_FAILURE, "失败")]

    seq = models.BigIntegerField("序号", unique=True)
    at = models.DateTimeField("时间", db_index=True)
    event = models.CharField("事件类型", max_length=40, db_index=True)
    outcome = models.CharField("结果", max_length=10, choices=OUTCOMES, default=OUTCOME_SUCCESS)
    # DO_NOTHING without a constraint: deleting a user must not UPDATE audit rows (refused).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="主体", null=True, blank=True,
                             on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    username = models.CharField("账号", max_length=150, blank=True, db_index=True)
    ip = models.CharField("来源地址", max_length=45, blank=True, db_index=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    prev_mac = models.CharField("上一行校验值", max_length=64, blank=True)
    mac = models.CharField("校验值（HMAC-SM3）", max_length=64)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = verbose_name_plural = "安全审计日志"
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.event} {self.username}"

    def save(self, *args, **kwargs):
        if not self._state.adding or not getattr(self, "_sealed", False):
            raise AppendOnlyError()
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError()


class AuditChainHead(models.Model):
    """The single row (pk=1) every append locks first, so concurrent writers take turns: it
    holds the last sequence number and MAC, sealed with the audit key (a truncated tail is
    found even though row MACs are public)."""

    seq = models.BigIntegerField("最后序号", default=0)
    mac = models.CharField("最后校验值", max_length=64, blank=True)
    seal = models.CharField("链头校验值", max_length=64, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "审计链头"
        default_permissions = ()
