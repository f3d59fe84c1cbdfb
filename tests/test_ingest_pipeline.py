"""The ingest pipeline: on PostgreSQL the next chunk is read and cleaned in a second thread while
the first one writes. What a user must not notice: the counts, the rejections, the stored records
and the history are exactly those of the one-thread run; a failure on either side ends the run
the same way; no thread keeps reading a closed file. Thread mechanics are tested directly; the
end-to-end comparisons run on PostgreSQL (``DATABASE_URL=postgres://…``, committed data: the
second thread has its own connection)."""
from __future__ import annotations

import contextvars
import json
import threading
import time

import pytest
from django.db import connection

from tests.samples import SAMPLES


# --- the thread helper ----------------------------------------------------------------------
def test_items_arrive_in_order_and_a_producer_error_is_raised_where_it_happened():
    from clues.prefetch import Prefetched

    def produce():
        yield 1
        yield 2
        raise ValueError("第三块读不出来")

    seen = []
    with pytest.raises(ValueError, match="第三块"):
        with Prefetched(produce()) as it:
            for x in it:
                seen.append(x)
    assert seen == [1, 2]


def test_leaving_early_stops_the_reading_thread_and_runs_its_cleanup():
    from clues.prefetch import Prefetched

    produced, cleaned_up = [], threading.Event()

    def produce():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            cleaned_up.set()

    with pytest.raises(RuntimeError):
        with Prefetched(produce(), depth=2) as it:
            for x in it:
                if x == 3:
                    raise RuntimeError("写入失败")
    assert cleaned_up.is_set()  # the generator was closed before the with block returned
    assert len(produced) < 10  # it stopped a couple of chunks ahead, not at the end of the file
    assert not any(t.name == "ingest-prefetch" and t.is_alive() for t in threading.enumerate())


def test_the_reading_thread_sees_the_callers_context():
    from clues.prefetch import Prefetched

    var = contextvars.ContextVar("pinned", default="未固定")
    var.set("版本 42")

    def produce():
        yield var.get()

    with Prefetched(produce()) as it:
        assert list(it) == ["版本 42"]


# --- end to end on PostgreSQL --------------------------------------------------------------
def postgres_or_skip():
    if connection.vendor != "postgresql":
        pytest.skip("双线程归集需要 PostgreSQL（DATABASE_URL=postgres://postgres@127.0.0.1:5432/mdtj_dev）")


@pytest.fixture
def rules(world):
    from clues.rules import load_shipped

    load_shipped()


