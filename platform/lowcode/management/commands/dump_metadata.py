from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from lowcode import serialization


class Command(BaseCommand):
    help = "把数据库中的元数据写回 metadata/*.yaml（规范顺序，省略默认值）"

    def add_arguments(self, parser):
        parser.add_argument("--dir", default=str(settings.BASE_DIR / "metadata"))

    def handle(self, *args, **options):
        for path in serialization.dump(Path(options["dir"])):
            self.stdout.write(f"已写出 {path}")
