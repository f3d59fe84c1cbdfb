"""Finding 5 (clues part): personal data of the outside channels at rest and on screen.

Raw payloads, their earlier versions and rejection excerpts are SM4-encrypted in the database
(read back here with plain SQL, as an assessor with a database client would); the application
still reads them (reclean, quality page, raw record screen); the rejected-records report and the
screens that show raw content show it masked; stored cleaning messages quote no phone or party;
existing rows are encrypted by the data migration, chunk by chunk."""
from __future__ import annotations

import csv
import importlib
import io
import json

import pytest
from django.db import connection
from django.urls import reverse

from tests.samples import SAMPLES

NAME, PHONE, ID_NUMBER = "欧阳振华", "13912345678", "330102199001011234"
PHONE_MASKED, ID_MASKED, NAME_MASKED = "139****5678", "3301**********1234", "欧阳某"


pytestmark = pytest.mark.backend  # depends on the database backend: encrypted raw payloads

def sample(source: str) -> list[dict]:
    return [json.loads(x) for x in (SAMPLES / f"{source}.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


def write_jsonl(path, records):
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                            for r in records), encoding="utf-8")
    return path


def column(table: str, name: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT {name} FROM {table}")
        return [r[0] for r in cur.fetchall()]


def leaks(values, secrets) -> list[str]:
    return [s for s in secrets for v in values if s in (v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))]


@pytest.fixture
def run(world, settings, tmp_path):
    from clues.ingest import ingest
    from lowcode.serialization import load_metadata

    settings.INGEST_REPORT_DIR = tmp_path / "reports"
    load_metadata(["cleaning_rules"])

    def do(source, path):
        return ingest(source, path, origin="command")
    return do


@pytest.fixture
def dirty_hotline(run, tmp_path):
    """12345 records with our person in them, one of them delivered twice (a version), and three
    refused lines that carry the name, the phone and the ID number."""
    records = sample("hotline12345")
    records[0] = dict(records[0], 来电人=NAME, 来电号码=PHONE, 诉求内容=f"{NAME}称邻居噪音扰民，身份证{ID_NUMBER}")
    run("hotline12345", write_jsonl(tmp_path / "a.jsonl", records))
    records[0]["诉求标题"] += "（已补充）"
    refused = [
        {"来电人": NAME, "来电号码": PHONE, "诉求内容": f"身份证{ID_NUMBER}"},           # no 工单编号
        f'{{"工单编号": "HOTX1", "来电人": "{NAME}", "来电号码": "{PHONE}", "诉求内容": "{ID_NUMBER}',  # broken JSON
        dict(records[1], 工单编号="HOTX2", 来电时间="坏时间", 来电人=NAME, 来电号码=PHONE),   # uncleanable, stored raw
    ]
    result = run("hotline12345", write_jsonl(tmp_path / "b.jsonl", records + refused))
    assert result.counts["updated"] == 1 and result.counts["rejected"] == 3, \
        list(result.batch.rejections.values_list("reason", flat=True))
    return result.batch


# --- at rest ----------------------------------------------------------------------------------------
def test_raw_payloads_and_versions_are_sm4_ciphertext_in_the_database(dirty_hotline):
    from clues.models import RawRecord

    for table in ("clues_rawrecord", "clues_rawrecordversion"):
        stored = column(table, "payload")
        assert stored and all(v.startswith("sm4gcm1:") for v in stored), table
        assert not leaks(stored, [NAME, PHONE, ID_NUMBER, "曾强英", "青山镇"]), table
    # the application reads them decrypted
    raw = RawRecord.objects.get(record_key="hotline12345:HOT2026060900013")
    assert raw.payload["来电人"] == NAME and raw.payload["诉求标题"].endswith("（已补充）")
    assert raw.versions.get().payload["来电号码"] == PHONE
    assert RawRecord.objects.get(record_key="hotline12345:HOTX2").payload["来电人"] == NAME


def test_sql_search_inside_payloads_is_refused_not_silently_wrong(dirty_hotline):
    from django.core.exceptions import FieldError

    from clues.models import RawRecord

    with pytest.raises(FieldError):
        list(RawRecord.objects.filter(payload__icontains=NAME))
    with pytest.raises(FieldError):
        list(RawRecord.objects.filter(payload__来电人=NAME))


