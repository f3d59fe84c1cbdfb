"""Issue 18 (1): the duplicate list below the district filters on ``Pair.scope_path`` (the common
region of both records) — one indexed prefix match instead of an IN over every visible signature.
The pairs here are written by the engine (hooks on saved cases / clues), so the scope comes from
the same writers as in production; every list count is compared with today's IN filter too."""
from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.backend  # depends on the database backend: COPY/UPDATE paths of the pair writer

TEXT = "王建国反映地下车库积水，物业仍催交物业费2400元，双方发生争执。"
PARTY = {"name": "王建国", "phone": "13957070221", "id_number": "11010519491231002X"}


@pytest.fixture
def records(make_case, world, django_capture_on_commit_callbacks):
    """One dispute registered four times: two cases in 东湖街道 (湖滨社区, 文昌社区), one in 西溪街道
    (溪口社区) and one unlocated clue — every two of them a pair."""
    from django.utils import timezone

    from clues.models import Channel, Clue, ClueParty, RawRecord

    out = {}
    for name, region in (("hubin", "湖滨社区"), ("wenchang", "文昌社区"), ("xikou", "溪口社区")):
        with django_capture_on_commit_callbacks(execute=True):
            out[name] = make_case(region_name=region, title="车库积水物业费纠纷", description=TEXT,
                                  case_type="property", address="文化路313号", parties=[dict(PARTY)])
    channel, _ = Channel.objects.get_or_create(key="hotline12345", defaults={"name": "12345热线", "kind": "event"})
    with django_capture_on_commit_callbacks(execute=True):
        raw = RawRecord.objects.create(channel=channel, source_id="U1", record_key="hotline12345:U1",
                                       payload={}, payload_hash="U1")
        clue = Clue.objects.create(record_key=raw.record_key, raw=raw, channel=channel, source_id="U1",
                                   title="车库积水物业费纠纷", text=TEXT, address="文化路313号",
                                   region_path="", occurred_at=timezone.now())
        ClueParty.objects.create(clue=clue, name=PARTY["name"], phone=PARTY["phone"])
    out["unlocated"] = clue
    return out


def key(rec) -> str:
    return rec.record_key


def pair_of(a, b):
    from extensions.dedup.models import Pair

    x, y = sorted([key(a), key(b)])
    return Pair.objects.get(a_key=x, b_key=y)


def listed(client) -> tuple[str, int]:
    response = client.get("/admin/dedup/pair/")
    assert response.status_code == 200
    html = response.content.decode()
    return html, int(re.search(r"共\s*(\d+)\s*条", html).group(1))


def in_filter_count(username: str) -> int:
    """Today's filter (both records among the user's visible signatures), for comparison."""
    from accounts.models import User
    from extensions.dedup.admin import visible_signatures
    from extensions.dedup.models import Pair

    keys = visible_signatures(User.objects.get(username=username)).values("key")
    return Pair.objects.filter(a_key__in=keys, b_key__in=keys).count()


def test_common_path_is_cut_on_whole_segments():
    from extensions.dedup.models import common_path

    assert common_path("339901/339901001/A/", "339901/339901001/B/") == "339901/339901001/"
    assert common_path("339901/339901001/", "339901/339901001/") == "339901/339901001/"
    assert common_path("339901/339901001/", "339901/339901002/") == "339901/"  # not "339901/33990100"
    assert common_path("339901/33990100/", "339901/339901001/") == "339901/"
    assert common_path("", "339901/339901001/") == "" == common_path("339901/", "")


def test_the_street_admin_sees_the_pairs_inside_the_street_only(records, client_for):
    from extensions.dedup.models import Pair
    from orgs.models import Region

    assert Pair.objects.count() == 6
    street = Region.objects.get(name="东湖街道")
    assert pair_of(records["hubin"], records["wenchang"]).scope_path == street.path
    assert pair_of(records["hubin"], records["xikou"]).scope_path == street.parent.path
    assert pair_of(records["hubin"], records["unlocated"]).scope_path == ""

    html, count = listed(client_for("demo_street"))
    assert count == 1 == in_filter_count("demo_street")
    assert records["hubin"].exchange_id in html and records["wenchang"].exchange_id in html
    assert records["xikou"].exchange_id not in html        # the other record is in 西溪街道
    assert "hotline12345:U1" not in html                    # an unlocated clue is the district's
    html, count = listed(client_for("demo_district"))
    assert count == 6
    assert records["xikou"].exchange_id in html and "hotline12345:U1" in html


