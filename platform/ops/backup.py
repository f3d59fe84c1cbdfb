"""Backup and restore drill (deploy/README.md “备份与恢复”).

A backup is one directory ``mdtj-<timestamp>/`` holding

- ``database.dump`` (PostgreSQL, ``pg_dump -Fc``) or ``database.sqlite3`` (SQLite backup API);
- ``media.tar.gz``: uploaded case files, photos and signatures (MEDIA_ROOT);
- ``manifest.json``: rows per table, SHA-256 of each file and the *fingerprints* of the keys.

The keys themselves are never in a backup (they live in the key-management system): without the
SM4 key a restored database shows ciphertext instead of ID numbers and phones. The key-escrow
check is therefore part of both steps: a backup records which keys its data needs, and a restore
refuses to proceed when the keys of this environment are not those keys.

``verify_restored`` is the drill: the restored database answers, has the manifest's row counts
and every encrypted column decrypts with the current key.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
from django.apps import apps
from django.conf import settings
from django.db import connections

KEY_SETTINGS = ("SM4_KEY", "BLIND_INDEX_KEY", "AUDIT_HMAC_KEY")
MANIFEST = "manifest.json"
RESTORE_ALIAS = "restore_check"


class BackupError(Exception):
    """A step failed; the message is Chinese and names what to do."""


def key_fingerprint(name: str) -> str:
    """Which key it is, not the key: HMAC-SHA256 of a fixed label under the key, first 16 hex."""
    value = str(getattr(settings, name, "") or "")
    if not value:
        return ""
    return hmac.new(value.encode(), b"mdtj-key-escrow-check", hashlib.sha256).hexdigest()[:16]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _models():
    return [m for m in apps.get_models() if m._meta.managed and not m._meta.proxy]


def row_counts(alias: str = "default") -> dict[str, int]:
    return {m._meta.db_table: m._default_manager.db_manager(alias).count() for m in _models()}


def _encrypted_fields():
    for m in _models():
        for f in m._meta.concrete_fields:
            if any(c.__name__ == "EncryptedField" for c in type(f).__mro__):
                yield m, f


def _pg_env(db: dict) -> dict:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_args(db: dict) -> list[str]:
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return args


def _run(cmd: list[str], env: dict, what: str) -> None:
    try:
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=6 * 3600)
    except FileNotFoundError as exc:
        raise BackupError(f"{what}失败：找不到命令 {cmd[0]}（请安装 postgresql-client）") from exc
    if done.returncode != 0:
        raise BackupError(f"{what}失败：{done.stderr.strip()[-500:]}")


@dataclass
class Backup:
    path: Path
    manifest: dict = field(default_factory=dict)


def create(dest: str | Path, *, alias: str = "default", with_media: bool = True) -> Backup:
    missing = [n for n in KEY_SETTINGS if not key_fingerprint(n)]
    if missing:
        raise BackupError(f"密钥未配置：{'、'.join(missing)}。没有密钥的备份无法恢复出可读的数据。")
    conn = connections[alias]
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = Path(dest) / f"mdtj-{stamp}"
    out.mkdir(parents=True, exist_ok=False)
    os.chmod(out, 0o700)
    db = conn.settings_dict
    counts = row_counts(alias)  # before the dump: rows written meanwhile only add to the dump
    if conn.vendor == "postgresql":
        dump = out / "database.dump"
        _run(["pg_dump", "-Fc", "--no-owner", "--no-privileges", *_pg_args(db), "-f", str(dump), str(db["NAME"])],
             _pg_env(db), "数据库备份（pg_dump）")
    elif conn.vendor == "sqlite":
        dump = out / "database.sqlite3"
        conn.ensure_connection()
        target = sqlite3.connect(dump)
        try:
            conn.connection.backup(target)
        finally:
            target.close()
    else:
        raise BackupError(f"不支持的数据库类型 {conn.vendor}：请用数据库自带的备份工具（达梦：dexp / DM 备份）")
    files = {dump.name: _sha256(dump)}
    media_root = Path(settings.MEDIA_ROOT)
    if with_media:
        archive = out / "media.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            if media_root.is_dir():
                for child in sorted(media_root.iterdir()):
                    if child.name != "imports":  # uploads waiting for a preview's confirm
                        tar.add(child, arcname=child.name)
        files[archive.name] = _sha256(archive)
    manifest = {"created_at": dt.datetime.now().astimezone().isoformat(), "vendor": conn.vendor,
                "counts": counts, "files": files, "keys": {n: key_fingerprint(n) for n in KEY_SETTINGS}}
    (out / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return Backup(out, manifest)


def read_manifest(path: str | Path) -> dict:
    p = Path(path) / MANIFEST
    if not p.is_file():
        raise BackupError(f"{path} 不是本系统的备份目录（没有 {MANIFEST}）")
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise BackupError(f"{MANIFEST} 已损坏") from exc


def check_files(path: str | Path, manifest: dict) -> None:
    for name, digest in manifest.get("files", {}).items():
        f = Path(path) / name
        if not f.is_file():
            raise BackupError(f"备份文件缺失：{name}")
        if _sha256(f) != digest:
            raise BackupError(f"备份文件校验失败（内容被改动或不完整）：{name}")


def check_keys(manifest: dict) -> None:
    """The key-escrow check: this environment holds the keys the backup's data needs."""
    wrong = [n for n, fp in manifest.get("keys", {}).items() if fp and key_fingerprint(n) != fp]
    if wrong:
        raise BackupError(f"当前环境的 {'、'.join(wrong)} 与备份时不同：恢复后的敏感字段将无法解密、审计链无法校验。"
                          "请从密钥管理系统取回备份时的密钥后再恢复。")


