"""Security audit log (finding 4, 等保三级 安全审计 a–d, 密评 存储完整性): rows with time, subject,
IP, object, event type and outcome; append-only (application and, on PostgreSQL, database);
an HMAC-SM3 chain whose checker names the first changed, inserted or deleted row; retention of
at least 180 days that keeps the chain verifiable; concurrent writers keep one intact chain."""
from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.utils import timezone

from secure import audit
from secure.models import AppendOnlyError, AuditChainHead, SecurityEvent

pytestmark = [pytest.mark.django_db, pytest.mark.backend]  # backend: append-only audit table (triggers on PostgreSQL)


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


def tamper(sql: str, params=()) -> None:
    """What an attacker with database access does (PostgreSQL: past the trigger, as superuser)."""
    with connection.cursor() as cur:
        if on_postgres():
            cur.execute("SET session_replication_role = replica")  # triggers off for this session
        cur.execute(sql, params)
        if on_postgres():
            cur.execute("SET session_replication_role = origin")


def some_rows(n=5):
    return [audit.record("login", username=f"user{i}", ip_address="10.0.0.1", n=i) for i in range(n)]


def verify_message() -> str:
    with pytest.raises(CommandError) as exc:
        call_command("verify_audit_chain")
    return str(exc.value)


# --- the chain --------------------------------------------------------------------------
def test_rows_are_chained_with_hmac_sm3_and_the_checker_passes(capsys):
    rows = some_rows(3)
    assert [r.seq for r in rows] == [1, 2, 3]
    assert rows[0].prev_mac == "" and rows[1].prev_mac == rows[0].mac and rows[2].prev_mac == rows[1].mac
    assert all(len(r.mac) == 64 for r in rows)
    stored = SecurityEvent.objects.get(seq=2)  # read back: the MAC recomputes from what the DB holds
    assert audit.row_mac(stored) == stored.mac
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.mac) == (3, rows[2].mac)
    call_command("verify_audit_chain")
    assert "校验链无误" in capsys.readouterr().out


def test_the_mac_is_keyed_hmac_sm3_not_a_plain_hash(settings):
    row = some_rows(1)[0]
    settings.AUDIT_HMAC_KEY = "ab" * 32
    assert audit.row_mac(SecurityEvent.objects.get(pk=row.pk)) != row.mac  # another key, another MAC


def test_changed_row_is_named_by_the_checker():
    some_rows(5)
    victim = SecurityEvent.objects.get(seq=3)
    tamper("UPDATE secure_securityevent SET username = %s WHERE id = %s", ["attacker", victim.id])
    message = verify_message()
    assert "序号 3" in message and f"ID {victim.id}" in message
    assert audit.verify_chain()[0].seq == 3


def test_deleted_row_is_named_by_the_checker():
    some_rows(5)
    tamper("DELETE FROM secure_securityevent WHERE seq = 2")
    problems = audit.verify_chain()
    assert problems and problems[0].seq == 3 and "第 2–2 行缺失" in problems[0].message
    assert "序号 3" in verify_message()


def test_deleted_first_rows_and_a_truncated_tail_are_found():
    some_rows(5)
    tamper("DELETE FROM secure_securityevent WHERE seq IN (1, 5)")
    messages = [p.message for p in audit.verify_chain()]
    assert any("第 1–1 行缺失" in m for m in messages)
    assert any("末尾的 1 行被删除" in m for m in messages)


def test_inserted_row_is_named_by_the_checker():
    rows = some_rows(3)
    tamper("INSERT INTO secure_securityevent (seq, at, event, outcome, username, ip, object_repr, detail, "
           "prev_mac, mac) VALUES (4, %s, 'login', 'success', 'ghost', '', '', '{}', %s, %s)",
           [timezone.now(), rows[-1].mac, "0" * 64])
    first = audit.verify_chain()[0]
    assert first.seq == 4 and "被修改或伪造" in first.message


def test_a_forged_head_after_truncation_is_found():
    some_rows(4)
    last_kept = SecurityEvent.objects.get(seq=3)
    tamper("DELETE FROM secure_securityevent WHERE seq = 4")
    tamper("UPDATE secure_auditchainhead SET seq = 3, mac = %s WHERE id = 1", [last_kept.mac])
    assert any("链头被修改" in p.message for p in audit.verify_chain())


# --- append-only ----------------------------------------------------------------------
def test_the_application_cannot_update_or_delete_audit_rows():
    row = some_rows(1)[0]
    row.username = "changed"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.filter(pk=row.pk).update(username="changed")
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.create(seq=99, at=timezone.now(), event="login", mac="0" * 64)  # unchained
    with pytest.raises(AppendOnlyError):
        SecurityEvent.objects.bulk_create([SecurityEvent(seq=98, at=timezone.now(), event="x", mac="0")])
    assert SecurityEvent.objects.get(pk=row.pk).username == "user0"


def test_deleting_a_user_keeps_their_audit_rows():
    from accounts.models import User

    u = User.objects.create_user("leaver", password="Unused-pass-2026")
    audit.record("login", user=u)
    u.delete()
    assert SecurityEvent.objects.get(username="leaver").user_id is not None
    assert audit.verify_chain() == []


