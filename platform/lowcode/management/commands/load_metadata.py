from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lowcode import metakinds, serialization


class Command(BaseCommand):
    help = "加载出厂元数据（所有已登记的类别；不覆盖本地已修改的记录，不动本地新增的记录）"

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=None, help="元数据根目录（默认 metadata/）")
        parser.add_argument("--kind", action="append", default=None,
                            help="只加载这些类别（可重复；其依赖的类别一并加载）")

    def handle(self, *args, **options):
        root = Path(options["dir"]) if options["dir"] else metakinds.metadata_root()
        if not root.is_dir():
            raise CommandError(f"目录不存在：{root}")
        try:
            report = serialization.load_metadata(options["kind"], root)
        except (serialization.MetadataError, KeyError) as exc:
            raise CommandError(f"元数据文件有误：{exc.args[0] if exc.args else exc}") from exc
        self.stdout.write(f"元数据：{report.summary()}")
        for label in report.kept_site_changes:
            self.stdout.write(f"  保留本地修改：{label}")
