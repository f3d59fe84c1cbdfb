"""Ingest → duplicate check: a queued hook subscriber — one django-q2 task per chunk when a worker
is expected, synchronous under tests / ``Q_CLUSTER`` sync; after ``ingest`` + ``dedup_rebuild`` on the command line the
report reflects everything, whether or not a worker ever ran the queued checks."""
from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from tests.samples import SAMPLES

pytestmark = pytest.mark.backend  # depends on the database backend: hook subscribers writing in bulk

CHANNELS = ("hotline12345", "province", "xltj")
HOT, PRO, XLT = "hotline12345:HOT2026060900013", "province:PRO2026060900014", "xltj:XLT2026060900012"


def _report() -> set[tuple]:
    out = io.StringIO()
    call_command("dedup_report", stdout=out)
    return {(r["a"], r["b"], r["verdict"]) for r in map(json.loads, out.getvalue().splitlines())}


def _ingest(capture):
    from clues.ingest import ingest
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])
    with capture(execute=True):
        for ch in CHANNELS:
            ingest(ch, SAMPLES / f"{ch}.jsonl", origin="command")


def _the_dispute_is_same(rows) -> bool:
    return all((*sorted(p), "same") in rows for p in ((HOT, PRO), (PRO, XLT), (HOT, XLT)))


def test_under_tests_the_ingest_chunk_is_checked_at_once(world, django_capture_on_commit_callbacks):
    from lowcode import hooks

    assert hooks.queue_enabled() is False
    _ingest(django_capture_on_commit_callbacks)
    assert _the_dispute_is_same(_report())


def test_with_a_worker_expected_the_check_is_queued_and_the_task_finds_the_pairs(
        world, django_capture_on_commit_callbacks, settings, monkeypatch):
    import django_q.tasks
    from django.utils.module_loading import import_string

    settings.HOOKS_QUEUE = True
    queued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda func, *args, **kw: queued.append((func, args, kw)))
    _ingest(django_capture_on_commit_callbacks)
    assert queued and all(args[0] == "records_ingested" for _, args, _ in queued)
    assert not _report()  # nothing checked inline: the ingest did not pay for it
    for func, args, _ in queued:  # what the worker does
        import_string(func)(*args)
    assert _the_dispute_is_same(_report())


def test_q_cluster_sync_keeps_the_ingest_check_synchronous(settings):
    from lowcode import hooks

    settings.HOOKS_QUEUE = None
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": True}
    assert hooks.queue_enabled() is False


@pytest.mark.django_db(transaction=True)
def test_ingest_then_rebuild_on_the_command_line_reports_everything_without_a_worker(world, settings):
    from django_q.models import OrmQ

    settings.HOOKS_QUEUE = True  # as in production: the checks go to the queue …
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])
    for ch in CHANNELS:
        call_command("ingest", ch, str(SAMPLES / f"{ch}.jsonl"), stdout=io.StringIO(), stderr=io.StringIO())
    assert OrmQ.objects.count() >= len(CHANNELS)  # … and no worker runs them
    call_command("dedup_rebuild", "--quiet", stdout=io.StringIO())
    assert _the_dispute_is_same(_report())