def _target_settings(database_url: str) -> dict:
    parsed = dj_database_url.parse(database_url)
    base = dict(connections.settings["default"])
    base.update(parsed)
    base["OPTIONS"] = parsed.get("OPTIONS", {})
    base["CONN_MAX_AGE"] = 0
    base["TEST"] = {"NAME": None, "MIRROR": None, "MIGRATE": False, "CHARSET": None, "COLLATION": None}
    return base


def restore(path: str | Path, database_url: str, *, media_root: str | Path | None = None) -> dict:
    """Restore into an EMPTY database (a new one for a drill, or a recreated production one)."""
    path = Path(path)
    manifest = read_manifest(path)
    check_files(path, manifest)
    check_keys(manifest)
    target = _target_settings(database_url)
    vendor = "postgresql" if "postgres" in target["ENGINE"] else "sqlite" if "sqlite" in target["ENGINE"] else ""
    if vendor != manifest.get("vendor"):
        raise BackupError(f"备份来自 {manifest.get('vendor')} 数据库，不能恢复到 {vendor or target['ENGINE']}")
    if vendor == "postgresql":
        _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", *_pg_args(target),
              "-d", str(target["NAME"]), str(path / "database.dump")], _pg_env(target), "数据库恢复（pg_restore）")
    else:
        dest = Path(target["NAME"])
        if dest.exists() and dest.stat().st_size > 0:
            raise BackupError(f"目标数据库文件已存在：{dest}（恢复只写入空库）")
        shutil.copyfile(path / "database.sqlite3", dest)
    if media_root is not None and (path / "media.tar.gz").is_file():
        Path(media_root).mkdir(parents=True, exist_ok=True)
        with tarfile.open(path / "media.tar.gz", "r:gz") as tar:
            tar.extractall(media_root, filter="data")
    return verify_restored(manifest, database_url)


def verify_restored(manifest: dict, database_url: str) -> dict:
    """Counts per table equal the manifest's; every encrypted value decrypts with the current key."""
    connections.settings[RESTORE_ALIAS] = _target_settings(database_url)
    try:
        counts = row_counts(RESTORE_ALIAS)
        differ = {t: (n, counts.get(t)) for t, n in manifest["counts"].items() if counts.get(t) != n}
        decrypted = 0
        for model, f in _encrypted_fields():
            qs = model._default_manager.db_manager(RESTORE_ALIAS).exclude(**{f.attname: ""}).exclude(
                **{f"{f.attname}__isnull": True})
            try:
                decrypted += sum(1 for _ in qs.values_list(f.attname, flat=True).iterator())
            except ValueError as exc:  # secure.crypto.DecryptionError
                raise BackupError(f"{model._meta.verbose_name}的“{f.verbose_name}”无法解密：{exc}") from exc
        if differ:
            first = "；".join(f"{t}：备份 {a} 行，恢复后 {b} 行" for t, (a, b) in list(differ.items())[:5])
            raise BackupError(f"恢复后的行数与备份不一致：{first}")
        return {"tables": len(counts), "rows": sum(counts.values()), "decrypted": decrypted}
    finally:
        try:
            connections[RESTORE_ALIAS].close()
            del connections[RESTORE_ALIAS]
        except (AttributeError, KeyError):
            pass
        connections.settings.pop(RESTORE_ALIAS, None)