@pytest.mark.postgres
def test_postgres_refuses_raw_sql_update_and_delete():
    if not on_postgres():
        pytest.skip("数据库触发器只在 PostgreSQL 上（DATABASE_URL=postgres://…）")
    from django.db import DatabaseError, transaction

    row = some_rows(1)[0]
    for sql in ("UPDATE secure_securityevent SET username = 'x' WHERE id = %s",
                "DELETE FROM secure_securityevent WHERE id = %s"):
        with pytest.raises(DatabaseError, match="只能追加"):
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(sql, [row.id])
    # even with the purge flag a row younger than 180 days stays
    with pytest.raises(DatabaseError, match="只能追加"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SET LOCAL mdtj.audit_purge = 'on'")
            cur.execute("DELETE FROM secure_securityevent WHERE id = %s", [row.id])
    assert SecurityEvent.objects.get(pk=row.pk).username == "user0"


# --- retention --------------------------------------------------------------------------
def rows_at(days_ago: list[int], monkeypatch) -> list[SecurityEvent]:
    out = []
    real_now = timezone.now
    for d in days_ago:
        moment = real_now() - dt.timedelta(days=d)
        monkeypatch.setattr(audit.timezone, "now", lambda m=moment: m)
        out.append(audit.record("login", username=f"d{d}"))
    monkeypatch.setattr(audit.timezone, "now", real_now)
    return out


def test_purge_keeps_180_days_and_the_chain_stays_verifiable(monkeypatch, settings, capsys):
    settings.AUDIT_RETENTION_DAYS = 30  # below the legal minimum: 180 days are kept anyway
    rows_at([400, 300, 181, 179, 10, 0], monkeypatch)
    call_command("purge_audit_log")
    assert "删除 3 条" in capsys.readouterr().out
    kept = list(SecurityEvent.objects.order_by("seq").values_list("username", flat=True))
    assert kept == ["d179", "d10", "d0", "system"]
    mark = SecurityEvent.objects.get(event="audit_purge")
    assert mark.detail["through_seq"] == 3 and mark.detail["retention_days"] == 180
    assert audit.verify_chain() == []
    call_command("purge_audit_log")  # nothing more to purge: no new row
    assert SecurityEvent.objects.filter(event="audit_purge").count() == 1
    # a purge mark does not excuse deleting more of the kept rows
    tamper("DELETE FROM secure_securityevent WHERE username = 'd179'")
    assert audit.verify_chain()[0].message.startswith("第 1–4 行缺失")


def test_retention_setting_is_honoured_above_180_days(monkeypatch, settings):
    settings.AUDIT_RETENTION_DAYS = 365
    rows_at([400, 300, 0], monkeypatch)
    assert audit.purge() == 1
    assert audit.verify_chain() == []


# --- concurrency ------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_intact_chain():
    if not on_postgres() and "memory" in str(connection.settings_dict.get("NAME", "")):
        pytest.skip("并发写入需要文件数据库（PostgreSQL 或 SQLite 文件）；内存库的多线程连接不真正并发")
    errors: list[BaseException] = []

    def writer(i):
        try:
            for j in range(15):
                assert audit.record("login", username=f"w{i}-{j}") is not None
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert list(SecurityEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, 61))
    assert audit.verify_chain() == []


# --- forwarding ---------------------------------------------------------------------------
def test_rows_are_copied_as_json_lines_for_a_central_collector(settings, tmp_path, django_capture_on_commit_callbacks):
    settings.AUDIT_JSONL_PATH = str(tmp_path / "audit.jsonl")
    with django_capture_on_commit_callbacks(execute=True):
        row = audit.record("login_failed", username="nobody", outcome="failure")
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    data = json.loads(lines[-1])
    assert data["seq"] == row.seq and data["event"] == "login_failed" and data["outcome"] == "failure"
    assert data["mac"] == row.mac and data["event_label"] == "登录失败"


def test_a_failing_audit_write_never_breaks_the_callers_work(settings, caplog):
    settings.AUDIT_HMAC_KEY = "short"
    assert audit.record("login", username="x") is None
    assert "安全审计日志写入失败" in caplog.text
    assert not SecurityEvent.objects.exists()


def test_deploy_check_requires_the_audit_key(settings):
    from django.core import checks

    settings.AUDIT_HMAC_KEY = ""
    errors = [e for e in checks.run_checks(include_deployment_checks=True) if e.id == "secure.E001"]
    assert errors and "AUDIT_HMAC_KEY" in errors[0].msg


def test_the_nightly_check_writes_its_verdict_into_the_log():
    from django_q.models import Schedule

    assert Schedule.objects.filter(func="secure.audit.verify_task", schedule_type=Schedule.DAILY).exists()
    assert Schedule.objects.filter(func="secure.audit.purge", schedule_type=Schedule.DAILY).exists()
    some_rows(3)
    assert audit.verify_task() == 0
    assert SecurityEvent.objects.get(event="audit_verify").outcome == "success"
    tamper("UPDATE secure_securityevent SET ip = '6.6.6.6' WHERE seq = 2")
    assert audit.verify_task() >= 1
    last = SecurityEvent.objects.filter(event="audit_verify").order_by("-seq").first()
    assert last.outcome == "failure" and "序号 2" in last.detail["first"]
