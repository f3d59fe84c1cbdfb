"""Issue 18 (1): the duplicate list at district scope. A district admin whose district holds every
region sees every pair without the per-row scope filter (the ``IN`` over every visible signature
that took minutes after a large import); a street admin keeps the filter; the page's records are
read in one query, not two per row. Scale: tests/perf/bench_dedup_list.py."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext


@pytest.fixture
def pairs(world):
    from extensions.dedup.models import Pair, Signature
    from orgs.models import Region

    east = Region.objects.get(name="湖滨社区").path     # 东湖街道
    west = Region.objects.get(name="溪口社区").path     # 西溪街道
    sigs = {"local:E1": east, "local:E2": east, "local:W1": west, "hotline12345:U1": ""}
    for i, (key, path) in enumerate(sigs.items(), 1):
        Signature.objects.create(key=key, kind="clue" if key.startswith("hotline") else "case", obj_id=i,
                                 channel=key.split(":")[0], region_path=path, title=f"标题{key[-2:]}")
    made = {}
    for a, b in [("local:E1", "local:E2"), ("local:E1", "local:W1"), ("hotline12345:U1", "local:E2")]:
        made[(a, b)] = Pair.objects.create(a_key=a, b_key=b, verdict="same", score=0.9, reasons=["同一当事人"])
    return made


def listed(client) -> tuple[str, list]:
    with CaptureQueriesContext(connection) as q:
        response = client.get("/admin/dedup/pair/")
    assert response.status_code == 200
    return response.content.decode(), [x["sql"] for x in q.captured_queries]


def test_the_district_admin_sees_every_pair_without_the_signature_scan(client_for, pairs):
    from extensions.dedup.admin import sees_every_record
    from accounts.models import User

    assert sees_every_record(User.objects.get(username="demo_district"))
    assert not sees_every_record(User.objects.get(username="demo_street"))
    html, sql = listed(client_for("demo_district"))
    for key in ("local:E1", "local:W1", "hotline12345:U1"):
        assert key in html
    pair_queries = [s for s in sql if "dedup_pair" in s]
    assert pair_queries and not any("dedup_signature" in s for s in pair_queries)
    # the page's records: one query for all rows' links
    assert len([s for s in sql if "dedup_signature" in s]) == 1
    assert "标题E2" in html


def test_the_street_admin_sees_only_pairs_inside_the_street(client_for, pairs):
    html, _ = listed(client_for("demo_street"))
    assert "local:E2" in html and "标题E1" in html
    assert "local:W1" not in html            # the other record is in 西溪街道
    assert "hotline12345:U1" not in html     # an unlocated clue is the district's


def test_a_region_outside_the_district_brings_the_filter_back(client_for, pairs):
    from extensions.dedup.admin import sees_every_record
    from extensions.dedup.models import Signature
    from accounts.models import User
    from orgs.models import Region

    other = Region.objects.create(code="339902", name="邻区", level=Region.Level.DISTRICT)
    Signature.objects.filter(key="local:W1").update(region_path=other.path)
    assert not sees_every_record(User.objects.get(username="demo_district"))
    html, _ = listed(client_for("demo_district"))
    assert "local:E2" in html and "hotline12345:U1" in html
    assert "local:W1" not in html
