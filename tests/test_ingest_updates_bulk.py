"""Issue 18 (1), the updates row: a chunk of changed records is written in bulk (clues.bulksave)
with the same result as one by one, one ``records_ingested`` event per chunk, and the duplicate
model's re-check skips the candidate search of records whose matching features did not change —
while a record whose features changed still finds its new duplicate."""
from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.test_ingest import lines, write_jsonl

pytestmark = pytest.mark.backend  # chunk transactions, bulk writes, pipelined updates

HOT, PRO = "hotline12345:HOT2026060900013", "province:PRO2026060900014"
ID_FIELD = {"hotline12345": "工单编号", "province": "案件编号"}
TEXT_FIELD = {"hotline12345": "诉求内容", "province": "纠纷简要情况"}


@pytest.fixture
def run(world, django_capture_on_commit_callbacks):
    """Ingest; with ``hooks`` the subscribers run (inline under tests) after each chunk commits."""
    from clues.ingest import ingest
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])

    def do(source, path, hooks=True):
        if not hooks:
            return ingest(source, path, origin="command")
        with django_capture_on_commit_callbacks(execute=True):
            return ingest(source, path, origin="command")
    return do


def untag(value, tag: str):
    """``value`` with the record numbers' test suffix taken off (A and B sets compare equal)."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return re.sub(r"([A-Z]{3}\d{13})" + re.escape(tag), r"\1", text)


def renumbered(records, source, tag):
    out = []
    for r in records:
        r = json.loads(json.dumps(r, ensure_ascii=False))
        r[ID_FIELD[source]] = f"{r[ID_FIELD[source]]}{tag}"
        out.append(r)
    return out


def changed(records, source, suffix="（续报：情况有变化）"):
    return [{**r, TEXT_FIELD[source]: r[TEXT_FIELD[source]] + suffix} for r in records]


def _state(source, tag):
    """What an update left behind for the records numbered with ``tag``, without ids and times."""
    from cases.models import Case, Party
    from clues.models import Clue, ClueParty, RawRecord, RawRecordVersion

    raws = RawRecord.objects.filter(channel_id=source, source_id__endswith=tag).order_by("source_id")
    out = {"raw": [(r.source_id, r.times_seen, r.clean_error, r.warnings, r.address_quality, r.payload,
                    r.case_id is not None) for r in raws],
           "versions": sorted((v.raw.source_id.removesuffix(tag), v.payload[TEXT_FIELD[source]])
                              for v in RawRecordVersion.objects.filter(raw__in=raws))}
    if source == "province":
        cases = Case.objects.filter(source=source, exchange_id__endswith=tag).order_by("exchange_id")
        skip = {"id", "exchange_id", "created_at", "updated_at", "registrant"}
        out["clean"] = [{f.attname: getattr(c, f.attname) for f in Case._meta.concrete_fields if f.name not in skip}
                        | {"extra": {k: v for k, v in c.extra.items()}} for c in cases]
        out["history"] = [list(c.history.order_by("history_id").values_list("history_type", "history_change_reason",
                                                                             "title", "description")) for c in cases]
        parties = Party.objects.filter(case__in=cases).order_by("case__exchange_id", "id")
        out["parties"] = [(p.role, p.name, p.phone, p.id_number, p.phone_bidx, p.birth_year, p.sex, p.extra)
                          for p in parties]
        hist = Party.history.model.objects.filter(case_id__in=[c.pk for c in cases])
        out["party_history"] = sorted(hist.values_list("history_type", "history_change_reason", "name", "phone"))
    else:
        clues = Clue.objects.filter(channel_id=source, source_id__endswith=tag).order_by("source_id")
        skip = {"id", "raw", "record_key", "source_id", "created_at", "updated_at"}
        out["clean"] = [{f.attname: getattr(c, f.attname) for f in Clue._meta.concrete_fields if f.name not in skip}
                        for c in clues]
        out["history"] = [list(c.history.order_by("history_id").values_list("history_type", "history_change_reason",
                                                                             "text")) for c in clues]
        out["parties"] = [(p.role, p.name, p.phone, p.phone_masked, p.id_number, p.phone_bidx)
                          for p in ClueParty.objects.filter(clue__in=clues).order_by("clue__source_id", "id")]
    return untag(out, tag)


@pytest.mark.parametrize("source", ["province", "hotline12345"])
def test_a_changed_chunk_written_in_bulk_equals_one_by_one(run, tmp_path, monkeypatch, caplog, source):
    from clues import ingest as ingest_mod

    records = lines(source)
    for tag in ("A", "B"):
        assert run(source, write_jsonl(tmp_path / f"{tag}.jsonl", renumbered(records, source, tag)))["new"] == 6
    with caplog.at_level(logging.WARNING, logger="clues.ingest"):
        bulk = run(source, write_jsonl(tmp_path / "A2.jsonl", changed(renumbered(records, source, "A"), source)))
    assert not [r for r in caplog.records if "replaying" in r.getMessage()]  # the bulk path, not the fallback
    monkeypatch.setattr(ingest_mod.Deriver, "bulk_changed", lambda self, changed: list(changed))  # one by one
    single = run(source, write_jsonl(tmp_path / "B2.jsonl", changed(renumbered(records, source, "B"), source)))
    assert bulk.counts == single.counts == {"read": 6, "new": 0, "updated": 6, "unchanged": 0, "rejected": 0}
    assert _state(source, "A") == _state(source, "B")


@pytest.mark.parametrize("source", ["province", "hotline12345"])
def test_an_update_chunk_costs_a_few_statements_not_a_dozen_per_record(run, tmp_path, source):
    records = lines(source)
    small, large = renumbered(records, source, "S"), renumbered(records * 4, source, "L")
    for i, r in enumerate(large):  # 24 distinct records
        r[ID_FIELD[source]] += f"{i:02d}"
    run(source, write_jsonl(tmp_path / "s.jsonl", small), hooks=False)
    run(source, write_jsonl(tmp_path / "l.jsonl", large), hooks=False)
    counts = []
    for name, recs in (("s2", small), ("l2", large)):
        with CaptureQueriesContext(connection) as ctx:  # the ingest's own statements (subscribers: later)
            result = run(source, write_jsonl(tmp_path / f"{name}.jsonl", changed(recs, source)), hooks=False)
        assert result["updated"] == len(recs)
        counts.append(len(ctx.captured_queries))
    # one by one, every record cost ≈ 14 statements more; in bulk only the per-case save receivers
    # (analysis: the case's previous place, its coordinates) are per record — measured 2.5
    per_record = (counts[1] - counts[0]) / (len(large) - len(small))
    assert per_record <= (4 if source == "province" else 0.5), counts


def _report() -> set[tuple]:
    out = io.StringIO()
    call_command("dedup_report", stdout=out)
    return {(r["a"], r["b"], r["verdict"]) for r in map(json.loads, out.getvalue().splitlines())}


@pytest.fixture
def searches(monkeypatch):
    """Calls of the duplicate model's candidate search (per record on SQLite, per chunk on PostgreSQL)."""
    from extensions.dedup import engine

    seen = []
    for name in ("candidates", "chunk_candidates"):
        real = getattr(engine, name)
        monkeypatch.setattr(engine, name,
                            lambda *a, _real=real, _name=name, **kw: (seen.append(_name), _real(*a, **kw))[1])
    return seen


