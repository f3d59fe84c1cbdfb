"""python manage.py evaluate_warnings [--now 2026-12-01T09:00] [--case ID ...] [--quiet]
                                      [--install-schedule]

Re-evaluates the escalation warnings of every case and person (what the daily job does), or of
the given cases. The last line is JSON counts."""
import json

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "重新研判案件与当事人升级预警"

    def add_arguments(self, parser):
        parser.add_argument("--now", help="按指定时间研判（ISO 8601，默认现在）")
        parser.add_argument("--case", type=int, nargs="*", help="只研判这些案件（主键）")
        parser.add_argument("--no-notify", action="store_true", help="颜色变化不发通知（初次上线时用）")
        parser.add_argument("--install-schedule", action="store_true", help="创建每日研判的定时任务")

    def handle(self, *args, **opts):
        from cases.tasks import parse_moment
        from extensions.escalation import evaluate, party, tasks

        if opts["install_schedule"]:
            self.stdout.write("已创建定时任务" if tasks.ensure_schedule() else "定时任务已存在")
        try:
            now = parse_moment(opts["now"]) if opts["now"] else None
        except ValueError as exc:
            raise CommandError(f"时间格式不对：{opts['now']}（例：2026-12-01T09:00）") from exc
        if opts["case"]:
            report = evaluate.evaluate_cases(opts["case"], now=now, notify=not opts["no_notify"])
            party.evaluate_persons(report.persons, now=now)
        else:
            report = evaluate.evaluate_all(now, notify=not opts["no_notify"])
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