def test_rejection_excerpts_are_ciphertext_and_reasons_quote_nobody(dirty_hotline, run, tmp_path):
    stored = column("clues_rejection", "excerpt")
    assert len([v for v in stored if v]) >= 2 and all(v.startswith("sm4gcm1:") for v in stored if v)
    assert not leaks(stored, [NAME, PHONE, ID_NUMBER])
    # cleaning messages are stored in clear (grouped on the quality page): built masked
    bad = sample("jczz")[0]
    bad["当事人"] = f"{NAME}({PHONE}"  # unclosed bracket: refused, the message quotes the party
    good = dict(sample("hotline12345")[2], 工单编号="HOTX3", 来电号码="139123")  # a phone of the wrong shape
    run("jczz", write_jsonl(tmp_path / "j.jsonl", [bad]))
    run("hotline12345", write_jsonl(tmp_path / "h.jsonl", [good]))
    warnings = [w for v in column("clues_rawrecord", "warnings") for w in (json.loads(v) if isinstance(v, str) else v)]
    messages = column("clues_rejection", "reason") + column("clues_rawrecord", "clean_error") + warnings
    assert any("当事人“欧阳某(139****5678”" in m for m in messages), messages
    assert any("电话“1*****”格式不对" in m for m in messages), messages
    assert not leaks(messages, [NAME, PHONE, "139123"])


# --- on screen and in the report --------------------------------------------------------------------
def test_rejected_records_report_is_masked(dirty_hotline, client_for):
    response = client_for("demo_district").get(reverse("admin:clues_ingestbatch_report", args=[dirty_hotline.pk]))
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 4 and rows[0][5].startswith("原始内容")
    assert not leaks([text], [NAME, PHONE, ID_NUMBER])
    excerpts = " ".join(r[5] for r in rows[1:])
    assert NAME_MASKED in excerpts and PHONE_MASKED in excerpts and ID_MASKED in excerpts
    assert "坏时间" in excerpts  # the rest stays readable: the report still shows what was wrong


def test_rejection_and_raw_record_screens_show_masked_content(dirty_hotline, client_for):
    from clues.models import RawRecord, Rejection

    c = client_for("demo_district")
    listing = c.get("/admin/clues/rejection/", {"batch__id__exact": dirty_hotline.pk})
    assert listing.status_code == 200
    pages = [listing.content.decode()]
    for rejection in Rejection.objects.filter(batch=dirty_hotline):
        page = c.get(reverse("admin:clues_rejection_change", args=[rejection.pk]))
        assert page.status_code == 200
        pages.append(page.content.decode())
    for key in ("hotline12345:HOT2026060900013", "hotline12345:HOTX2"):
        page = c.get(reverse("admin:clues_rawrecord_change", args=[RawRecord.objects.get(record_key=key).pk]))
        assert page.status_code == 200
        pages.append(page.content.decode())
    assert not leaks(pages, [NAME, PHONE, ID_NUMBER])
    assert NAME_MASKED in pages[-2] and PHONE_MASKED in pages[-2] and ID_MASKED in pages[-2]
    assert "噪音扰民" in pages[-2]  # the rest of the payload stays readable


# --- still working on ciphertext --------------------------------------------------------------------
def test_reclean_and_quality_page_work_on_encrypted_payloads(dirty_hotline, client_for):
    from clues.ingest import reclean
    from clues.models import CleaningRule, Clue, RawRecord

    rule = CleaningRule.objects.get(source="hotline12345")
    rule.type_map = {**rule.type_map, "住房保障-物业管理": "neighbor"}
    rule.full_clean()
    rule.save()
    result = reclean("hotline12345")
    assert result.counts["updated"] == 1 and result.counts["rejected"] == 1, result.counts
    assert Clue.objects.get(record_key="hotline12345:HOT2026060900013").type_code == "neighbor"
    assert RawRecord.objects.get(record_key="hotline12345:HOT2026060900013").clue.parties.get().name == NAME
    stored = column("clues_rawrecord", "payload") + column("clues_rejection", "excerpt")
    assert all(v.startswith("sm4gcm1:") for v in stored if v) and not leaks(stored, [NAME, PHONE])
    page = client_for("demo_district").get("/admin/clues/rawrecord/quality/", {"channel": "hotline12345"})
    assert page.status_code == 200 and "字段完整率" in page.content.decode()
    assert page.context["rows"][0]["rejected"] >= 3
    assert not leaks([page.content.decode()], [NAME, PHONE, ID_NUMBER])


