"""线索库 (clue library) in the admin: scoped list, phone search by blind index, 分派 / 转为案件 /
关闭 with their refusals, the ingest upload page, the rejected-records report and 数据质量."""
from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.samples import SAMPLES
pytestmark = pytest.mark.backend  # depends on the database backend: text search and filters


CHANGELIST = "/admin/clues/clue/"


@pytest.fixture
def ingested(world, settings, tmp_path):
    from clues.ingest import ingest
    from lowcode.serialization import load_metadata

    settings.INGEST_REPORT_DIR = tmp_path / "reports"
    settings.INGEST_UPLOAD_DIR = tmp_path / "uploads"
    settings.INGEST_UPLOAD_SYNC = True  # the background task runs within the request
    load_metadata(["cleaning_rules"])
    for source in ("hotline12345", "minhu", "police110", "jczz"):
        result = ingest(source, SAMPLES / f"{source}.jsonl", origin="command")
        assert result.file_error == ""
    return world


def region(name):
    from orgs.models import Region

    return Region.objects.get(name=name)


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def place(clue, region_name):
    """Put a clue in a region (as if its address had matched there)."""
    from clues.models import Clue

    r = region(region_name)
    Clue.objects.filter(pk=clue.pk).update(region=r, region_path=r.path)
    clue.refresh_from_db()
    return clue


@pytest.fixture
def hubin_clue(ingested):
    from clues.models import Clue

    clue = Clue.objects.filter(channel_id="hotline12345", parties__phone_bidx__gt="").order_by("pk").first()
    return place(clue, "湖滨社区")


@pytest.fixture
def xikou_clue(ingested):
    from clues.models import Clue

    return place(Clue.objects.filter(channel_id="minhu").order_by("pk").first(), "溪口社区")


def post_action(client, action, pks, **data):
    return client.post(CHANGELIST, {"action": action, "_selected_action": [str(p) for p in pks], **data})


# --- list and search -------------------------------------------------------------------------
def test_list_is_scoped_by_region(hubin_clue, xikou_clue, client_for):
    from clues.models import Clue

    mediator = client_for("demo_mediator")
    page = mediator.get(CHANGELIST)
    assert page.status_code == 200
    text = page.content.decode()
    number = lambda clue: clue.record_key.split(":", 1)[1]  # noqa: E731  the list shows the channel apart
    assert number(hubin_clue) in text and number(xikou_clue) not in text
    assert page.context["cl"].result_count == Clue.objects.filter(region_path__startswith=region("湖滨社区").path).count()
    assert mediator.get(f"{CHANGELIST}{xikou_clue.pk}/change/").status_code == 404
    assert mediator.get(f"{CHANGELIST}{hubin_clue.pk}/change/").status_code == 200
    # the district admin sees both; a user without clue rights sees nothing
    district = client_for("demo_district").get(CHANGELIST).content.decode()
    assert hubin_clue.record_key in district and xikou_clue.record_key in district
    assert client_for("demo_tp_mediator").get(CHANGELIST).status_code == 403


def test_clue_without_region_only_for_district_level(hubin_clue, client_for):
    from clues.actions import scoped_clues
    from clues.models import Clue

    Clue.objects.filter(pk=hubin_clue.pk).update(region=None, region_path="")
    assert scoped_clues(user("demo_district")).filter(pk=hubin_clue.pk).exists()
    assert not scoped_clues(user("demo_street")).filter(pk=hubin_clue.pk).exists()
    assert not scoped_clues(user("demo_mediator")).filter(pk=hubin_clue.pk).exists()


def test_phones_masked_and_search_by_blind_index(hubin_clue, client_for):
    phone = hubin_clue.parties.exclude(phone="").first().phone
    mediator = client_for("demo_mediator")
    text = mediator.get(CHANGELIST).content.decode()
    assert phone not in text  # masked without cases.view_sensitive_party
    found = mediator.get(CHANGELIST, {"q": phone})
    assert [c.pk for c in found.context["cl"].result_list] == [hubin_clue.pk]
    assert mediator.get(CHANGELIST, {"q": phone[:7]}).context["cl"].result_count == 0  # no substring on phones
    # title search still works
    assert mediator.get(CHANGELIST, {"q": hubin_clue.title[:4]}).context["cl"].result_count >= 1


