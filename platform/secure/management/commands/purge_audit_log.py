"""Retention of the security audit log: delete rows older than AUDIT_RETENTION_DAYS (never
fewer than 180 days — 等保三级 and 网络安全法第二十一条 ask for at least six months), oldest first,
keeping the chain verifiable (an ``audit_purge`` row records where it now starts).

``--install-schedule`` creates the daily django-q2 schedule instead (run by ``qcluster``)."""
from __future__ import annotations

from django.core.management.base import BaseCommand

from secure import audit


class Command(BaseCommand):
    help = "删除超过保存期限（至少 180 天）的安全审计日志，保持校验链可验证"

    def add_arguments(self, parser):
        parser.add_argument("--install-schedule", action="store_true", help="创建每日自动清理的后台计划任务")

    def handle(self, *args, **options):
        if options["install_schedule"]:
            created = audit.ensure_purge_schedule()
            self.stdout.write("已创建每日清理计划任务。" if created else "每日清理计划任务已存在。")
            return
        deleted = audit.purge()
        self.stdout.write(f"保存期限 {audit.retention_days()} 天：删除 {deleted} 条过期审计记录。")
