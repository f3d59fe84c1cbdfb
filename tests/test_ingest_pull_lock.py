"""Two scheduled pulls of the same channel never run at once: the second one skips (status
"skipped", no batch, no request to the endpoint) while the first is running; a mark left by a
killed worker stops counting once stale. The concurrent cases run on PostgreSQL (two threads, two
database connections, ``DATABASE_URL=postgres://…``)."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from tests.test_pull import SOURCE, channel, endpoint, stored  # noqa: F401 — fixtures reused


pytestmark = pytest.mark.backend  # depends on the database backend: the pull lock

def postgres_or_skip():
    if connection.vendor != "postgresql":
        pytest.skip("并发拉取测试需要 PostgreSQL（DATABASE_URL=postgres://postgres@127.0.0.1:5432/mdtj_dev）")


def test_a_pull_marked_running_makes_the_next_one_skip(channel, endpoint):
    from clues.models import IngestBatch, PullState
    from clues.pull import ALREADY_RUNNING, pull_channel

    PullState.objects.update_or_create(channel=channel, defaults={"running_since": timezone.now()})
    result = pull_channel(SOURCE)
    assert result.status == "skipped" and result.error == ALREADY_RUNNING
    assert endpoint.requests == [] and not IngestBatch.objects.filter(origin="pull").exists()


def test_a_stale_mark_of_a_killed_worker_does_not_block_for_ever(channel, endpoint, settings):
    from clues.models import PullState
    from clues.pull import pull_channel

    settings.PULL_LOCK_STALE_SECONDS = 60
    PullState.objects.update_or_create(channel=channel,
                                       defaults={"running_since": timezone.now() - timedelta(minutes=5)})
    assert pull_channel(SOURCE).status == "ok"
    assert PullState.objects.get(channel=channel).running_since is None  # released after the run


def _gate(endpoint):
    """Hold every request at the endpoint until released: the first pull stays 'running'."""
    gate, arrived = threading.Event(), threading.Event()
    real = endpoint.handle

    def handle(h):
        arrived.set()
        gate.wait(20)
        real(h)
    endpoint.handle = handle
    return gate, arrived


def _run(name: str, results: dict, before=None):
    from clues.pull import pull_channel

    try:
        if before is not None:
            before.wait(10)
        results[name] = pull_channel(SOURCE)
    except Exception as exc:  # noqa: BLE001 — asserted below
        results[name] = exc
    finally:
        connections.close_all()  # this thread's own connection


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_second_pull_skips_while_the_first_is_running(channel, endpoint, settings):
    from clues.models import IngestBatch, PullState

    postgres_or_skip()
    settings.PULL_TIMEOUT = 30
    gate, arrived = _gate(endpoint)
    results: dict = {}
    first = threading.Thread(target=_run, args=("first", results))
    first.start()
    assert arrived.wait(10), "第一次拉取没有到达接口"
    second = threading.Thread(target=_run, args=("second", results))
    second.start()
    second.join(10)
    assert results["second"].status == "skipped"  # told at once, without waiting for the first
    gate.set()
    first.join(30)
    assert results["first"].status == "ok", results["first"]
    assert IngestBatch.objects.filter(origin="pull").count() == 1
    assert stored() == (6, 6)
    assert PullState.objects.get(channel_id=SOURCE).running_since is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_pulls_started_at_the_same_moment_run_once(channel, endpoint, settings):
    from clues.models import IngestBatch

    postgres_or_skip()
    settings.PULL_TIMEOUT = 30
    gate, _ = _gate(endpoint)
    results: dict = {}
    barrier = threading.Barrier(2)
    threads = [threading.Thread(target=_run, args=(n, results, barrier)) for n in ("a", "b")]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 15
    while len(results) < 1 and time.monotonic() < deadline:  # the loser returns while the winner waits
        time.sleep(0.05)
    gate.set()
    for t in threads:
        t.join(30)
    statuses = sorted(r.status for r in results.values())
    assert statuses == ["ok", "skipped"], results
    assert IngestBatch.objects.filter(origin="pull").count() == 1
    assert stored() == (6, 6)
