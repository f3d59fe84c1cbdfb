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
MB = 1024 * 1024


@pytest.fixture
def rules(world):
    from clues.rules import load_shipped

    load_shipped()


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
