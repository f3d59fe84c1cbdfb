import json

from django.core.management.base import BaseCommand, CommandError

from clues.ingest import UnknownSource, reclean, write_report
from clues.management.commands.ingest import summary_line


class Command(BaseCommand):
    help = "按当前清洗规则，用已保存的原始记录重建一个来源的线索/归集案件：python manage.py reclean 来源编码"

    def add_arguments(self, parser):
        parser.add_argument("source")

    def handle(self, *args, **options):
        try:
            result = reclean(options["source"])
        except UnknownSource as exc:
            raise CommandError(str(exc)) from exc
        batch = result.batch
        counts = batch.counts()
        self.stdout.write(f"【{batch.channel.name}】重新清洗：{summary_line(counts)}")
        if batch.rejected:
            self.stdout.write(f"  拒绝记录报告：{write_report(batch)}")
        self.stdout.write(json.dumps(counts, ensure_ascii=False))
