"""python manage.py backup DEST_DIR [--no-media] [--keep-days N]

Writes DEST_DIR/mdtj-<timestamp>/ (database, media, manifest with row counts and key
fingerprints; ops/backup.py). Refuses when a key is missing. --keep-days removes older backups
of DEST_DIR (never fewer than 180 days: 等保 keeps audit records at least six months)."""
from __future__ import annotations

import shutil
import time
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops import backup


class Command(BaseCommand):
    help = "备份数据库、附件与密钥指纹（不含密钥本身）"

    def add_arguments(self, parser):
        parser.add_argument("dest", help="备份目录，如 /var/backups/mdtj")
        parser.add_argument("--no-media", action="store_true", help="不备份附件（MEDIA_ROOT）")
        parser.add_argument("--keep-days", type=int, default=0, help="删除早于 N 天的备份（N ≥ 180；0 为不删除）")

    def handle(self, *args, dest, no_media, keep_days, **options):
        if keep_days and keep_days < 180:
            raise CommandError("--keep-days 不能小于 180（等保要求审计记录至少保存六个月）")
        try:
            made = backup.create(dest, with_media=not no_media)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(made.manifest["counts"].values())
        self.stdout.write(f"备份完成：{made.path}（{len(made.manifest['counts'])} 张表，{rows} 行）。"
                          "密钥不在备份中：请确认 SM4_KEY、BLIND_INDEX_KEY、AUDIT_HMAC_KEY 已在密钥管理系统托管。")
        if keep_days:
            cutoff = time.time() - keep_days * 86400
            for old in Path(dest).glob("mdtj-*"):
                if old.is_dir() and old != made.path and old.stat().st_mtime < cutoff:
                    shutil.rmtree(old)
                    self.stdout.write(f"已删除过期备份：{old.name}")
