"""Extension hooks (lowcode.hooks): extensions hear about every committed change of a case or a
clue — through the admin, H5, actions or ingest — and a failing extension never breaks the write."""
from __future__ import annotations

import pytest

from lowcode import hooks


@pytest.fixture
def heard():
    calls = []

    def listener(**payload):
        calls.append(payload)

    for event in ("records_changed", "records_ingested"):
        hooks.subscribe(event, listener)
    yield calls
    for event in ("records_changed", "records_ingested"):
        hooks.unsubscribe(event, listener)


def test_a_registered_case_and_its_new_log_are_announced_after_commit(make_case, heard, django_capture_on_commit_callbacks):
    from cases.models import MediationLog

    with django_capture_on_commit_callbacks(execute=True):
        case = make_case()
    assert {"kind": "case", "ids": [case.pk]} in heard
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        MediationLog.objects.create(case=case, content="第一次调解")
    assert heard == [{"kind": "case", "ids": [case.pk]}]


def test_nothing_is_announced_when_the_transaction_rolls_back(make_case, heard, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                make_case()
                raise RuntimeError("abort")
        except RuntimeError:
            pass
    assert callbacks == [] and heard == []


def test_a_failing_extension_does_not_break_the_save(make_case, django_capture_on_commit_callbacks):
    from cases.models import Case

    def broken(**payload):
        raise ValueError("extension bug")

    hooks.subscribe("records_changed", broken)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            case = make_case(title="扩展出错也要保存")
    finally:
        hooks.unsubscribe("records_changed", broken)
    assert Case.objects.filter(pk=case.pk, title="扩展出错也要保存").exists()


def test_an_ingest_chunk_announces_the_records_it_wrote_once(world, heard, django_capture_on_commit_callbacks, tmp_path):
    from clues.ingest import ingest
    from tests.test_ingest import SAMPLES

    sample = SAMPLES / "hotline12345.jsonl"
    with django_capture_on_commit_callbacks(execute=True):
        result = ingest("hotline12345", sample)
    announced = [c for c in heard if "record_keys" in c]
    assert announced and all(c["channel"] == "hotline12345" for c in announced)
    keys = [k for c in announced for k in c["record_keys"]]
    assert len(keys) == result.batch.new and all(k.startswith("hotline12345:") for k in keys)
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        ingest("hotline12345", sample)  # the same file again: nothing new, nothing announced
    assert [c for c in heard if "record_keys" in c] == []
