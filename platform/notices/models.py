"""消息中心: warning notices, review notices, reminders — per recipient, read/unread."""
from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notice(models.Model):
    KINDS = [("review", "审核通知"), ("result", "审核结果"), ("warning", "预警通知"),
             ("overdue", "超期提醒"), ("remind", "催办"), ("system", "系统通知")]
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="接收人", on_delete=models.CASCADE,
                                  related_name="notices")
    kind = models.CharField("类别", max_length=16, choices=KINDS)
    title = models.CharField("标题", max_length=200)
    body = models.TextField("内容", blank=True)
    case = models.ForeignKey("cases.Case", verbose_name="案件", null=True, blank=True,
                             on_delete=models.CASCADE, related_name="notices")
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("阅读时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "消息"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="notice_inbox")]

    def __str__(self) -> str:
        return self.title
