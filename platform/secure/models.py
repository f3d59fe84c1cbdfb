"""Security audit trail (等保三级 安全审计): one append-only row per security-relevant event."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class SecurityEvent(models.Model):
    OUTCOME_SUCCESS, OUTCOME_FAILURE = "success", "failure"
    OUTCOMES = [(OUTCOME_SUCCESS, "成功"), (OUTCOME_FAILURE, "失败")]

    at = models.DateTimeField("时间", db_index=True)
    event = models.CharField("事件类型", max_length=40, db_index=True)
    outcome = models.CharField("结果", max_length=10, choices=OUTCOMES, default=OUTCOME_SUCCESS)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="主体", null=True, blank=True,
                             on_delete=models.SET_NULL, related_name="+", db_constraint=False)
    username = models.CharField("账号", max_length=150, blank=True, db_index=True)
    ip = models.CharField("来源地址", max_length=45, blank=True)
    object_repr = models.CharField("对象", max_length=200, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)
    prev_mac = models.CharField("上一行校验值", max_length=64, blank=True)
    mac = models.CharField("校验值（HMAC-SM3）", max_length=64, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "安全审计日志"
        ordering = ["-id"]
