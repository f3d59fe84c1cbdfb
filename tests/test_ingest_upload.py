"""Admin upload in the background: the file is stored and queued (批次“排队中”), a django-q2 task
ingests it, the result page follows a JSON progress endpoint and shows the outcome; a user only
reaches their own batches (district level: all)."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.samples import SAMPLES
pytestmark = pytest.mark.backend  # depends on the database backend: bulk writes from uploads

UPLOAD = "/admin/clues/ingestbatch/upload/"


@pytest.fixture
def rules(world, settings, tmp_path):
    from lowcode.serialization import load_metadata

    settings.INGEST_REPORT_DIR = tmp_path / "reports"
    settings.INGEST_UPLOAD_DIR = tmp_path / "uploads"
    settings.INGEST_UPLOAD_SYNC = False  # queued as with a real worker; tests run the task themselves
    load_metadata(["cleaning_rules"])
    return tmp_path


def progress(client, batch):
    response = client.get(reverse("admin:clues_ingestbatch_progress", args=[batch.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/json")
    return response.json()


def upload(client, name: str, content: bytes, channel="hotline12345"):
    from clues.models import IngestBatch

    response = client.post(UPLOAD, {"channel": channel, "file": SimpleUploadedFile(name, content)})
    assert response.status_code == 302, response.content.decode()[:500]
    batch = IngestBatch.objects.order_by("-pk").first()
    assert response["Location"] == reverse("admin:clues_ingestbatch_result", args=[batch.pk])
    return batch


def test_upload_is_queued_then_the_task_ingests_it_and_the_page_shows_the_result(rules, client_for):
    from clues import tasks

    client = client_for("demo_district")
    body = (SAMPLES / "hotline12345.jsonl").read_bytes() + b"{broken json\n"
    batch = upload(client, "h.jsonl", body)
    stored = Path(batch.upload_path)
    assert batch.status == "queued" and stored.exists() and batch.size == len(body)

    page = client.get(reverse("admin:clues_ingestbatch_result", args=[batch.pk])).content.decode()
    assert "排队中" in page and 'id="ingest-bar"' in page and "ingest-progress.js" in page
    before = progress(client, batch)
    assert before["status"] == "queued" and before["finished"] is False and before["read"] == 0

    tasks.ingest_upload(batch.pk)  # what the qcluster worker runs

    after = progress(client, batch)
    assert after["finished"] is True and after["status"] == "done" and after["percent"] == 100
    assert (after["read"], after["new"], after["rejected"]) == (7, 6, 1)
    page = client.get(reverse("admin:clues_ingestbatch_result", args=[batch.pk])).content.decode()
    assert "导入完成" in page and "下载拒绝记录报告" in page and "第 7 行" in page and 'id="ingest-bar"' not in page
    report = client.get(reverse("admin:clues_ingestbatch_report", args=[batch.pk]))
    assert "不是合法的 JSON" in b"".join(report.streaming_content).decode("utf-8-sig")
    assert not stored.exists()  # the stored upload is removed once ingested
    # a second delivery of the task (retry) changes nothing
    assert tasks.ingest_upload(batch.pk) == {"batch": batch.pk, "skipped": True}


def test_progress_moves_while_a_long_file_is_ingested(rules, client_for, monkeypatch):
    from clues import ingest as ingest_module
    from clues import tasks
    from clues.models import IngestBatch

    lines = (SAMPLES / "minhu.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(x) for x in lines if x.strip()]
    id_field = "诉求编号" if "诉求编号" in records[0] else next(iter(records[0]))
    body = io.StringIO()
    for i in range(60):
        rec = dict(records[i % len(records)])
        rec[id_field] = f"PROG{i:04d}"
        body.write(json.dumps(rec, ensure_ascii=False) + "\n")
    seen = []
    real = ingest_module._report_progress

    def spy(batch, source):
        real(batch, source)
        seen.append(IngestBatch.objects.values_list("percent", "read").get(pk=batch.pk))
    monkeypatch.setattr(ingest_module, "CHUNK", 10)
    monkeypatch.setattr(ingest_module, "_report_progress", spy)
    client = client_for("demo_district")
    batch = upload(client, "m.jsonl", body.getvalue().encode("utf-8"), channel="minhu")
    tasks.ingest_upload(batch.pk)
    percents = [p for p, _ in seen]
    assert len(seen) >= 4 and percents == sorted(percents) and 0 < percents[0] < percents[-1] < 100
    assert [r for _, r in seen] == sorted(r for _, r in seen)  # records read grow chunk by chunk
    assert progress(client, batch)["new"] == 60


def test_a_broken_file_fails_with_a_chinese_message_and_no_leftovers(rules, client_for):
    from clues import tasks

    client = client_for("demo_district")
    batch = upload(client, "broken.xlsx", b"PK\x03\x04 this is not a workbook")
    stored = Path(batch.upload_path)
    tasks.ingest_upload(batch.pk)
    p = progress(client, batch)
    assert p["finished"] is True and p["status"] == "failed" and "Excel 文件" in p["message"]
    page = client.get(reverse("admin:clues_ingestbatch_result", args=[batch.pk])).content.decode()
    assert 'class="alert alert-danger"' in page and "Excel 文件" in page
    assert not stored.exists()


def test_a_crash_inside_the_task_never_leaves_the_batch_running(rules, client_for, monkeypatch):
    from clues import ingest as ingest_module
    from clues import tasks, uploads

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")
    monkeypatch.setattr(ingest_module, "ingest", boom)
    client = client_for("demo_district")
    batch = upload(client, "h.jsonl", (SAMPLES / "hotline12345.jsonl").read_bytes())
    tasks.ingest_upload(batch.pk)
    p = progress(client, batch)
    assert p["status"] == "failed" and p["message"] == uploads.SYSTEM_ERROR
    assert "disk on fire" not in client.get(reverse("admin:clues_ingestbatch_result", args=[batch.pk])).content.decode()


def test_waiting_for_a_worker_is_explained(rules, client_for):
    from datetime import timedelta

    from django.utils import timezone

    from clues.models import IngestBatch

    client = client_for("demo_district")
    batch = upload(client, "h.jsonl", (SAMPLES / "hotline12345.jsonl").read_bytes())
    IngestBatch.objects.filter(pk=batch.pk).update(started_at=timezone.now() - timedelta(minutes=2))
    assert "qcluster" in progress(client, batch)["hint"]


def test_a_user_reaches_only_their_own_batches(rules, client_for):
    from django.contrib.auth.models import Permission

    from accounts.models import User
    from clues import tasks

    street = User.objects.get(username="demo_street")
    street.user_permissions.add(*Permission.objects.filter(
        content_type__app_label="clues", codename__in=["add_ingestbatch", "view_ingestbatch"]))
    district = client_for("demo_district")
    theirs = upload(district, "h.jsonl", (SAMPLES / "hotline12345.jsonl").read_bytes())
    tasks.ingest_upload(theirs.pk)

    client = client_for("demo_street")
    mine = upload(client, "j.jsonl", (SAMPLES / "jczz.jsonl").read_bytes(), channel="jczz")
    tasks.ingest_upload(mine.pk)
    assert progress(client, mine)["new"] == 6
    for name in ("progress", "result", "report"):
        url = reverse(f"admin:clues_ingestbatch_{name}", args=[theirs.pk])
        assert client.get(url).status_code == 404, name
    listed = client.get("/admin/clues/ingestbatch/")
    assert [b.pk for b in listed.context["cl"].result_list] == [mine.pk]
    # district level sees both
    assert {b.pk for b in district.get("/admin/clues/ingestbatch/").context["cl"].result_list} >= {mine.pk, theirs.pk}
    # nobody without the permission
    assert client_for("demo_mediator").get(reverse("admin:clues_ingestbatch_progress", args=[mine.pk])).status_code == 403
