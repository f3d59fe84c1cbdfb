"""dedup_rebuild over stored cases and clues: the parallel rebuild (worker processes, each with
its own connection) gives exactly the serial verdicts, keeps staff decisions and never proposes
a rejected pair again."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.db import connection


pytestmark = pytest.mark.backend  # depends on the database backend: bulk rebuild

def _report() -> list[dict]:
    out = io.StringIO()
    call_command("dedup_report", "--format", "jsonl", "--include-rejected", stdout=out)
    return [json.loads(x) for x in out.getvalue().splitlines() if x.strip()]


@pytest.fixture
def district(world):
    """3,000 synthetic reports of one district (benchdata: 1–4 channels per dispute, repeat
    callers, group disputes) stored like ingest stores them."""
    from lowcode.serialization import load_metadata
    from extensions.dedup import benchdata

    load_metadata(["cleaning_rules"])
    for _ in benchdata.store(benchdata.dispute_stream(3000, seed=5), batch=1000):
        pass
    return world


def _rebuild(jobs: int) -> dict:
    from extensions.dedup.rebuild import rebuild

    return rebuild(jobs=jobs, chunk=250)


def test_rebuild_finds_same_and_similar_pairs_in_stored_reports(district):
    out = _rebuild(1)
    rows = _report()
    assert out["records"] == 3000
    verdicts = {r["verdict"] for r in rows}
    assert verdicts == {"same", "similar"}
    # most reports of a multi-channel dispute find each other: far more than a handful of pairs
    assert sum(r["verdict"] == "same" for r in rows) > 800


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="worker processes need a database server; SQLite rebuilds in one process")
@pytest.mark.django_db(transaction=True)
def test_parallel_rebuild_gives_the_serial_report_and_keeps_decisions(district):
    from extensions.dedup.models import Pair

    serial = _rebuild(1)
    first = _report()
    same = [r for r in first if r["verdict"] == "same"]
    rejected, confirmed = same[0], same[1]
    Pair.objects.filter(a_key=rejected["a"], b_key=rejected["b"]).update(status="rejected")
    Pair.objects.filter(a_key=confirmed["a"], b_key=confirmed["b"]).update(status="confirmed")

    parallel = _rebuild(2)
    assert parallel["jobs"] == 2 and parallel["records"] == serial["records"] == 3000
    # the main process and both workers of each phase report their peak memory
    assert sum(k.startswith("features worker") for k in parallel["rss_mb"]) == 2
    assert sum(k.startswith("pairs worker") for k in parallel["rss_mb"]) == 2
    after = _report()
    strip = lambda rows: sorted((r["a"], r["b"], r["verdict"], r["score"], tuple(r["reasons"])) for r in rows)
    assert strip(after) == strip(first)
    status = {(r["a"], r["b"]): r.get("status", "proposed") for r in after}
    assert status[(rejected["a"], rejected["b"])] == "rejected"  # not proposed again
    assert status[(confirmed["a"], confirmed["b"])] == "confirmed"
