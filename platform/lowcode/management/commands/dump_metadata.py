from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from lowcode import serialization


class Command(BaseCommand):
    help = "把数据库中的元数据写回出厂文件的位置（所有已登记的类别；规范顺序，省略默认值）"

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=None, help="元数据根目录（默认 metadata/）")
        parser.add_argument("--kind", action="append", default=None, help="只写出这些类别（可重复）")

    def handle(self, *args, **options):
        try:
            paths = serialization.dump_metadata(Path(options["dir"]) if options["dir"] else None, options["kind"])
        except KeyError as exc:
            raise CommandError(exc.args[0]) from exc
        for path in paths:
            self.stdout.write(f"已写出 {path}")