def test_filters_work(hubin_clue, client_for):
    c = client_for("demo_district")
    for query in ({"channel__key__exact": "hotline12345"}, {"status__exact": "new"}, {"region_level": "3"},
                  {"address_quality__exact": "none"}, {"type": "__none__"}, {"type": "labor_wage"},
                  {"occurred_at__gte": "2026-01-01T00:00:00+08:00", "occurred_at__lt": "2027-01-01T00:00:00+08:00"}):
        assert c.get(CHANGELIST, query).status_code == 200, query
    page = c.get(CHANGELIST, {"channel__key__exact": "hotline12345"})
    assert all(x.channel_id == "hotline12345" for x in page.context["cl"].result_list)


# --- actions ----------------------------------------------------------------------------------
def test_assign_with_intermediate_page_and_refusals(hubin_clue, xikou_clue, client_for):
    from clues.actions import ActionRefused, assign_clues
    from notices.models import Notice

    street = client_for("demo_street")
    page = post_action(street, "assign_selected", [hubin_clue.pk])
    assert page.status_code == 200 and "分派线索" in page.content.decode()
    response = post_action(street, "assign_selected", [hubin_clue.pk], apply="1",
                           assignee=str(user("demo_mediator").pk))
    assert response.status_code == 302
    hubin_clue.refresh_from_db()
    assert hubin_clue.status == "assigned" and hubin_clue.assignee.username == "demo_mediator"
    assert Notice.objects.filter(recipient__username="demo_mediator", title__contains="线索").exists()
    # the assignee must be able to see the clue (a clue of a sibling community in the same street)
    from clues.models import Clue
    from orgs.models import Region

    sibling = Region.objects.filter(parent=region("湖滨社区").parent, level=3).exclude(name="湖滨社区").first()
    other = place(Clue.objects.filter(channel_id="police110").order_by("pk").first(), sibling.name)
    with pytest.raises(ActionRefused, match="无权查看"):
        assign_clues([other], user("demo_street"), user("demo_mediator"))
    # out of the assigner's scope
    with pytest.raises(ActionRefused, match="管辖范围"):
        assign_clues([hubin_clue], user("demo_mediator"), user("demo_street"))
    # another region's clue: nothing done
    with pytest.raises(ActionRefused, match="管辖范围"):
        assign_clues([xikou_clue], user("demo_mediator"), user("demo_mediator"))


def test_close_needs_reason_and_refuses_closed(hubin_clue, client_for):
    from clues.actions import ActionRefused, close_clues

    me = user("demo_mediator")
    with pytest.raises(ActionRefused, match="关闭原因"):
        close_clues([hubin_clue], me, "  ")
    client = client_for("demo_mediator")
    assert post_action(client, "close_selected", [hubin_clue.pk], apply="1", reason="重复来电").status_code == 302
    hubin_clue.refresh_from_db()
    assert hubin_clue.status == "closed" and hubin_clue.extra["closed"]["reason"] == "重复来电"
    assert hubin_clue.history.first().history_change_reason.startswith("关闭线索")
    with pytest.raises(ActionRefused, match="已转案件或已关闭"):
        close_clues([hubin_clue], me, "再关一次")


