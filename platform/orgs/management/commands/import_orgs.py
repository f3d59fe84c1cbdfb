"""python manage.py import_orgs FILE [FILE…] [--dry-run] [--skip-errors] [--passwords-out PATH]

Day one: the region tree, the organisations and the user accounts from Excel/CSV (orgs/importer.py;
one kind per file, recognised by its headers; give them in the order 区域, 组织机构, 用户). A file
with any invalid row writes nothing (each row's reason is printed) unless --skip-errors. New
accounts get a random initial password: written to --passwords-out (mode 600), or printed once.
"""
from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orgs import importer


class Command(BaseCommand):
    help = "导入区域树、组织机构、用户（.xlsx / .csv，按表头识别类别）"

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", help="导入文件，按 区域、组织机构、用户 的顺序")
        parser.add_argument("--dry-run", action="store_true", help="只校验，不写入")
        parser.add_argument("--skip-errors", action="store_true", help="跳过有错误的行，导入其余的行")
        parser.add_argument("--passwords-out", default="", help="新账号初始密码写入此 CSV 文件（权限 600）")

    def handle(self, *args, files, dry_run, skip_errors, passwords_out, **options):
        total = {"read": 0, "new": 0, "updated": 0, "unchanged": 0, "rejected": 0}
        passwords: list[tuple[str, str]] = []
        failed = False
        for name in files:
            path = Path(name)
            if not path.is_file():
                raise CommandError(f"文件不存在：{name}")
            try:
                plan = importer.plan_import(importer.read(path), filename=path.name)
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
            blocked = bool(plan.error_rows) and not skip_errors
            if not dry_run and not blocked:
                result = importer.apply_import(plan)
                passwords += result["passwords"]
            note = "（未写入：只校验）" if dry_run else ("（有错误行，未写入任何数据；改正后重试，或加 --skip-errors）"
                                                if blocked else "")
            failed = failed or blocked
            self.stdout.write(f"{path.name}（{plan.kind_label}）：读取 {c['read']} 行，新增 {c['new']}，更新 {c['updated']}，"
                              f"无变化 {c['unchanged']}，有错误 {c['rejected']}{note}")
            for k in total:
                total[k] += c[k]
        if passwords:
            if passwords_out:
                fd = os.open(passwords_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(["账号", "初始密码"])
                    writer.writerows(passwords)
                self.stdout.write(f"{len(passwords)} 个新账号的初始密码已写入 {passwords_out}（权限 600），交付后请删除。")
            else:
                self.stdout.write("新账号的初始密码（只显示这一次，首次登录须修改）：")
                for username, password in passwords:
                    self.stdout.write(f"  {username}\t{password}")
        self.stdout.write(json.dumps(total, ensure_ascii=False))
        if failed:
            raise CommandError("部分文件未导入，见上面的说明。")
