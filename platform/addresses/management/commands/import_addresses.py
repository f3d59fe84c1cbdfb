"""python manage.py import_addresses FILE [FILE…] [--dry-run] [--source 名称]

Imports standard address lists (.xlsx / .csv; columns in addresses/importer.py and
addresses/README.md). Valid rows are imported, invalid ones are listed with a Chinese reason
each and skipped. The last line of the output is a JSON summary for scripts:
{"read": N, "new": N, "updated": N, "unchanged": N, "rejected": N}.
"""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from addresses import importer


class Command(BaseCommand):
    help = "导入标准地址库（.xlsx / .csv，表头：标准地址、街道编码、社区编码、网格编码、经度、纬度）"

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="地址库文件（.xlsx 或 .csv）")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--source", default="", help="来源说明（默认为文件名）")
        parser.add_argument("--max-rows", type=int, default=500_000, help="单个文件最多行数（默认 500000）")

    def handle(self, *args, files, dry_run, source, max_rows, **options):
        total = {"read": 0, "new": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        failed = False
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"文件不存在：{name}")
            try:
                # an address library is larger than a business import: lift the generic limits
                with override_settings(IMPORT_MAX_ROWS=max_rows, IMPORT_MAX_BYTES=200 * 1024 * 1024):
                    plan = importer.import_file(path, source=source, dry_run=dry_run)
            except importer.ImportFileError as exc:
                self.stderr.write(f"{path.name}：{exc}")
                failed = True
                continue
            if plan.file_errors:
                for e in plan.file_errors:
                    self.stderr.write(f"{path.name}：{e}")
                failed = True
                continue
            for row in plan.error_rows:
                self.stdout.write(f"{path.name} 第 {row.number} 行：{'；'.join(row.errors)}")
            c = plan.counts
            verb = "校验" if dry_run else "导入"
            self.stdout.write(f"{path.name}：读取 {c['read']} 行，新增 {c['new']}，更新 {c['updated']}，"
                              f"无变化 {c['unchanged']}，拒绝 {c['rejected']}" + ("（未写入）" if dry_run else "")
                              + f"，{verb}完成。")
            for k in total:
                total[k] += c[k]
        self.stdout.write(json.dumps(total, ensure_ascii=False))
        if failed and not total["read"]:
            raise CommandError("没有可导入的文件。")