def test_convert_creates_linked_case_visible_in_case_library(hubin_clue, client_for):
    from cases.models import Case, CaseEvent
    from clues.actions import ActionRefused, convert_clue

    client = client_for("demo_mediator")
    response = post_action(client, "convert_selected", [hubin_clue.pk], apply="1")
    assert response.status_code == 302
    hubin_clue.refresh_from_db()
    case = hubin_clue.converted_case
    assert hubin_clue.status == "converted" and case is not None
    assert case.source == "hotline12345" and case.region == region("湖滨社区")
    assert case.title == hubin_clue.title and case.description == hubin_clue.text
    party = hubin_clue.parties.exclude(phone="").first()
    copied = case.parties.get(name=party.name)  # decrypted from the clue, encrypted again on the case
    assert copied.phone == party.phone and copied.phone_bidx == party.phone_bidx
    assert CaseEvent.objects.filter(case=case, message__contains=hubin_clue.record_key).exists()
    # in the case library, with its source
    library = client.get("/admin/cases/case/", {"source": "hotline12345"})
    assert library.status_code == 200 and case.exchange_id in library.content.decode()
    assert client.get(reverse("admin:cases_case_detail", args=[case.pk])).status_code == 200
    with pytest.raises(ActionRefused, match="已转案件或已关闭"):
        convert_clue(hubin_clue, user("demo_mediator"))
    assert Case.objects.filter(source="hotline12345").count() == 1


def test_convert_requires_community_region(hubin_clue, client_for):
    from clues.actions import ActionRefused, convert_clue

    place(hubin_clue, "东湖街道")
    with pytest.raises(ActionRefused, match="社区"):
        convert_clue(hubin_clue, user("demo_street"))
    street = client_for("demo_street")
    page = post_action(street, "convert_selected", [hubin_clue.pk])
    assert "请选择案件所属的社区" in page.content.decode()
    # a region outside the user's scope is refused by the form (not in the choices)
    page = post_action(street, "convert_selected", [hubin_clue.pk], apply="1", region=str(region("溪口社区").pk))
    hubin_clue.refresh_from_db()
    assert hubin_clue.status == "new"
    with pytest.raises(ActionRefused, match="管辖范围"):
        convert_clue(hubin_clue, user("demo_street"), region=region("溪口社区"))
    response = post_action(street, "convert_selected", [hubin_clue.pk], apply="1", region=str(region("湖滨社区").pk))
    assert response.status_code == 302
    hubin_clue.refresh_from_db()
    assert hubin_clue.converted_case.region == region("湖滨社区")


def test_actions_on_other_region_change_nothing(hubin_clue, xikou_clue, client_for):
    client = client_for("demo_mediator")
    post_action(client, "close_selected", [xikou_clue.pk], apply="1", reason="越权")
    post_action(client, "convert_selected", [xikou_clue.pk], apply="1")
    xikou_clue.refresh_from_db()
    assert xikou_clue.status == "new" and xikou_clue.converted_case is None


# --- upload ---------------------------------------------------------------------------------------
UPLOAD = "/admin/clues/ingestbatch/upload/"