def _file(tmp_path, name: str, channel: str, n: int, broken_at: int | None = None, repeat: int | None = None):
    """n records of a channel's sample shape with new ids; a non-JSON line at ``broken_at``; the
    record ``repeat`` sent twice in a row (the second report must see the first)."""
    from clues.models import CleaningRule

    id_field = CleaningRule.objects.get(source=channel).id_field
    samples = [json.loads(x) for x in (SAMPLES / f"{channel}.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
    path = tmp_path / name
    with path.open("w", encoding="utf-8") as fh:
        for i in range(n):
            if i == broken_at:
                fh.write('{"这一行": 不是 JSON\n')
            rec = {**samples[i % len(samples)], id_field: f"PIPE{name[:3]}{i:04d}"}
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            if i == repeat:
                fh.write(json.dumps({**rec, "_第二次": "再次反映"}, ensure_ascii=False) + "\n")
    return path


def _snapshot(channel: str) -> dict:
    from cases.models import Case
    from clues.models import Clue, RawRecord

    raws = RawRecord.objects.filter(channel_id=channel)
    return {"raw": sorted(raws.values_list("record_key", "payload_hash", "clean_hash", "address_quality")),
            "clues": sorted(Clue.objects.filter(channel_id=channel).values_list("record_key", "address", "region_path")),
            "cases": sorted(Case.objects.filter(source=channel).values_list("exchange_id", "region_path", "status")),
            "history": Clue.history.filter(channel_id=channel).count() + Case.history.filter(source=channel).count()}


def _wipe(channel: str) -> None:
    from cases.models import Case
    from clues.models import Clue, RawRecord

    Clue.objects.filter(channel_id=channel).delete()
    RawRecord.objects.filter(channel_id=channel).delete()
    Case.objects.filter(source=channel).delete()
    Clue.history.filter(channel_id=channel).delete()  # the deletions wrote history rows too
    Case.history.filter(source=channel).delete()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("channel", ["hotline12345", "province"])  # a clue channel and a case channel
def test_the_two_thread_run_stores_exactly_what_the_one_thread_run_stores(channel, rules, tmp_path,
                                                                         settings, monkeypatch):
    from clues import ingest as ingest_module

    postgres_or_skip()
    monkeypatch.setattr(ingest_module, "CHUNK", 7)  # many chunks from a small file
    cleaned_in = set()
    real = ingest_module.Deriver.prepare_chunk

    def spy(self, items):
        cleaned_in.add(threading.current_thread().name)
        return real(self, items)
    monkeypatch.setattr(ingest_module.Deriver, "prepare_chunk", spy)
    path = _file(tmp_path, "one.jsonl", channel, 40, broken_at=11, repeat=20)

    results = {}
    for pipeline in (False, True):
        _wipe(channel)
        settings.INGEST_PIPELINE = pipeline
        first = ingest_module.ingest(channel, path)
        again = ingest_module.ingest(channel, path)  # idempotent in both modes
        results[pipeline] = (first.counts, again.counts, sorted(first.batch.rejections.values_list("line", "reason")),
                             _snapshot(channel))
    assert results[True] == results[False]
    counts, again, rejected, stored = results[True]
    assert counts == {"read": 42, "new": 40, "updated": 1, "unchanged": 0, "rejected": 1}
    # again: nothing new; the record reported twice flips between its two versions (both kept)
    assert again == {"read": 42, "new": 0, "updated": 2, "unchanged": 39, "rejected": 1}
    assert any("JSON" in reason for _, reason in rejected)
    assert "ingest-prefetch" in cleaned_in and threading.current_thread().name in cleaned_in


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_file_that_breaks_off_keeps_what_was_read_before_in_both_modes(rules, tmp_path, settings, monkeypatch):
    from clues import ingest as ingest_module
    from clues import readers

    postgres_or_skip()
    monkeypatch.setattr(ingest_module, "CHUNK", 5)
    path = _file(tmp_path, "cut.jsonl", "hotline12345", 23)
    real_items = readers.Source.items

    def breaks_after_17(self):
        for n, item in enumerate(real_items(self)):
            if n == 17:
                raise readers.FileRejected("文件在第 18 行处损坏，后续内容无法读取")
            yield item
    monkeypatch.setattr(readers.Source, "items", breaks_after_17)
    outcomes = {}
    for pipeline in (False, True):
        _wipe("hotline12345")
        settings.INGEST_PIPELINE = pipeline
        result = ingest_module.ingest("hotline12345", path)
        outcomes[pipeline] = (result.file_error, result.counts, _snapshot("hotline12345")["raw"])
    assert outcomes[True] == outcomes[False]
    error, counts, raws = outcomes[True]
    assert "损坏" in error and counts["new"] == 17 and len(raws) == 17 and counts["read"] == 18


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_file_of_another_channel_is_refused_whole_in_the_two_thread_run(rules, tmp_path, settings):
    from clues.ingest import ingest
    from clues.models import RawRecord

    postgres_or_skip()
    settings.INGEST_PIPELINE = True
    path = _file(tmp_path, "wrong.jsonl", "police110", 12)
    result = ingest("hotline12345", path)
    assert "整个文件未导入" in result.file_error
    assert result.counts == {"read": 12, "new": 0, "updated": 0, "unchanged": 0, "rejected": 12}
    assert not RawRecord.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_failing_write_ends_the_run_and_leaves_no_reading_thread_behind(rules, tmp_path, settings, monkeypatch):
    from clues import ingest as ingest_module

    postgres_or_skip()
    settings.INGEST_PIPELINE = True
    monkeypatch.setattr(ingest_module, "CHUNK", 5)
    path = _file(tmp_path, "boom.jsonl", "hotline12345", 60)
    real_write, calls = ingest_module.Run.write, []

    def write(self, prepared):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("数据库连接中断")
        return real_write(self, prepared)
    monkeypatch.setattr(ingest_module.Run, "write", write)
    with pytest.raises(RuntimeError, match="数据库连接中断"):
        ingest_module.ingest("hotline12345", path)
    deadline = time.monotonic() + 5
    while any(t.name == "ingest-prefetch" and t.is_alive() for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "ingest-prefetch" and t.is_alive() for t in threading.enumerate())
