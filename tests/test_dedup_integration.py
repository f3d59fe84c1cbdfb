"""Duplicate-case model end to end: channel files ingested → verdicts → screens, commands,
confirm / reject / merge / split."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tests.samples import SAMPLES
pytestmark = pytest.mark.backend  # depends on the database backend: candidate queries of the duplicate model

CHANNELS = ("hotline12345", "minhu", "police110", "jczz", "province", "odr", "xltj", "local")


@pytest.fixture
def ingested(world, django_capture_on_commit_callbacks):
    from clues.ingest import ingest
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])
    with django_capture_on_commit_callbacks(execute=True):
        for ch in CHANNELS:
            ingest(ch, SAMPLES / f"{ch}.jsonl", origin="command")
    return world


def report() -> list[dict]:
    out = io.StringIO()
    call_command("dedup_report", "--format", "jsonl", stdout=out)
    return [json.loads(x) for x in out.getvalue().splitlines() if x.strip()]


def pair_of(rows, a, b):
    a, b = sorted([a, b])
    return next((r for r in rows if r["a"] == a and r["b"] == b), None)


def test_one_dispute_reported_by_three_channels_is_held_same_after_ingest(ingested):
    rows = report()
    hot, pro, xlt = "hotline12345:HOT2026060900013", "province:PRO2026060900014", "xltj:XLT2026060900012"
    for a, b in ((hot, pro), (pro, xlt), (hot, xlt)):
        row = pair_of(rows, a, b)
        assert row is not None and row["verdict"] == "same", (a, b, row)
        assert 0 < row["score"] <= 1 and row["reasons"]


def _same_dispute_cases(make_case, django_capture_on_commit_callbacks, other_region="湖滨社区"):
    text = "王建国反映地下车库积水，物业仍催交物业费2400元，双方发生争执。"
    with django_capture_on_commit_callbacks(execute=True):
        a = make_case(title="车库积水物业费纠纷", description=text, case_type="property", address="文化路313号",
                      parties=[{"name": "王建国", "phone": "13957070221", "id_number": "11010519491231002X"}])
    with django_capture_on_commit_callbacks(execute=True):
        b = make_case(region_name=other_region, title="物业费争执", case_type="property", address="文化路313号附近",
                      description="业主王建国因车库积水拒交2400元物业费，与物业争执。",
                      parties=[{"name": "王建国", "phone": "13957070221", "id_number": ""}])
    return a, b


def test_a_registered_case_is_checked_when_saved_and_the_api_counts_it(make_case, django_capture_on_commit_callbacks):
    from extensions.dedup import api

    a, b = _same_dispute_cases(make_case, django_capture_on_commit_callbacks)
    refs = api.same_records("case", a.pk)
    assert [r.key for r in refs] == [b.record_key]
    assert refs[0].verdict == "same" and not refs[0].confirmed and refs[0].reasons
    assert api.same_reports("case", a.pk) == 1
    assert api.same_reports("case", a.pk, days=30) == 1
    assert api.similar_records("case", a.pk) == []


def test_case_detail_shows_the_panel_with_reasons_and_buttons(make_case, client_for, django_capture_on_commit_callbacks):
    a, b = _same_dispute_cases(make_case, django_capture_on_commit_callbacks)
    html = client_for("demo_mediator").get(f"/admin/cases/case/{a.pk}/detail/").content.decode()
    assert "同一案件" in html and "相似案件" in html
    assert b.exchange_id in html and "电话一致" in html
    assert "确认" in html and "否决" in html


def test_panel_never_lists_a_record_outside_the_users_scope(make_case, client_for, django_capture_on_commit_callbacks):
    from extensions.dedup import api

    a, b = _same_dispute_cases(make_case, django_capture_on_commit_callbacks, other_region="文昌社区")
    assert [r.key for r in api.same_records("case", a.pk)] == [b.record_key]  # the model sees both
    mediator = client_for("demo_mediator").get(f"/admin/cases/case/{a.pk}/detail/").content.decode()
    assert b.exchange_id not in mediator
    street = client_for("demo_street").get(f"/admin/cases/case/{a.pk}/detail/").content.decode()
    assert b.exchange_id in street
    # the 重复线索清单 lists a pair only when both records are in scope
    assert b.exchange_id not in client_for("demo_mediator").get("/admin/dedup/pair/").content.decode()
    assert b.exchange_id in client_for("demo_street").get("/admin/dedup/pair/").content.decode()


def test_confirm_merges_into_one_file_and_split_undoes_it(make_case, client_for, django_capture_on_commit_callbacks):
    from cases.models import CaseEvent
    from extensions.dedup import api
    from extensions.dedup.models import DedupGroup, Pair

    a, b = _same_dispute_cases(make_case, django_capture_on_commit_callbacks)
    pair = Pair.objects.get()
    c = client_for("demo_mediator")
    page = c.get(f"/admin/dedup/pair/{pair.pk}/decide/?do=confirm")
    assert page.status_code == 200 and "一件事档案" in page.content.decode()
    r = c.post(f"/admin/dedup/pair/{pair.pk}/decide/", {"do": "confirm", "next": f"/admin/cases/case/{a.pk}/detail/"})
    assert r.status_code == 302 and r["Location"] == f"/admin/cases/case/{a.pk}/detail/"
    pair.refresh_from_db()
    assert pair.status == "confirmed" and pair.decided_by.username == "demo_mediator"
    group = DedupGroup.objects.get()
    assert sorted(group.members.values_list("key", flat=True)) == sorted([a.record_key, b.record_key])
    assert CaseEvent.objects.filter(case=a, kind="dedup").exists()
    assert api.same_records("case", a.pk)[0].confirmed
    # confirming again is refused with a message, nothing changes
    r = c.post(f"/admin/dedup/pair/{pair.pk}/decide/", {"do": "reject"}, follow=True)
    assert "已确认" in r.content.decode()
    pair.refresh_from_db()
    assert pair.status == "confirmed"
    # both source records still exist; a wrong merge is split again
    r = c.post(f"/admin/dedup/dedupgroup/{group.pk}/split/", {"key": b.record_key})
    assert r.status_code == 302
    assert not DedupGroup.objects.exists()
    pair.refresh_from_db()
    assert pair.status == "rejected"
    assert api.same_records("case", a.pk) == []


def test_a_rejected_pair_is_never_proposed_again(make_case, client_for, django_capture_on_commit_callbacks):
    from extensions.dedup import api
    from extensions.dedup.models import Pair

    a, b = _same_dispute_cases(make_case, django_capture_on_commit_callbacks)
    pair = Pair.objects.get()
    client_for("demo_mediator").post(f"/admin/dedup/pair/{pair.pk}/decide/", {"do": "reject"})
    with django_capture_on_commit_callbacks(execute=True):
        a.description += "（补充：多次协商未果）"
        a.save()
    call_command("dedup_rebuild", "--quiet", stdout=io.StringIO())
    assert Pair.objects.get().status == "rejected"
    assert api.same_records("case", a.pk) == [] and api.same_reports("case", a.pk) == 0
    assert report() == []


def test_a_user_without_rights_cannot_decide(make_case, client_for, django_capture_on_commit_callbacks):
    from extensions.dedup.models import Pair

    _same_dispute_cases(make_case, django_capture_on_commit_callbacks)
    pair = Pair.objects.get()
    r = client_for("demo_dept").post(f"/admin/dedup/pair/{pair.pk}/decide/", {"do": "confirm"})
    assert r.status_code in (302, 403)
    pair.refresh_from_db()
    assert pair.status == "proposed"


def test_deleting_a_case_drops_its_pairs(make_case, django_capture_on_commit_callbacks):
    from extensions.dedup.models import Pair, Signature

    a, b = _same_dispute_cases(make_case, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        b.delete()
    assert not Pair.objects.exists() and not Signature.objects.filter(key=b.record_key).exists()


def test_rebuild_from_scratch_reproduces_the_ingested_verdicts(ingested):
    before = {(r["a"], r["b"], r["verdict"]) for r in report()}
    assert before
    out = io.StringIO()
    call_command("dedup_rebuild", "--quiet", stdout=out)
    assert "重复研判重算完成" in out.getvalue()
    after = {(r["a"], r["b"], r["verdict"]) for r in report()}
    assert after == before


def test_report_lines_are_json_with_the_documented_fields(ingested):
    out = io.StringIO()
    call_command("dedup_report", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines
    for line in lines:
        row = json.loads(line)
        assert set(row) >= {"a", "b", "verdict", "score", "reasons"}
        assert row["a"] < row["b"] and ":" in row["a"]
        assert row["verdict"] in ("same", "similar") and 0 <= row["score"] <= 1


def test_report_refuses_an_unknown_format(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不支持的格式"):
        call_command("dedup_report", "--format", "xml", stdout=io.StringIO())


def test_clue_detail_shows_same_records_of_other_channels(ingested, client_for):
    from clues.models import Clue

    clue = Clue.objects.get(record_key="hotline12345:HOT2026060900013")
    html = client_for("demo_district").get(f"/admin/clues/clue/{clue.pk}/change/").content.decode()
    assert "同一案件" in html and "PRO2026060900014" in html and "XLT2026060900012" in html


def test_duplicate_list_filters_by_channel_and_verdict(ingested, client_for):
    c = client_for("demo_district")
    html = c.get("/admin/dedup/pair/?verdict__exact=same&channel=xltj").content.decode()
    assert "XLT2026060900012" in html
    html = c.get("/admin/dedup/pair/?verdict__exact=same&channel=jczz").content.decode()
    assert "XLT2026060900012" not in html or "jczz:" in html


def test_a_pair_reaching_outside_the_users_scope_cannot_be_decided(make_case, client_for, django_capture_on_commit_callbacks):
    from extensions.dedup.models import Pair

    _same_dispute_cases(make_case, django_capture_on_commit_callbacks, other_region="文昌社区")
    pair = Pair.objects.get()
    c = client_for("demo_mediator")
    assert c.get(f"/admin/dedup/pair/{pair.pk}/decide/?do=confirm").status_code == 404
    assert c.post(f"/admin/dedup/pair/{pair.pk}/decide/", {"do": "confirm"}).status_code == 404
    pair.refresh_from_db()
    assert pair.status == "proposed"
    r = client_for("demo_street").post(f"/admin/dedup/pair/{pair.pk}/decide/", {"do": "confirm"})
    assert r.status_code == 302
    pair.refresh_from_db()
    assert pair.status == "confirmed"


def test_a_bad_decision_word_or_foreign_next_url_is_handled(make_case, client_for, django_capture_on_commit_callbacks):
    from extensions.dedup.models import Pair

    _same_dispute_cases(make_case, django_capture_on_commit_callbacks)
    pair = Pair.objects.get()
    c = client_for("demo_mediator")
    r = c.post(f"/admin/dedup/pair/{pair.pk}/decide/", {"do": "merge-all"}, follow=True)
    assert "未知的操作" in r.content.decode()
    r = c.post(f"/admin/dedup/pair/{pair.pk}/decide/", {"do": "reject", "next": "https://evil.example/"})
    assert r.status_code == 302 and r["Location"] == "/admin/dedup/pair/"
    pair.refresh_from_db()
    assert pair.status == "rejected"


def test_api_counts_the_other_channels_reports_of_an_ingested_clue(ingested):
    from clues.models import Clue
    from extensions.dedup import api

    clue = Clue.objects.get(record_key="hotline12345:HOT2026060900013")
    keys = {r.key for r in api.same_records("clue", clue.pk)}
    assert {"province:PRO2026060900014", "xltj:XLT2026060900012"} <= keys
    assert api.same_reports("clue", clue.pk) == len(keys)
    assert api.same_reports("clue", clue.pk, days=1) == 0  # the samples are from June 2026, not yesterday


def test_the_batch_api_answers_a_whole_chunk_as_record_by_record(ingested, django_assert_max_num_queries):
    from cases.models import Case
    from clues.models import Clue
    from extensions.dedup import actions, api
    from extensions.dedup.models import Pair

    # one confirmed pair (merged into a file) and one rejected pair among the held verdicts
    held = list(Pair.objects.filter(verdict="same").order_by("a_key", "b_key"))
    assert len(held) >= 2
    actions.decide(held[0], None, "confirm")
    actions.decide(held[-1], None, "reject")
    for kind, model in (("clue", Clue), ("case", Case)):
        pks = list(model.objects.values_list("pk", flat=True)) + [10 ** 9]  # and one that does not exist
        with django_assert_max_num_queries(8):  # a fixed handful, whatever the chunk size
            many = api.same_records_many(kind, pks)
        one_by_one = {pk: api.same_records(kind, pk) for pk in pks}
        assert {pk: refs for pk, refs in many.items() if refs} == {pk: r for pk, r in one_by_one.items() if r}
        assert any(many.values())


def test_a_file_shows_only_the_members_in_scope(make_case, client_for, django_capture_on_commit_callbacks):
    from extensions.dedup.models import DedupGroup, Pair

    a, b = _same_dispute_cases(make_case, django_capture_on_commit_callbacks, other_region="文昌社区")
    client_for("demo_street").post(f"/admin/dedup/pair/{Pair.objects.get().pk}/decide/", {"do": "confirm"})
    group = DedupGroup.objects.get()
    page = client_for("demo_mediator").get(f"/admin/dedup/dedupgroup/{group.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200 and a.exchange_id in html and b.exchange_id not in html
    street = client_for("demo_street").get(f"/admin/dedup/dedupgroup/{group.pk}/change/").content.decode()
    assert a.exchange_id in street and b.exchange_id in street