def test_upload_through_admin(ingested, client_for, tmp_path):
    from clues.models import IngestBatch

    lines = (SAMPLES / "hotline12345.jsonl").read_text(encoding="utf-8").splitlines()
    body = "\n".join(lines[:3] + ["{not json", json.dumps({"工单编号": "", "来电时间": "坏时间"}, ensure_ascii=False)])
    client = client_for("demo_district")
    assert client.get(UPLOAD).status_code == 200
    response = client.post(UPLOAD, {"channel": "hotline12345",
                                    "file": SimpleUploadedFile("h.jsonl", body.encode("utf-8"))}, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    assert "导入结果" in text and "下载拒绝记录报告" in text and "导入完成" in text
    batch = IngestBatch.objects.get(origin="upload")
    assert response.redirect_chain[-1][0] == reverse("admin:clues_ingestbatch_result", args=[batch.pk])
    assert batch.user.username == "demo_district" and batch.rejected == 2 and batch.unchanged == 3
    report = client.get(reverse("admin:clues_ingestbatch_report", args=[batch.pk]))
    assert report.status_code == 200
    csv_text = b"".join(report.streaming_content).decode("utf-8-sig")
    assert "原因" in csv_text and csv_text.count("\n") >= 3
    # batches list and drill-down to the rejections
    assert "上传导入" in client.get("/admin/clues/ingestbatch/").content.decode()
    rejections = client.get("/admin/clues/rejection/", {"batch__id__exact": batch.pk})
    assert rejections.status_code == 200 and rejections.context["cl"].result_count == 2


@pytest.mark.parametrize("name,content,message", [
    ("h.csv", b"a,b\n1,2\n", "只支持 .jsonl 或 .xlsx"),
    ("h.jsonl", b"", "空文件"),
    ("h.xlsx", b"PK\x03\x04truncated", ""),
])
def test_upload_bad_file_gives_chinese_message(ingested, client_for, name, content, message):
    client = client_for("demo_district")
    response = client.post(UPLOAD, {"channel": "hotline12345", "file": SimpleUploadedFile(name, content)},
                           follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    if message:
        assert message in text
    else:  # a broken workbook: the ingest's own Chinese file message on the result page
        assert "导入结果" in text and 'class="alert alert-danger"' in text


def test_upload_wrong_channel_and_size_limit(ingested, client_for, settings):
    client = client_for("demo_district")
    body = (SAMPLES / "province.jsonl").read_bytes()
    response = client.post(UPLOAD, {"channel": "hotline12345", "file": SimpleUploadedFile("p.jsonl", body)},
                           follow=True)
    assert response.status_code == 200 and 'class="alert alert-danger"' in response.content.decode()
    assert "不是「" in response.content.decode()  # names the channel the file belongs to
    settings.INGEST_MAX_BYTES = 10
    response = client.post(UPLOAD, {"channel": "hotline12345", "file": SimpleUploadedFile("p.jsonl", body)})
    assert response.status_code == 200 and "上限" in response.content.decode()


def test_upload_only_district_level(ingested, client_for):
    for username in ("demo_street", "demo_mediator", "demo_dept"):
        assert client_for(username).get(UPLOAD).status_code == 403, username
        assert client_for(username).get("/admin/clues/ingestbatch/").status_code == 403, username


# --- quality ----------------------------------------------------------------------------------------
def test_quality_page_shows_rejection_reasons(ingested, client_for, tmp_path):
    from clues.ingest import ingest

    path = tmp_path / "dirty.jsonl"
    path.write_text("{broken\n" + (SAMPLES / "hotline12345.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    result = ingest("hotline12345", path, origin="command")
    reason = result.batch.rejections.first().reason
    client = client_for("demo_district")
    page = client.get("/admin/clues/rawrecord/quality/", {"channel": "hotline12345"})
    assert page.status_code == 200
    text = page.content.decode()
    assert reason in text and "字段完整率" in text and "地址匹配" in text and "类型映射缺失" in text
    row = page.context["rows"][0]
    assert row["read"] > 0 and row["rejected"] >= 1 and row["completeness"][0]["total"] > 0
    # drill-downs open
    assert client.get("/admin/clues/rejection/" + row["reasons"][0]["url"]).context["cl"].result_count >= 1
    assert client.get("/admin/clues/rawrecord/" + row["records_url"]).status_code == 200
    assert client.get("/admin/clues/rawrecord/" + row["address"][0]["url"]).status_code == 200
    month = page.context["form"].fields["month"].choices[1][0]
    assert client.get("/admin/clues/rawrecord/quality/", {"month": month}).status_code == 200
    assert client_for("demo_mediator").get("/admin/clues/rawrecord/quality/").status_code == 403


def test_clue_detail_shows_standard_address_and_match_quality(hubin_clue, client_for):
    from addresses.models import StandardAddress
    from clues.models import Clue

    standard = StandardAddress.objects.create(text="示范区东湖街道湖滨社区文化路313号", region=region("湖滨社区"))
    Clue.objects.filter(pk=hubin_clue.pk).update(address_standard=standard, address_quality="building")
    page = client_for("demo_district").get(f"{CHANGELIST}{hubin_clue.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "示范区东湖街道湖滨社区文化路313号" in text and "匹配到楼栋" in text
