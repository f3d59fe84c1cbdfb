"""manage.py check_deadlines [--now ISO] [--install-schedule]: the hourly time-limit and chasing
run (the same as the django-q2 schedule), by hand. The last line is JSON with the counts."""
from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases import chasing
from cases.tasks import SCHEDULE_NAME, ensure_schedule, parse_moment


class Command(BaseCommand):
    help = "检查办理时限与催办：超期案件、审核催办与上报上级、长期无进展案件（与每小时的定时任务相同）"

    def add_arguments(self, parser):
        parser.add_argument("--now", help="按此时间检查（ISO 8601，如 2026-12-01T09:00 或 2026-12-01T09:00+08:00；"
                                          "不带时区按北京时间），默认当前时间")
        parser.add_argument("--install-schedule", action="store_true",
                            help=f"同时创建每小时运行的定时任务“{SCHEDULE_NAME}”（已存在则不变）")

    def handle(self, *args, now=None, install_schedule=False, **options):
        moment = timezone.now()
        if now:
            try:
                moment = parse_moment(now)
            except ValueError:
                raise CommandError(f"--now 不是有效的时间：{now}（示例：2026-12-01T09:00+08:00）")
        if install_schedule:
            created = ensure_schedule()
            self.stdout.write(f"定时任务“{SCHEDULE_NAME}”：{'已创建' if created else '已存在'}")
        counts = chasing.check_all(moment)
        self.stdout.write(f"检查时间：{timezone.localtime(moment):%Y-%m-%d %H:%M}")
        self.stdout.write(f"  超期案件（已通知承办人）：{counts['overdue']} 件")
        self.stdout.write(f"  审核催办（已提醒审核人）：{counts['reminded']} 条")
        self.stdout.write(f"  审核超时上报上级：{counts['escalated']} 条")
        self.stdout.write(f"  长期无进展案件（已提醒承办人）：{counts['stale']} 件")
        self.stdout.write(json.dumps({k: counts[k] for k in chasing.KINDS}))