# --- existing rows ----------------------------------------------------------------------------------
def test_data_migration_encrypts_existing_rows_chunk_by_chunk(dirty_hotline, monkeypatch):
    """Rows as the old code wrote them (plaintext JSON, clear excerpts and messages) are encrypted
    in place by clues 0010, a few rows per query, and read back unchanged."""
    from django.apps import apps

    from clues.models import RawRecord, RawRecordVersion, Rejection

    migration = importlib.import_module("clues.migrations.0010_encrypt_raw_payloads")
    before = {r.pk: r.payload for r in RawRecord.objects.all()}
    old_version = RawRecordVersion.objects.get().payload
    rejection = Rejection.objects.exclude(excerpt="").first()
    with connection.cursor() as cur:  # back to what the old code stored
        for pk, payload in before.items():
            cur.execute("UPDATE clues_rawrecord SET payload = %s WHERE id = %s",
                        [json.dumps(payload, ensure_ascii=False), pk])
        cur.execute("UPDATE clues_rawrecordversion SET payload = %s", [json.dumps(old_version, ensure_ascii=False)])
        cur.execute("UPDATE clues_rejection SET excerpt = %s, reason = %s WHERE id = %s",
                    [json.dumps({"来电人": NAME, "来电号码": PHONE}, ensure_ascii=False),
                     f"当事人“{NAME}({PHONE})”不符合“姓名(电话)”格式", rejection.pk])
    assert leaks(column("clues_rawrecord", "payload"), [NAME])  # the starting point: plaintext

    queries = []
    real_chunks = migration._chunks

    def counting(cursor, table, columns):
        for rows in real_chunks(cursor, table, columns):
            queries.append((table, len(rows)))
            yield rows
    monkeypatch.setattr(migration, "CHUNK", 2)
    monkeypatch.setattr(migration, "_chunks", counting)

    class Editor:
        pass
    editor = Editor()
    editor.connection = connection
    migration.encrypt(apps, editor)

    assert max(n for _, n in queries) == 2 and sum(t == "clues_rawrecord" for t, _ in queries) >= 3
    for table, name in (("clues_rawrecord", "payload"), ("clues_rawrecordversion", "payload"),
                        ("clues_rejection", "excerpt")):
        stored = [v for v in column(table, name) if v]
        assert stored and all(v.startswith("sm4gcm1:") for v in stored), table
        assert not leaks(stored, [NAME, PHONE, ID_NUMBER]), table
    assert {r.pk: r.payload for r in RawRecord.objects.all()} == before
    assert RawRecordVersion.objects.get().payload == old_version
    rejection.refresh_from_db()
    assert json.loads(rejection.excerpt) == {"来电人": NAME, "来电号码": PHONE}
    assert rejection.reason == "当事人“欧阳某(139****5678)”不符合“姓名(电话)”格式"
    migration.encrypt(apps, editor)  # a second run changes nothing (already ciphertext)
    assert {r.pk: r.payload for r in RawRecord.objects.all()} == before


def test_refused_excel_row_is_masked_in_the_report(run, tmp_path):
    """An Excel row's excerpt is keyed by the header names, so its name and phone columns are masked."""
    from openpyxl import Workbook

    from clues.ingest import write_report

    record = sample("hotline12345")[0]
    bad = dict(record, 工单编号="", 来电人=NAME, 来电号码=PHONE, 诉求内容=f"身份证{ID_NUMBER}")
    wb = Workbook()
    ws = wb.active
    ws.append(list(record))
    ws.append([record[k] for k in record])
    ws.append([bad[k] for k in record])
    wb.save(tmp_path / "h.xlsx")
    result = run("hotline12345", tmp_path / "h.xlsx")
    assert result.counts["rejected"] == 1 and result.counts["new"] == 1
    text = write_report(result.batch, directory=tmp_path / "reports").read_text(encoding="utf-8-sig")
    assert "缺少编号" in text and NAME_MASKED in text and PHONE_MASKED in text and ID_MASKED in text
    assert not leaks([text], [NAME, PHONE, ID_NUMBER])
    assert not leaks(column("clues_rejection", "excerpt"), [NAME, PHONE, ID_NUMBER])
