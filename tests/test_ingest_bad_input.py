"""Bad input the issue lists that the other ingest tests do not already cover: a 50 MB file is
streamed (memory stays small, good records in it are kept, oversized lines are rejected with a
reason), and the rejected-records report neutralises cells starting with = + - @ (CSV/Excel
formula injection)."""
from __future__ import annotations

import csv
import json
import tracemalloc

import pytest

from tests.samples import SAMPLES
pytestmark = pytest.mark.backend  # depends on the database backend: transactions: nothing half-written

MB = 1024 * 1024


@pytest.fixture
def rules(world):
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])


def hotline_record(i: int) -> dict:
    template = json.loads((SAMPLES / "hotline12345.jsonl").read_text(encoding="utf-8").splitlines()[0])
    return {**template, "工单编号": f"BIG{i:06d}"}


def test_a_50_mb_file_is_streamed_and_its_good_records_kept(rules, tmp_path):
    from clues.ingest import ingest, write_report

    path = tmp_path / "big.jsonl"
    filler = "很长的内容" * 230_000  # ≈ 3.4 MB of UTF-8 per line: over the 1 MB line limit
    with path.open("w", encoding="utf-8") as fh:  # written line by line, never held whole
        for i in range(100):
            fh.write(json.dumps(hotline_record(i), ensure_ascii=False) + "\n")
        for i in range(16):
            fh.write(json.dumps({"工单编号": f"HUGE{i}", "诉求内容": filler}, ensure_ascii=False) + "\n")
        fh.write('{"工单编号": "BROKEN", \n')
        for i in range(100, 200):
            fh.write(json.dumps(hotline_record(i), ensure_ascii=False) + "\n")
    assert path.stat().st_size >= 50 * MB

    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        result = ingest("hotline12345", path, origin="command")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * MB, f"峰值内存 {peak / MB:.1f} MB：文件没有被流式读取"
    assert result.file_error == ""
    assert result.counts == {"read": 217, "new": 200, "updated": 0, "unchanged": 0, "rejected": 17}
    reasons = [r.reason for r in result.batch.rejections.order_by("line")]
    assert sum("超过" in r and "已跳过" in r for r in reasons) == 16
    assert any("不是合法的 JSON" in r for r in reasons)
    report = write_report(result.batch, directory=tmp_path / "reports")
    assert report.stat().st_size < MB  # excerpts, not the oversized lines


def test_rejected_records_report_neutralises_formula_cells(rules, tmp_path):
    from clues.ingest import ingest, write_report

    path = tmp_path / "=cmd.jsonl"
    dangerous = ['=HYPERLINK("http://x.example","点我")', "+1+1", "-2+3", "@SUM(A1:A2)"]
    path.write_text("\n".join(dangerous) + "\n", encoding="utf-8")
    result = ingest("hotline12345", path, origin="command")
    assert result.counts["rejected"] == 4
    report = write_report(result.batch, directory=tmp_path / "reports")
    with report.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))[1:]
    cells = [cell for row in rows for cell in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], cells
    excerpts = [row[5] for row in rows]
    assert excerpts == ["'" + d for d in dangerous]  # still readable, no longer a formula
    assert {row[1] for row in rows} == {"'=cmd.jsonl"}


def test_chunks_split_where_a_record_repeats_and_a_file_breaking_off_keeps_what_came_before(
        rules, tmp_path, monkeypatch):
    from clues import ingest as ingest_module
    from clues import readers
    from clues.models import RawRecord

    monkeypatch.setattr(ingest_module, "CHUNK", 5)  # many chunks from a small file
    path = tmp_path / "repeat.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for i in range(23):
            if i == 11:
                fh.write('{"这一行": 不是 JSON\n')
            fh.write(json.dumps(hotline_record(i), ensure_ascii=False) + "\n")
            if i == 7:  # reported again at once, changed: the second report must see the first
                fh.write(json.dumps({**hotline_record(i), "诉求内容": "再次反映：仍未解决"}, ensure_ascii=False) + "\n")
    result = ingest_module.ingest("hotline12345", path)
    assert result.counts == {"read": 25, "new": 23, "updated": 1, "unchanged": 0, "rejected": 1}
    assert RawRecord.objects.get(record_key="hotline12345:BIG000007").versions.count() == 1

    real_items = readers.Source.items

    def breaks_after_17(self):
        for n, item in enumerate(real_items(self)):
            if n == 17:
                raise readers.FileRejected("文件在第 18 行处损坏，后续内容无法读取")
            yield item
    monkeypatch.setattr(readers.Source, "items", breaks_after_17)
    other = tmp_path / "cut.jsonl"
    other.write_text("".join(json.dumps({**hotline_record(100 + i)}, ensure_ascii=False) + "\n" for i in range(23)),
                     encoding="utf-8")
    cut = ingest_module.ingest("hotline12345", other)
    assert "损坏" in cut.file_error
    assert cut.counts == {"read": 18, "new": 17, "updated": 0, "unchanged": 0, "rejected": 1}
    assert RawRecord.objects.filter(record_key__startswith="hotline12345:BIG0001").count() == 17
