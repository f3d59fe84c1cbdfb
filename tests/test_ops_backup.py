"""Issue #17: backup and the restore drill — a second database comes up from the backup with the
same rows, its encrypted ID numbers and phones decrypt, its files are back; a backup taken under
other keys, or a damaged file, is refused before anything is written."""
from __future__ import annotations

import io
import json
import uuid

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ops import backup

pytestmark = [pytest.mark.backend, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def allow_the_drill_databases(monkeypatch):
    """Django's test case refuses connections to aliases it was not told about; the drill's second
    database is one on purpose (ops.backup opens it under RESTORE_ALIAS)."""
    from django.db.backends.base.base import BaseDatabaseWrapper

    patched = BaseDatabaseWrapper.ensure_connection
    cells = [c.cell_contents for c in (patched.__closure__ or ())]
    real = next((c for c in cells if getattr(c, "__name__", "") == "ensure_connection"), patched)

    def ensure(self, *args, **kwargs):
        return (real if self.alias in (backup.RESTORE_ALIAS, "drill") else patched)(self, *args, **kwargs)

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", ensure)


@pytest.fixture
def target_url(tmp_path):
    """An empty second database of the same kind as the one under test."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    import psycopg

    db = connection.settings_dict
    name = f"{db['NAME']}_restore_{uuid.uuid4().hex[:6]}"
    params = dict(host=db.get("HOST") or None, port=db.get("PORT") or None, user=db.get("USER") or None,
                  password=db.get("PASSWORD") or None, dbname="postgres", autocommit=True)
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    auth = db.get("USER") + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    yield f"postgres://{auth}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{name}"
    with psycopg.connect(**{k: v for k, v in params.items() if v is not None}) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def case_with_party(world, make_case, settings, tmp_path):
    from cases.models import Party

    settings.MEDIA_ROOT = str(tmp_path / "media")
    (tmp_path / "media" / "cases").mkdir(parents=True)
    (tmp_path / "media" / "cases" / "photo.jpg").write_bytes(b"\xff\xd8 synthetic photo")
    case = make_case()
    Party.objects.create(case=case, role="applicant", name="备份演练人", id_number="110101199003070011", phone="13800000000")
    return case


def test_the_restore_drill_brings_up_a_second_database_whose_secrets_decrypt(case_with_party, target_url, tmp_path):
    out = io.StringIO()
    call_command("backup", str(tmp_path / "bk"), stdout=out)
    assert "备份完成" in out.getvalue()
    made = next((tmp_path / "bk").glob("mdtj-*"))
    manifest = json.loads((made / "manifest.json").read_text())
    assert manifest["counts"]["cases_party"] >= 1 and manifest["counts"]["cases_case"] >= 1
    raw = (made / ("database.sqlite3" if connection.vendor == "sqlite" else "database.dump")).read_bytes()
    assert b"110101199003070011" not in raw  # the dump holds ciphertext only
    from django.conf import settings

    assert settings.SM4_KEY not in (made / "manifest.json").read_text()  # a fingerprint, not the key
    out = io.StringIO()
    call_command("restore", str(made), "--database-url", target_url, "--media-root", str(tmp_path / "m2"), stdout=out)
    assert "恢复校验通过" in out.getvalue()
    assert (tmp_path / "m2" / "cases" / "photo.jpg").read_bytes() == b"\xff\xd8 synthetic photo"
    # the restored party reads back in clear through the ORM with this environment's key
    connections_settings = backup._target_settings(target_url)
    from django.db import connections

    connections.settings["drill"] = connections_settings
    try:
        from cases.models import Party

        assert Party.objects.using("drill").get(name="备份演练人").id_number == "110101199003070011"
    finally:
        connections["drill"].close()
        connections.settings.pop("drill")


def test_a_backup_under_other_keys_or_damaged_is_refused_before_writing(case_with_party, target_url, tmp_path, settings):
    made = backup.create(tmp_path / "bk").path
    key = settings.SM4_KEY
    settings.SM4_KEY = "0" * 32
    with pytest.raises(CommandError, match="SM4_KEY 与备份时不同"):
        call_command("restore", str(made), "--database-url", target_url, stdout=io.StringIO())
    settings.SM4_KEY = key
    dump = next(p for p in made.iterdir() if p.name.startswith("database."))
    dump.write_bytes(dump.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(CommandError, match="备份文件校验失败"):
        call_command("restore", str(made), "--database-url", target_url, stdout=io.StringIO())
    if connection.vendor == "sqlite":
        assert not (tmp_path / "restored.sqlite3").exists()


def test_no_backup_without_the_keys(db, settings, tmp_path):
    settings.BLIND_INDEX_KEY = ""
    with pytest.raises(CommandError, match="密钥未配置：BLIND_INDEX_KEY"):
        call_command("backup", str(tmp_path / "bk"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="不能小于 180"):
        call_command("backup", str(tmp_path / "bk"), "--keep-days", "30", stdout=io.StringIO())
