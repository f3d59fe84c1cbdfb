"""Aggregation: the seven channels + local ingest from JSON Lines and .xlsx into raw records and
clean records (clues / aggregated cases); idempotency, updates with history, dirty input,
reclean after a rule change, encryption and blind indexes, the command's summary."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from tests.samples import SAMPLES
pytestmark = pytest.mark.backend  # depends on the database backend: bulk writes, upserts and chunk transactions

DIRTY = settings.BASE_DIR / "fixtures" / "ingest"
EVENT_CHANNELS = ("hotline12345", "minhu", "police110", "jczz")
CASE_CHANNELS = ("province", "odr", "xltj", "local")


def lines(source: str) -> list[dict]:
    return [json.loads(x) for x in (SAMPLES / f"{source}.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture
def rules(world):
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])
    return world


@pytest.fixture
def run(rules):
    from clues.ingest import ingest

    def do(source, path, **kw):
        return ingest(source, path, origin=kw.pop("origin", "command"), **kw)
    return do


def write_jsonl(path: Path, records) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n"
                            for r in records), encoding="utf-8")
    return path


def write_xlsx(path: Path, records: list[dict]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    headers = list(dict.fromkeys(k for r in records for k in r))
    ws.append(headers)
    for r in records:
        ws.append([json.dumps(r[h], ensure_ascii=False) if isinstance(r.get(h), (list, dict)) else r.get(h)
                   for h in headers])
    wb.save(path)
    return path


# --- every channel's sample ------------------------------------------------------------------
@pytest.mark.parametrize("source", EVENT_CHANNELS + CASE_CHANNELS)
def test_every_sample_ingests(run, source):
    from cases.models import Case
    from clues.models import Clue, RawRecord

    n = len(lines(source))
    result = run(source, SAMPLES / f"{source}.jsonl")
    assert result.file_error == ""
    assert result.counts == {"read": n, "new": n, "updated": 0, "unchanged": 0, "rejected": 0}, \
        list(result.batch.rejections.values_list("reason", flat=True))
    assert RawRecord.objects.filter(channel_id=source).count() == n
    if source in EVENT_CHANNELS:
        assert Clue.objects.filter(channel_id=source).count() == n
        assert Clue.objects.filter(channel_id=source, occurred_at__isnull=True).count() == 0
    else:
        assert Case.objects.filter(source=source).count() == n
        assert RawRecord.objects.filter(channel_id=source, case__isnull=True).count() == 0


def test_second_run_changes_nothing(run):
    from cases.models import Case, Party
    from clues.models import Clue, ClueParty, RawRecord, RawRecordVersion

    for source in EVENT_CHANNELS + CASE_CHANNELS:
        run(source, SAMPLES / f"{source}.jsonl")
    before = [m.objects.count() for m in (RawRecord, Clue, ClueParty, Case, Party, Clue.history.model,
                                          Case.history.model)]
    for source in EVENT_CHANNELS + CASE_CHANNELS:
        n = len(lines(source))
        result = run(source, SAMPLES / f"{source}.jsonl")
        assert result.counts == {"read": n, "new": 0, "updated": 0, "unchanged": n, "rejected": 0}
    after = [m.objects.count() for m in (RawRecord, Clue, ClueParty, Case, Party, Clue.history.model,
                                         Case.history.model)]
    assert after == before
    assert RawRecordVersion.objects.count() == 0
    assert set(RawRecord.objects.values_list("times_seen", flat=True)) == {2}


def test_changed_record_updates_with_history(run, tmp_path):
    from clues.models import Clue, RawRecord

    records = lines("hotline12345")
    run("hotline12345", write_jsonl(tmp_path / "a.jsonl", records))
    clue = Clue.objects.get(record_key="hotline12345:HOT2026060900013")
    clue.status = "assigned"  # staff work on the clue survives a re-derive
    clue.save()
    records[0]["诉求标题"] = "来电人称地下车库积水（已补充）"
    result = run("hotline12345", write_jsonl(tmp_path / "b.jsonl", records))
    assert result.counts == {"read": 6, "new": 0, "updated": 1, "unchanged": 5, "rejected": 0}
    raw = RawRecord.objects.get(record_key="hotline12345:HOT2026060900013")
    assert raw.payload["诉求标题"].endswith("（已补充）")
    assert raw.versions.count() == 1
    assert raw.versions.get().payload["诉求标题"] == "来电人称地下车库积水"
    clue.refresh_from_db()
    assert clue.title == "来电人称地下车库积水（已补充）"
    assert clue.status == "assigned" and clue.pk == raw.clue.pk
    assert clue.history.count() == 3  # created, assigned, re-derived


def test_changed_case_record_updates_case_in_place(run, tmp_path):
    from cases.models import Case

    records = lines("odr")
    run("odr", write_jsonl(tmp_path / "a.jsonl", records))
    case = Case.objects.get(exchange_id="ODR2026090900057")
    assert case.status == "mediated"
    records[2]["status"] = "MEDIATING"
    records[2]["respondents"] = [{"name": "钱某", "idCard": None, "mobile": "13800138000"}]
    result = run("odr", write_jsonl(tmp_path / "b.jsonl", records))
    assert result.counts["updated"] == 1
    case2 = Case.objects.get(exchange_id="ODR2026090900057")
    assert case2.pk == case.pk and case2.status == "mediating"
    assert sorted(case2.parties.values_list("name", "role")) == [("万卫俊", "applicant"), ("钱某某", "respondent")]
    assert case2.history.count() == 2


# --- dirty input ---------------------------------------------------------------------------
def test_dirty_hotline_file(run):
    from clues.models import Clue, RawRecord

    result = run("hotline12345", DIRTY / "hotline12345_dirty.jsonl")
    assert result.counts == {"read": 10, "new": 3, "updated": 1, "unchanged": 1, "rejected": 5}
    reasons = dict(result.batch.rejections.values_list("line", "reason"))
    assert "缺少编号字段“工单编号”" in reasons[4]
    assert "不是合法的 JSON" in reasons[5]
    assert "来电时间" in reasons[6] and "不符合规定格式" in reasons[6]
    assert "不是 JSON 对象" in reasons[9]
    assert "应为文本" in reasons[10]
    # a record that was read but not cleaned is kept raw for reclean; one without an id is not
    assert RawRecord.objects.get(record_key="hotline12345:HOTD0006").clean_error
    assert not Clue.objects.filter(record_key="hotline12345:HOTD0006").exists()

    c1 = Clue.objects.get(record_key="hotline12345:HOTD0001")
    assert c1.title == "市民反映工厂欠薪" and c1.text == "市民反映某工厂拖欠工资3个月"
    assert c1.extra["prefixes"] == ["转办", "重复来电"]
    assert c1.type_code == "labor_wage" and c1.type_label == "劳动保障-欠薪"
    assert c1.address == "XX区青山镇文化路313号"
    p1 = c1.parties.get()
    assert (p1.name, p1.name_known, p1.phone) == ("王某某", False, "13900001111")

    c2 = Clue.objects.get(record_key="hotline12345:HOTD0002")
    assert c2.title == "物业不作为（补充）"   # the duplicate later in the file updated it
    p2 = c2.parties.get()
    assert (p2.name, p2.phone, p2.phone_masked, p2.phone_bidx) == ("李某某", "", "139****2222", "")

    c3 = Clue.objects.get(record_key="hotline12345:HOTD0003")
    assert c3.parties.get().phone == "13900003333"
    assert c3.type_code == "" and RawRecord.objects.get(record_key="hotline12345:HOTD0003").type_missed
    assert c3.title.startswith("=HYPERLINK(")  # kept as text, never evaluated
    assert any("按普通文本" in w for w in c3.extra["warnings"])


def test_dirty_province_ids_and_masked_phones(run):
    from cases.models import Case

    result = run("province", DIRTY / "province_dirty.jsonl")
    assert result.counts == {"read": 2, "new": 1, "updated": 0, "unchanged": 0, "rejected": 1}
    assert "当事人" in result.batch.rejections.get().reason
    case = Case.objects.get(exchange_id="PROD0001")
    assert case.description == "楼上漏水纠纷"
    parties = {p.name: p for p in case.parties.all()}
    assert parties["龚勇"].id_number == "330109199603226149"
    assert parties["崔某某"].id_number == ""               # bad checksum: dropped, with a warning
    assert parties["崔某某"].phone == "18975950281"
    assert parties["崔某某"].extra["name_raw"] == "崔先生"
    assert parties["钱某某"].phone == "" and parties["钱某某"].extra["phone_masked"] == "158****8238"
    assert any("校验位错误" in w for w in case.extra["aggregation"]["warnings"])


def test_wrong_channel_file_is_refused_whole(run):
    from clues.models import RawRecord

    result = run("hotline12345", SAMPLES / "police110.jsonl")
    assert "110警情" in result.file_error and "整个文件未导入" in result.file_error
    assert result.counts == {"read": 6, "new": 0, "updated": 0, "unchanged": 0, "rejected": 6}
    assert result.batch.status == "failed"
    assert not RawRecord.objects.exists()


def test_unrelated_columns_are_refused_whole(run, tmp_path):
    result = run("minhu", write_jsonl(tmp_path / "x.jsonl", [{"foo": 1, "bar": 2}, {"foo": 3}]))
    assert "格式不符" in result.file_error
    assert result.counts["rejected"] == 2 and result.counts["new"] == 0


def test_empty_file(run, tmp_path):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    result = run("minhu", tmp_path / "empty.jsonl")
    assert result.file_error == "文件为空，没有任何记录"
    assert result.counts == {"read": 0, "new": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    assert result.batch.rejections.count() == 1


def test_json_array_instead_of_lines(run, tmp_path):
    (tmp_path / "arr.json").write_text(json.dumps(lines("minhu"), ensure_ascii=False), encoding="utf-8")
    result = run("minhu", tmp_path / "arr.json")
    assert "JSON 数组" in result.file_error


def test_xlsx_ingests_with_nested_lists_as_json_text(run, tmp_path):
    from cases.models import Case

    records = lines("province")
    result = run("province", write_xlsx(tmp_path / "province.xlsx", records))
    assert result.counts == {"read": 6, "new": 6, "updated": 0, "unchanged": 0, "rejected": 0}, \
        list(result.batch.rejections.values_list("reason", flat=True))
    case = Case.objects.get(exchange_id="PRO2026060900014")
    assert case.parties.count() == 3
    # the same records from JSON Lines afterwards: nothing new (same identity)
    again = run("province", SAMPLES / "province.jsonl")
    assert again.counts["new"] == 0


def test_xlsx_formula_cell_is_text(run, tmp_path):
    from openpyxl import Workbook

    from clues.models import Clue

    records = lines("minhu")[:2]
    wb = Workbook()
    ws = wb.active
    headers = list(records[0])
    ws.append(headers)
    for r in records:
        ws.append([r[h] for h in headers])
    ws.cell(row=2, column=headers.index("诉求标题") + 1, value='=HYPERLINK("http://x.example","点我")')
    wb.save(tmp_path / "m.xlsx")
    result = run("minhu", tmp_path / "m.xlsx")
    assert result.counts["new"] == 2
    clue = Clue.objects.get(record_key=f"minhu:{records[0]['诉求编号']}")
    assert clue.title == '=HYPERLINK("http://x.example","点我")'


def test_truncated_xlsx(run, tmp_path):
    path = write_xlsx(tmp_path / "t.xlsx", lines("xltj"))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    result = run("xltj", path)
    assert "损坏或不完整" in result.file_error
    assert result.counts["new"] == 0 and result.counts["rejected"] == 1


def test_xlsx_wrong_channel_by_header(run, tmp_path):
    result = run("odr", write_xlsx(tmp_path / "p.xlsx", lines("province")))
    assert "省矛调平台" in result.file_error
    assert result.counts == {"read": 6, "new": 0, "updated": 0, "unchanged": 0, "rejected": 6}


def test_stream_input(run):
    from clues.models import Clue

    data = (SAMPLES / "jczz.jsonl").read_bytes()
    result = run("jczz", io.BytesIO(data), name="upload.jsonl", origin="upload")
    assert result.counts["new"] == 6 and result.batch.origin == "upload"
    assert Clue.objects.filter(channel_id="jczz").count() == 6


# --- channel specifics -----------------------------------------------------------------------
def test_channel_specific_parsing(run):
    import datetime as dt
    from zoneinfo import ZoneInfo

    from cases.models import Case
    from clues.models import Clue

    for source in ("jczz", "xltj", "odr", "police110"):
        run(source, SAMPLES / f"{source}.jsonl")
    tz = ZoneInfo("Asia/Shanghai")
    jczz = Clue.objects.get(record_key="jczz:JCZ2026081800030")
    assert jczz.occurred_at == dt.datetime(2026, 8, 18, 19, 33, tzinfo=tz)  # epoch ms, UTC+8 wall clock
    assert jczz.people == ["汤珍秀", "侯英"] and jczz.extra["grid"] == "新塘社区第4网格"
    masked = Clue.objects.get(record_key="jczz:JCZ2026051200004").parties.get(name="马金")
    assert masked.phone_masked == "179****1423" and masked.phone == ""
    assert Clue.objects.get(record_key="jczz:JCZ2026030700005").parties.get(name="钱玉").phone == "19793800820"
    xltj = Case.objects.get(exchange_id="XLT2026042300068")
    assert xltj.registered_at == dt.datetime(2026, 4, 24, tzinfo=tz)
    assert xltj.case_type == "traffic" and xltj.status == "mediating"
    # "对方" without a phone is nobody
    assert Case.objects.get(exchange_id="XLT2026012200074").parties.count() == 1
    odr = Case.objects.get(exchange_id="ODR2026090900057")
    assert list(odr.parties.values_list("name", flat=True)) == ["万卫俊"]  # {"name": "未知", nulls} dropped
    police = Clue.objects.get(record_key="police110:POL2026032000040")
    assert police.parties.get().name == "蔡某某" and police.type_code == "labor_wage"
    assert police.occurred_at == dt.datetime(2026, 3, 20, 8, 13, tzinfo=tz)


def test_aggregated_province_case_joins_case_library(run):
    from cases.models import Case
    from clues.models import RawRecord
    from orgs.models import Region

    run("province", SAMPLES / "province.jsonl")
    case = Case.objects.get(exchange_id="PRO2026081000059")
    assert case.source == "province" and case.record_key == "province:PRO2026081000059"
    assert case.registrant is None and case.case_type == "neighbor" and case.status == "mediating"
    assert case.region_path and case.region_path == case.region.path
    assert case.region == Region.objects.get(level=1) or case.region.path.startswith(Region.objects.get(level=1).path)
    assert case.deadline is not None
    assert case.extra["aggregation"]["mediation_org"] == "东湖社区人民调解委员会"
    raw = RawRecord.objects.get(record_key="province:PRO2026081000059")
    assert raw.case == case
    assert Case.objects.get(exchange_id="PRO2026101900036").status == "mediated"


def test_phones_encrypted_and_found_by_blind_index(run):
    from cases.models import Party
    from clues.models import ClueParty
    from secure.crypto import blind_index

    run("hotline12345", SAMPLES / "hotline12345.jsonl")
    run("province", SAMPLES / "province.jsonl")
    with connection.cursor() as cur:
        cur.execute("SELECT phone FROM clues_clueparty")
        stored = [r[0] for r in cur.fetchall()]
    assert stored and all(v.startswith("sm4gcm1:") for v in stored)
    assert not any("17957070221" in v for v in stored)
    found = ClueParty.objects.get(phone_bidx=blind_index("+86 179 5707 0221", "phone"))
    assert found.clue.record_key == "hotline12345:HOT2026030800037" and found.phone == "17957070221"
    # the same person (范磊) in the province case, phone given as "+86 174 9170 2577"
    bidx = blind_index("17491702577", "phone")
    assert Party.objects.filter(phone_bidx=bidx, case__source="province").count() == 2
    with connection.cursor() as cur:
        cur.execute("SELECT id_number FROM cases_party WHERE id_number <> ''")
        assert all(r[0].startswith("sm4gcm1:") for r in cur.fetchall())


# --- rules ---------------------------------------------------------------------------------
def test_reclean_after_type_mapping_change(run):
    from clues.ingest import reclean
    from clues.models import CleaningRule, Clue

    run("hotline12345", SAMPLES / "hotline12345.jsonl")
    noise = Clue.objects.get(record_key="hotline12345:HOT2026020500051")
    assert noise.type_code == "environment"
    rule = CleaningRule.objects.get(source="hotline12345")
    rule.type_map = {**rule.type_map, "生态环境-噪声污染": "neighbor"}
    rule.full_clean()
    rule.save()
    assert rule.is_customised and rule.history.count() == 2
    result = reclean("hotline12345")
    assert result.counts == {"read": 6, "new": 0, "updated": 1, "unchanged": 5, "rejected": 0}
    noise.refresh_from_db()
    assert noise.type_code == "neighbor"
    # a record that could not be cleaned is recovered by a rule change + reclean
    again = reclean("hotline12345")
    assert again.counts["unchanged"] == 6


def test_reclean_recovers_rejected_raw(run, tmp_path):
    from clues.ingest import reclean
    from clues.models import CleaningRule, Clue

    rec = dict(lines("minhu")[0], 提交时间="2026.10.07 16:35")
    result = run("minhu", write_jsonl(tmp_path / "m.jsonl", [rec]))
    assert result.counts["rejected"] == 1
    assert run("minhu", tmp_path / "m.jsonl").counts["rejected"] == 1  # still bad: reported again
    rule = CleaningRule.objects.get(source="minhu")
    rule.time_formats = [*rule.time_formats, "%Y.%m.%d %H:%M"]
    rule.save()
    result = reclean("minhu")
    assert result.counts == {"read": 1, "new": 1, "updated": 0, "unchanged": 0, "rejected": 0}
    assert Clue.objects.filter(record_key=f"minhu:{rec['诉求编号']}").exists()


def test_rule_validation_messages(rules):
    from django.core.exceptions import ValidationError

    from clues.models import CleaningRule

    rule = CleaningRule.objects.get(source="odr")
    rule.type_map = {"交通事故纠纷": "no_such_type"}
    rule.field_map = {**rule.field_map, "x": "nonsense"}
    rule.time_formats = ["YYYY"]
    with pytest.raises(ValidationError) as exc:
        rule.full_clean()
    text = str(exc.value)
    assert "no_such_type" in text and "nonsense" in text and "YYYY" in text


def test_preview_rule_before_saving(run):
    from clues.models import CleaningRule, Clue
    from clues.rules import preview_rule

    run("police110", SAMPLES / "police110.jsonl")
    rule = CleaningRule.objects.get(source="police110")
    rule.type_map = {**rule.type_map, "纠纷-劳资纠纷": "labor"}
    rows = preview_rule(rule, sample=200)
    assert len(rows) == 6
    changed = [r for r in rows if r.changed]
    assert len(changed) == 3 and all(r.after["type_code"] == "labor" and r.before["type_code"] == "labor_wage"
                                     for r in changed)
    raw, before, after, errors = rows[0]
    assert isinstance(raw, dict) and isinstance(errors, list)
    assert not CleaningRule.objects.get(source="police110").type_map.get("纠纷-劳资纠纷") == "labor"
    assert Clue.objects.filter(type_code="labor").count() == 0


def test_load_rules_keeps_site_changes(rules):
    from clues.models import CleaningRule
    from lowcode.serialization import load_metadata

    rule = CleaningRule.objects.get(source="xltj")
    rule.status_default = "mediating"
    rule.save()
    report = load_metadata(["cleaning_rules"])
    assert "cleaning/xltj.yaml" in report.kept_site_changes
    assert CleaningRule.objects.get(source="xltj").status_default == "mediating"


# --- the commands ----------------------------------------------------------------------------
def test_ingest_command_summary_and_report(rules, tmp_path):
    out = io.StringIO()
    call_command("ingest", "hotline12345", str(SAMPLES / "hotline12345.jsonl"),
                 str(DIRTY / "hotline12345_dirty.jsonl"), "--report-dir", str(tmp_path), stdout=out)
    text = out.getvalue().strip().splitlines()
    assert json.loads(text[-1]) == {"read": 16, "new": 9, "updated": 1, "unchanged": 1, "rejected": 5}
    assert any("拒绝记录报告" in line for line in text)
    report = next(tmp_path.glob("rejected-hotline12345-*.csv"))
    content = report.read_text(encoding="utf-8-sig")
    assert "缺少编号字段" in content and "不是合法的 JSON" in content
    assert "读取 10" in "\n".join(text)


def test_reclean_command(rules):
    call_command("ingest", "xltj", str(SAMPLES / "xltj.jsonl"), stdout=io.StringIO())
    out = io.StringIO()
    call_command("reclean", "xltj", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == \
        {"read": 6, "new": 0, "updated": 0, "unchanged": 6, "rejected": 0}


def test_unknown_source_is_a_command_error(rules):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="未知的来源编码"):
        call_command("ingest", "nope", str(SAMPLES / "xltj.jsonl"), stdout=io.StringIO())


def test_load_metadata_command_loads_the_channels_and_their_rules(world):
    from clues.models import Channel, CleaningRule

    assert Channel.objects.count() == 8 and CleaningRule.objects.count() == 0  # channels: the metadata fixture
    out = io.StringIO()
    call_command("load_metadata", kind=["cleaning_rules"], stdout=out)
    assert "新增 8" in out.getvalue() and "未变 8" in out.getvalue()  # 8 rules added, 8 channels already there
    assert Channel.objects.count() == 8 and CleaningRule.objects.count() == 8


# --- address library contract (addresses.matching.match → AddressMatch) ------------------------
def test_address_match_gives_region_and_quality(run, monkeypatch):
    from dataclasses import dataclass, field

    from cases.models import Case
    from clues import addrmatch
    from clues.models import Clue, RawRecord
    from orgs.models import Region

    from addresses.models import StandardAddress

    community = Region.objects.get(name="湖滨社区")
    library_address = StandardAddress.objects.create(text="示范区东湖街道湖滨社区文化路313号", region=community)
    calls = []

    @dataclass
    class FakeMatch:
        standard: object = library_address
        quality: str = "building"
        region: object = None
        components: dict = field(default_factory=lambda: {"road": "文化路", "number": "313"})
        score: float = 0.9

    def fake(text, hint=None):
        calls.append((text, hint))
        return FakeMatch(region=community)

    monkeypatch.setattr(addrmatch, "_library_match", fake)
    run("hotline12345", SAMPLES / "hotline12345.jsonl")
    run("xltj", SAMPLES / "xltj.jsonl")
    clue = Clue.objects.get(record_key="hotline12345:HOT2026060900013")
    assert (clue.address_quality, clue.region, clue.region_path) == ("building", community, community.path)
    assert clue.address_standard == library_address  # a link to the library, not a copy of its text
    assert RawRecord.objects.get(record_key="xltj:XLT2026042300068").address_standard == library_address
    assert clue.extra["address_components"]["road"] == "文化路"
    assert ("XX区青山镇文化路313号锦绣家园23-2-203", "青山镇") in calls  # 所属街道 passed as hint
    case = Case.objects.get(exchange_id="XLT2026042300068")
    assert case.region == community and case.region_path == community.path
    assert RawRecord.objects.get(record_key="xltj:XLT2026042300068").address_quality == "building"


def test_local_exchange_format(run, tmp_path):
    from cases.models import Case

    recs = lines("local")
    recs.append(dict(recs[0], source_id="LOCX1", kind="event"))
    recs.append(dict(recs[0], source_id="LOCX2", parties=[]))
    result = run("local", write_jsonl(tmp_path / "l.jsonl", recs))
    assert result.counts == {"read": 8, "new": 6, "updated": 0, "unchanged": 0, "rejected": 2}
    reasons = " ".join(result.batch.rejections.values_list("reason", flat=True))
    assert "kind" in reasons and "parties" in reasons
    case = Case.objects.get(exchange_id="LOC2026030700007")
    assert case.source == "local" and case.case_type == "property_mgmt"
    assert sorted(case.parties.values_list("role", flat=True)) == ["applicant", "respondent"]