def test_a_record_moving_to_another_street_takes_its_pairs_out_of_the_street(
        records, client_for, django_capture_on_commit_callbacks):
    from orgs.models import Region

    # a decided pair is not rewritten by the check (a rejected one is never proposed again): its
    # scope must still follow the record
    rejected = pair_of(records["hubin"], records["wenchang"])
    r = client_for("demo_street").post(f"/admin/dedup/pair/{rejected.pk}/decide/", {"do": "reject"})
    assert r.status_code == 302
    rejected.refresh_from_db()
    assert rejected.status == "rejected"
    _, count = listed(client_for("demo_street"))
    assert count == 1

    case = records["wenchang"]
    with django_capture_on_commit_callbacks(execute=True):
        case.region = Region.objects.get(name="溪口社区")
        case.save()
    rejected.refresh_from_db()
    assert rejected.status == "rejected" and rejected.scope_path == Region.objects.get(name="东湖街道").parent.path
    html, count = listed(client_for("demo_street"))
    assert count == 0 == in_filter_count("demo_street")
    assert case.exchange_id not in html
    _, count = listed(client_for("demo_district"))
    assert count == 6

    # and back: the pair returns to the street's list
    with django_capture_on_commit_callbacks(execute=True):
        case.region = Region.objects.get(name="文昌社区")
        case.save()
    _, count = listed(client_for("demo_street"))
    assert count == 1 == in_filter_count("demo_street")


def test_a_clue_located_later_brings_its_pairs_into_the_street(records, client_for, django_capture_on_commit_callbacks):
    from orgs.models import Region

    clue = records["unlocated"]
    region = Region.objects.get(name="湖滨社区")
    with django_capture_on_commit_callbacks(execute=True):
        clue.region, clue.region_path = region, region.path
        clue.save()
    html, count = listed(client_for("demo_street"))
    # 湖滨–文昌, 湖滨–clue, 文昌–clue
    assert count == 3 == in_filter_count("demo_street")
    assert "hotline12345:U1" in html


def test_update_scopes_and_the_rebuild_restore_every_scope(records):
    """The backfill's recomputation (update_scopes) and the rebuild (which keeps decided pairs)."""
    from extensions.dedup import engine, rebuild
    from extensions.dedup.models import Pair

    expected = dict(Pair.objects.values_list("pk", "scope_path"))
    assert len(set(expected.values())) == 3  # street, district, ""
    Pair.objects.update(scope_path="")
    assert engine.update_scopes() == len([v for v in expected.values() if v])
    assert dict(Pair.objects.values_list("pk", "scope_path")) == expected

    scopes = {(p.a_key, p.b_key): p.scope_path for p in Pair.objects.all()}
    decided = pair_of(records["hubin"], records["xikou"])
    Pair.objects.filter(pk=decided.pk).update(status="confirmed", scope_path="")
    Pair.objects.filter(status="proposed").update(scope_path="stale/")
    rebuild.rebuild(jobs=1)
    assert {(p.a_key, p.b_key): p.scope_path for p in Pair.objects.all()} == scopes


def test_the_migration_backfills_every_scope(records):
    import importlib
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    from extensions.dedup.models import Pair

    expected = dict(Pair.objects.values_list("pk", "scope_path"))
    Pair.objects.update(scope_path="")
    migration = importlib.import_module("extensions.dedup.migrations.0003_pair_scope_path")
    migration.backfill(apps, SimpleNamespace(connection=connection))
    assert dict(Pair.objects.values_list("pk", "scope_path")) == expected
