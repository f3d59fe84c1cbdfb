"""Issue 18 (1): a channel's updates cost what its new records cost. The update path announces one
``records_ingested`` event per chunk (the per-row model signals are muted), the warning
configuration is loaded once per metadata version, and the same records re-sent as .xlsx (lists as
JSON text in cells) count as unchanged."""
from __future__ import annotations

import json

import pytest

from tests.test_ingest import lines, write_jsonl, write_xlsx

pytestmark = pytest.mark.backend  # chunk transactions and bulk writes


@pytest.fixture
def run(world):
    from clues.ingest import ingest
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])

    def do(source, path):
        return ingest(source, path, origin="command")
    return do


@pytest.fixture
def events():
    """Every hook event fired (name, payload) while the test runs (recorded at fire time)."""
    from lowcode import hooks

    seen = []
    recorders = {}
    for name in ("records_changed", "records_deleted", "records_ingested"):
        def rec(_name=name, **payload):
            seen.append((_name, payload))
        recorders[name] = rec
        hooks.subscribe(name, rec)
    yield seen
    for name, fn in recorders.items():
        hooks.unsubscribe(name, fn)


def changed(records, field, suffix="（已更新）"):
    out = []
    for r in records:
        r = dict(r)
        r[field] = r[field] + suffix
        out.append(r)
    return out


@pytest.mark.parametrize("source, kind", [("province", "case"), ("hotline12345", "clue")])
def test_updated_records_fire_one_event_per_chunk_like_new_ones(run, events, tmp_path, monkeypatch,
                                                                 django_capture_on_commit_callbacks, source, kind):
    from extensions.dedup import engine

    refreshed = []
    real = engine.refresh
    monkeypatch.setattr(engine, "refresh",
                        lambda k, ids, *a, **kw: (refreshed.append((k, len(ids))), real(k, ids, *a, **kw))[1])
    records = lines(source)
    field = max((k for k, v in records[0].items() if isinstance(v, str)), key=lambda k: len(records[0][k]))
    with django_capture_on_commit_callbacks(execute=True):
        first = run(source, write_jsonl(tmp_path / "a.jsonl", records))
    assert first["new"] == len(records)
    assert [e for e, _ in events] == ["records_ingested"]
    events.clear()
    refreshed.clear()
    with django_capture_on_commit_callbacks(execute=True):
        second = run(source, write_jsonl(tmp_path / "b.jsonl", changed(records, field)))
    assert second["updated"] == len(records), second.counts
    names = [e for e, _ in events]
    assert names == ["records_ingested"], names  # not ≈ 5 records_changed per record
    assert refreshed == [(kind, len(records))]  # the duplicate check ran once, for the whole chunk
    payload = events[0][1]
    assert len(set(payload["record_keys"])) == len(records)
    assert all(k.startswith(f"{source}:") for k in payload["record_keys"])
    if kind == "case":  # aggregated cases: their ids ride along (dispatch completion reads them)
        from cases.models import Case

        assert sorted(payload["case_ids"]) == sorted(Case.objects.filter(source=source).values_list("pk", flat=True))


def test_the_same_records_as_xlsx_are_unchanged_and_a_changed_cell_is_an_update(run, tmp_path):
    from clues.models import RawRecord

    records = lines("province")
    assert any(isinstance(v, list) for r in records for v in r.values())  # lists become JSON text cells
    run("province", write_jsonl(tmp_path / "p.jsonl", records))
    hashes = dict(RawRecord.objects.values_list("record_key", "payload_hash"))
    again = run("province", write_xlsx(tmp_path / "p.xlsx", records))
    assert again["unchanged"] == len(records), again.counts
    assert again["updated"] == 0
    assert dict(RawRecord.objects.values_list("record_key", "payload_hash")) == hashes  # stored payload kept
    # a real change in the .xlsx is still an update: in a plain cell, and inside a JSON text cell
    r0 = json.loads(json.dumps(records[0], ensure_ascii=False))
    r0["纠纷简要情况"] += "补充"
    r1 = json.loads(json.dumps(records[1], ensure_ascii=False))
    r1["当事人"][0]["联系电话"] = "13900000000"
    third = run("province", write_xlsx(tmp_path / "p2.xlsx", [r0, r1] + records[2:]))
    assert (third["updated"], third["unchanged"]) == (2, len(records) - 2), third.counts


def test_content_form_is_format_blind():
    from clues.ingest import content_form

    assert content_form({"a": [1, 2], "b": "", "c": None, "d": 13800000000, "t": "2026-08-10 07:26"}) == \
        content_form({"a": "[1, 2]", "d": "13800000000", "t": "2026-08-10 07:26:00"})
    assert content_form({"a": "[1, 2]"}) != content_form({"a": "[1, 3]"})
    assert content_form({"t": "2026-08-10 07:26:00"}) != content_form({"t": "2026-08-10 07:27"})


def test_the_warning_configuration_is_loaded_once_per_metadata_version(world, make_case, monkeypatch,
                                                                       django_capture_on_commit_callbacks):
    from extensions.escalation import config as config_mod
    from extensions.escalation import subscribers
    from extensions.escalation.models import WarningSetting

    loads = []
    real = config_mod.load
    monkeypatch.setattr(config_mod, "load", lambda *a, **k: (loads.append(1), real(*a, **k))[1])
    monkeypatch.setattr(subscribers, "_config_cache", None)
    case = make_case()
    for _ in range(3):
        subscribers.records_changed(kind="case", ids=[case.pk])
    assert len(loads) == 1
    setting = WarningSetting.objects.get(key="group_size")
    setting.value = 30
    setting.save()  # an admin edit bumps the metadata version: the next call reloads
    subscribers.records_changed(kind="case", ids=[case.pk])
    assert len(loads) == 2
    assert subscribers.current_config() is subscribers.current_config()
