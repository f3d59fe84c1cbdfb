"""Extension hooks (lowcode.hooks): extensions hear about every committed change of a case or a
clue — through the admin, H5, actions or ingest — and a failing extension never breaks the write."""
from __future__ import annotations

import pytest

from lowcode import hooks


pytestmark = pytest.mark.backend  # depends on the database backend: the queued hooks' task table


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


# --- queued subscribers (heavy work on an ingest chunk) ----------------------------------------
@pytest.fixture
def queued_pair():
    """Two queued subscribers of one event, recording their order."""
    order = []

    def first(**payload):
        order.append(("first", payload))

    def second(**payload):
        order.append(("second", payload))

    hooks.subscribe("test_event", first, queued=True)
    hooks.subscribe("test_event", second, queued=True)
    yield order
    hooks.unsubscribe("test_event", first)
    hooks.unsubscribe("test_event", second)


def test_queued_subscribers_run_inline_after_commit_under_tests(db, queued_pair, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        hooks.fire("test_event", record_keys=["a:1"])
        assert queued_pair == []  # not before the commit
    assert queued_pair == [("first", {"record_keys": ["a:1"]}), ("second", {"record_keys": ["a:1"]})]


def test_with_a_worker_expected_one_task_carries_the_event_and_runs_the_subscribers_in_order(
        db, queued_pair, settings, monkeypatch, django_capture_on_commit_callbacks):
    import django_q.tasks

    settings.HOOKS_QUEUE = True
    tasks = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda func, *args, **kw: tasks.append((func, args)))
    with django_capture_on_commit_callbacks(execute=True):
        hooks.fire("test_event", record_keys=["a:1", "a:2"])
    assert queued_pair == []  # the writer paid one queued task, not the subscribers' work
    assert tasks == [(hooks.QUEUED_TASK, ("test_event", {"record_keys": ["a:1", "a:2"]}))]
    func, args = tasks[0]
    assert func == "lowcode.hooks.run_queued"
    hooks.run_queued(*args)  # what the worker does
    assert [name for name, _ in queued_pair] == ["first", "second"]


def test_when_the_queue_is_unreachable_the_subscribers_run_inline(db, queued_pair, settings, monkeypatch,
                                                                   django_capture_on_commit_callbacks):
    import django_q.tasks

    settings.HOOKS_QUEUE = True

    def down(*args, **kwargs):
        raise ConnectionError("队列不可用")
    monkeypatch.setattr(django_q.tasks, "async_task", down)
    with django_capture_on_commit_callbacks(execute=True):
        hooks.fire("test_event", record_keys=["a:9"])
    assert [name for name, _ in queued_pair] == ["first", "second"]


def test_a_workflow_transition_is_announced_even_when_it_opens_no_review(make_case, heard,
                                                                         django_capture_on_commit_callbacks):
    """The status moves by a compare-and-set update (no post_save): a case closed on approval must
    still reach the extensions, or its warning colour stays until the nightly run."""
    from accounts.models import User
    from cases import actions, states

    mediator = User.objects.get(username="demo_mediator")
    case = make_case("湖滨社区", case_type="neighbor", registrant=mediator)
    actions.do_transition(case, "开始调解", mediator)
    actions.submit_result(case, mediator, action="提交结果", outcome="success")
    heard.clear()
    with django_capture_on_commit_callbacks(execute=True):
        actions.do_transition(case, "审核通过", User.objects.get(username="demo_street"), opinion="同意")
    case.refresh_from_db()
    assert states.is_closed(case)
    assert {"kind": "case", "ids": [case.pk]} in heard
