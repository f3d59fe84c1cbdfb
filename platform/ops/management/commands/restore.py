"""python manage.py restore BACKUP_DIR --database-url URL [--media-root DIR]

Restores a backup (ops/backup.py) into an EMPTY database — for the restore drill a new one
(createdb mdtj_restore), for a disaster the recreated production database — then verifies it:
row counts per table as in the manifest, every encrypted field decrypts with this environment's
SM4 key. Refuses before writing anything when the files' checksums or the keys do not match."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from ops import backup


class Command(BaseCommand):
    help = "从备份恢复到一个空数据库并校验（行数、敏感字段可解密）"

    def add_arguments(self, parser):
        parser.add_argument("path", help="备份目录 mdtj-<时间>")
        parser.add_argument("--database-url", required=True, help="目标空数据库，如 postgres://mdtj@127.0.0.1/mdtj_restore")
        parser.add_argument("--media-root", default=None, help="附件恢复到此目录（不填则不恢复附件）")
        parser.add_argument("--verify-only", action="store_true", help="只校验已恢复的数据库，不写入")

    def handle(self, *args, path, database_url, media_root, verify_only, **options):
        try:
            if verify_only:
                manifest = backup.read_manifest(path)
                backup.check_keys(manifest)
                result = backup.verify_restored(manifest, database_url)
            else:
                result = backup.restore(path, database_url, media_root=media_root)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"恢复校验通过：{result['tables']} 张表、{result['rows']} 行与备份一致，"
                          f"{result['decrypted']} 个加密字段值可解密。")
