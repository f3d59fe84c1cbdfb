"""Check the HMAC-SM3 chain of the security audit log; name the first tampered row.

Exit status 0: intact. Non-zero (CommandError): a row was changed, inserted or deleted, or the
chain head disagrees — the first problem is printed first. Run it daily (cron) or before an
assessment; it reads the whole table in chunks."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from secure import audit
from secure.models import SecurityEvent


class Command(BaseCommand):
    help = "校验安全审计日志的 HMAC-SM3 链，指出第一条被篡改（修改、插入、删除）的记录"

    def add_arguments(self, parser):
        parser.add_argument("--all", action="store_true", help="列出全部问题（默认只列前 20 条）")

    def handle(self, *args, **options):
        problems = audit.verify_chain()
        count = SecurityEvent.objects.count()
        if not problems:
            self.stdout.write(self.style.SUCCESS(f"审计日志完整：共 {count} 条记录，校验链无误。"))
            return
        first = problems[0]
        self.stderr.write(self.style.ERROR(f"第一处篡改：{first.message}"))
        shown = problems if options["all"] else problems[:20]
        for p in shown[1:]:
            self.stderr.write(f"  另有：{p.message}")
        if len(problems) > len(shown):
            self.stderr.write(f"  ……共 {len(problems)} 处问题（--all 显示全部）")
        raise CommandError(f"审计日志校验失败：共 {len(problems)} 处问题，第一处在序号 {first.seq}"
                           + (f"（ID {first.row_id}）" if first.row_id else ""))