def test_an_update_that_leaves_the_matching_features_alone_is_not_searched_again(run, tmp_path, searches,
                                                                                  monkeypatch):
    from extensions.dedup import engine

    hot, pro = lines("hotline12345"), lines("province")
    run("hotline12345", write_jsonl(tmp_path / "h.jsonl", hot))
    run("province", write_jsonl(tmp_path / "p.jsonl", pro))
    before = _report()
    assert (HOT, PRO, "same") in before
    searches.clear()
    # a status change: not one of the features the duplicate model matches on
    status = [{**r, "办理状态": "处理中"} for r in hot]
    refreshed = []
    real = engine.refresh
    monkeypatch.setattr(engine, "refresh",
                        lambda kind, ids, *a, **kw: (refreshed.append(len(ids)), real(kind, ids, *a, **kw))[1])
    assert run("hotline12345", write_jsonl(tmp_path / "h2.jsonl", status))["updated"] == len(hot)
    assert refreshed == [len(hot)]  # the chunk was announced and re-checked …
    assert searches == []           # … without a candidate search
    assert _report() == before


def test_an_update_that_changes_the_matching_features_finds_its_new_duplicate(run, tmp_path, searches):
    hot, pro = lines("hotline12345"), lines("province")
    other = json.loads(json.dumps(pro, ensure_ascii=False))
    target = next(r for r in other if r["案件编号"] == PRO.split(":")[1])
    # first delivered as another dispute: other people, place and story
    target["纠纷简要情况"] = "陈某与邻居因装修噪音发生口角，要求对方限定施工时间。"
    target["当事人"] = [{"姓名": "陈立新", "证件号码": "", "联系电话": "13012345678", "当事人类型": "申请人"},
                     {"姓名": "周海燕", "证件号码": "", "联系电话": "13187654321", "当事人类型": "被申请人"}]
    target["纠纷发生地"] = "城东街道新塘社区丰收路24号"
    run("hotline12345", write_jsonl(tmp_path / "h.jsonl", hot))
    run("province", write_jsonl(tmp_path / "p.jsonl", other))
    assert not {p for p in _report() if PRO in p[:2] and HOT in p[:2]}
    searches.clear()
    # the channel corrects the record: now it is the hotline's dispute
    assert run("province", write_jsonl(tmp_path / "p2.jsonl", pro))["updated"] == 1
    assert searches  # a changed signature is searched (in bulk on PostgreSQL)
    assert (HOT, PRO, "same") in _report()


def test_a_check_that_broke_off_before_its_pairs_is_searched_again(run, tmp_path, searches):
    from extensions.dedup import engine
    from extensions.dedup.models import Signature

    hot = lines("hotline12345")
    run("hotline12345", write_jsonl(tmp_path / "h.jsonl", hot))
    # the signature was stored, the task died before writing the pairs
    Signature.objects.filter(key=HOT).update(updated_at=engine.UNCHECKED)
    searches.clear()
    assert run("hotline12345", write_jsonl(tmp_path / "h2.jsonl", [{**r, "办理状态": "处理中"} for r in hot]))["updated"]
    assert searches  # that record is searched; the others are not
    assert Signature.objects.get(key=HOT).updated_at > engine.UNCHECKED
