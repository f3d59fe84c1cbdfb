"""Admin uploads run in the background (django-q2):

    batch = uploads.accept(uploaded_file, channel, user)   # stores the file, batch "queued", enqueues
    uploads.run(batch.pk)                                  # the task (clues.tasks.ingest_upload)

The request only stores the file and returns; the page polls the batch's progress (counts and
percent, updated by ``ingest`` after every chunk) and shows the result when the batch is done or
failed. The stored file is deleted when the run ends, whatever the outcome.

Settings: INGEST_UPLOAD_DIR (default var/ingest-uploads), INGEST_UPLOAD_SYNC (run the task — and
the cleaning-rule screen's reclean task — in the request: tests and a setup without a worker;
default False).
"""
from __future__ import annotations

import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from clues.models import Channel, IngestBatch

logger = logging.getLogger(__name__)

TASK = "clues.tasks.ingest_upload"
SYSTEM_ERROR = "导入过程中发生系统错误，已导入的记录保留，其余未导入；请联系管理员或重新上传"


def upload_dir() -> Path:
    return Path(getattr(settings, "INGEST_UPLOAD_DIR", settings.BASE_DIR / "var" / "ingest-uploads"))


def accept(upload, channel: Channel, user) -> IngestBatch:
    """Store an uploaded file and queue its ingest; returns the queued batch."""
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{uuid.uuid4().hex}{Path(upload.name).suffix.lower()}"
    size = 0
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
            size += len(chunk)
    batch = IngestBatch.objects.create(channel=channel, file_name=Path(upload.name).name[:255], origin="upload",
                                       status="queued", user=user if getattr(user, "pk", None) else None,
                                       size=size, upload_path=str(path))
    enqueue(batch)
    return batch


def enqueue(batch: IngestBatch) -> None:
    from clues import tasks

    if not tasks.enqueue(TASK, batch.pk, name=f"导入 {batch.channel_id} {batch.file_name}"):
        _fail(batch, "无法提交后台导入任务（任务队列不可用），请稍后重新上传")  # and keep no file


def run(batch_id: int) -> dict:
    """The task: ingest the stored file of a queued batch. Runs once per batch (a retried task
    finds the batch no longer queued and does nothing)."""
    from clues.ingest import UnknownSource, ingest, write_report

    updated = IngestBatch.objects.filter(pk=batch_id, status="queued").update(status="running")
    if not updated:
        return {"batch": batch_id, "skipped": True}
    batch = IngestBatch.objects.select_related("channel", "user").get(pk=batch_id)
    path = Path(batch.upload_path)
    try:
        if not path.exists():
            _fail(batch, "上传的文件已不存在（可能已被清理），请重新上传")
            return {"batch": batch_id, "status": "failed"}
        result = ingest(batch.channel_id, path, origin="upload", user=batch.user, name=batch.file_name, batch=batch)
        if result.batch.rejected:
            write_report(result.batch)
        return {"batch": batch_id, "status": result.batch.status, **result.counts}
    except UnknownSource as exc:
        _fail(batch, str(exc))
        return {"batch": batch_id, "status": "failed"}
    except Exception:  # noqa: BLE001 — the batch must never stay "running" forever
        logger.exception("background ingest of batch %s failed", batch_id)
        _fail(batch, SYSTEM_ERROR)
        return {"batch": batch_id, "status": "failed"}
    finally:
        _discard(path)
        IngestBatch.objects.filter(pk=batch_id).update(upload_path="")


def _fail(batch: IngestBatch, message: str) -> None:
    IngestBatch.objects.filter(pk=batch.pk).update(status="failed", message=message[:500],
                                                   finished_at=timezone.now(), percent=100, upload_path="")
    if batch.upload_path:
        _discard(Path(batch.upload_path))


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def progress(batch: IngestBatch) -> dict:
    """What the progress page polls."""
    waiting = batch.status == "queued" and (timezone.now() - batch.started_at).total_seconds() > 30
    return {"id": batch.pk, "status": batch.status, "status_label": batch.get_status_display(),
            "finished": batch.finished, "percent": batch.percent if not batch.finished else 100,
            "message": batch.message, **batch.counts(),
            "hint": "后台任务尚未开始：请确认已启动后台任务进程（python manage.py qcluster，make run 会自动启动）"
                    if waiting else ""}
