import json

from django.core.management.base import BaseCommand, CommandError

from clues.ingest import UnknownSource, ingest, write_report

LABELS = (("read", "读取"), ("new", "新增"), ("updated", "更新"), ("unchanged", "未变"), ("rejected", "拒绝"))


def summary_line(counts: dict) -> str:
    return "，".join(f"{label} {counts[key]}" for key, label in LABELS)


class Command(BaseCommand):
    help = ("归集一个来源的文件（JSON Lines 或 .xlsx）：python manage.py ingest 来源编码 文件 [文件…]。"
            "最后一行输出 JSON 汇总，拒绝的记录写入报告文件。")

    def add_arguments(self, parser):
        parser.add_argument("source", help="来源编码（数据来源中登记的编码，如 hotline12345；见 metadata/channels.yaml）")
        parser.add_argument("files", nargs="+", help="文件路径")
        parser.add_argument("--report-dir", default=None, help="拒绝记录报告目录（默认 var/ingest-reports）")

    def handle(self, *args, **options):
        from pathlib import Path

        total = {key: 0 for key, _ in LABELS}
        for file in options["files"]:
            try:
                result = ingest(options["source"], file, origin="command")
            except UnknownSource as exc:
                raise CommandError(str(exc)) from exc
            batch = result.batch
            counts = batch.counts()
            for key in total:
                total[key] += counts[key]
            seconds = (batch.finished_at - batch.started_at).total_seconds() if batch.finished_at else 0
            self.stdout.write(f"【{batch.channel.name}】{batch.file_name}：{summary_line(counts)}"
                              f"（用时 {seconds:.1f} 秒）")
            if result.file_error:
                self.stdout.write(f"  文件问题：{result.file_error}")
            if batch.rejected or result.file_error:
                directory = Path(options["report_dir"]) if options["report_dir"] else None
                path = write_report(batch, directory=directory)
                self.stdout.write(f"  拒绝记录报告：{path}")
        if len(options["files"]) > 1:
            self.stdout.write(f"合计：{summary_line(total)}")
        self.stdout.write(json.dumps(total, ensure_ascii=False))
