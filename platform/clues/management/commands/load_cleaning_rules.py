from django.core.management.base import BaseCommand, CommandError

from clues.rules import load_shipped, rules_dir


class Command(BaseCommand):
    help = "加载 metadata/cleaning/*.yaml 中的出厂数据来源与清洗规则（不覆盖本地已修改的规则）"

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=None, help="规则目录（默认 metadata/cleaning）")

    def handle(self, *args, **options):
        from pathlib import Path

        directory = Path(options["dir"]) if options["dir"] else rules_dir()
        if not directory.is_dir():
            raise CommandError(f"目录不存在：{directory}")
        try:
            report = load_shipped(directory)
        except (ValueError, KeyError) as exc:
            raise CommandError(f"清洗规则文件有误：{exc}") from exc
        except Exception as exc:  # ValidationError from validate_rule
            messages = getattr(exc, "messages", None)
            if messages:
                raise CommandError("清洗规则文件有误：" + "；".join(messages)) from exc
            raise
        self.stdout.write(f"清洗规则：新增 {report.created}，更新 {report.updated}，未变 {report.unchanged}，"
                          f"保留本地修改 {len(report.kept_site_changes)}")
        for source in report.kept_site_changes:
            self.stdout.write(f"  保留本地修改：{source}")
