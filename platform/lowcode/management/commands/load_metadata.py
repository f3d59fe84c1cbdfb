from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from lowcode import serialization


class Command(BaseCommand):
    help = "加载 metadata/*.yaml 中的出厂元数据（不覆盖本地已修改的记录）"

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.BASE_DIR / "metadata"))

    def handle(self, *args, **options):
        directory = Path(options["dir"])
        if not directory.is_dir():
            raise CommandError(f"目录不存在：{directory}")
        try:
            report = serialization.load(directory)
        except (ValueError, KeyError) as exc:
            raise CommandError(f"元数据文件有误：{exc}") from exc
        self.stdout.write(f"元数据：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
                          f"保留本地修改 {len(report.kept_site_changes)}")
        for label in report.kept_site_changes:
            self.stdout.write(f"  保留本地修改：{label}")
