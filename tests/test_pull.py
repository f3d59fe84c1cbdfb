"""Scheduled HTTP pull (clues.pull) against a fake channel endpoint the tests start on 127.0.0.1:
paging, since, retries after 500s and timeouts, truncated pages, idempotency, the token header."""
from __future__ import annotations

import json
import logging
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO

import pytest
from django.core.management import call_command

from tests.samples import SAMPLES
pytestmark = pytest.mark.backend  # depends on the database backend: pull state updates


SOURCE = "hotline12345"
TOKEN = "s3cr3t-Pull-Token-9f8e7d"
TOKEN_ENV = "MDTJ_TEST_PULL_TOKEN"
HEADER = "X-Api-Token"


def sample_lines() -> list[str]:
    return [x for x in (SAMPLES / f"{SOURCE}.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


class FakeEndpoint:
    """JSON Lines pages of ``page_size`` lines; ``plan[page]`` is a list of actions used up one per
    request of that page: "500", "sleep" (longer than the client timeout), "truncate"."""

    def __init__(self, lines: list[str], page_size: int = 2):
        self.lines = lines
        self.page_size = page_size
        self.plan: dict[int, list[str]] = {}
        self.requests: list[dict] = []
        self.sleep = 1.5
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep the test output quiet
                pass

            def do_GET(self):
                try:
                    endpoint.handle(self)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/api/{SOURCE}/records?format=jsonl"

    def pages_requested(self) -> list[int]:
        return [int(r["query"].get("page", "0")) for r in self.requests]

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(h.path).query))
        self.requests.append({"path": h.path, "query": query, "headers": dict(h.headers.items())})
        page = int(query.get("page", "1"))
        actions = self.plan.get(page) or []
        action = actions.pop(0) if actions else "ok"
        if action == "sleep":
            time.sleep(self.sleep)
        if action == "500":
            body = "内部错误".encode()
            h.send_response(500)
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
            return
        start = (page - 1) * self.page_size
        chunk = self.lines[start:start + self.page_size]
        body = "".join(x + "\n" for x in chunk).encode("utf-8")
        h.send_response(200)
        h.send_header("Content-Type", "application/x-ndjson; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if action == "truncate":  # the connection drops in the middle of the last line
            cut = len(body) - len(chunk[-1].encode("utf-8")) // 2
            h.wfile.write(body[:cut])
            h.wfile.flush()
            h.close_connection = True
            return
        h.wfile.write(body)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint():
    ep = FakeEndpoint(sample_lines())
    yield ep
    ep.close()


@pytest.fixture
def channel(world, endpoint, monkeypatch, settings):
    from clues.models import Channel
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])
    settings.PULL_TIMEOUT = 0.4
    settings.PULL_RETRIES = 2
    settings.PULL_BACKOFF = 0.01
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    Channel.objects.update(pull_url="")
    ch = Channel.objects.get(key=SOURCE)
    ch.pull_url, ch.auth_header, ch.auth_env, ch.enabled = endpoint.url, HEADER, TOKEN_ENV, True
    ch.save()
    return ch


def pull():
    from clues.pull import pull_channel

    return pull_channel(SOURCE)


def stored() -> tuple[int, int]:
    from clues.models import Clue, RawRecord

    return RawRecord.objects.filter(channel_id=SOURCE).count(), Clue.objects.filter(channel_id=SOURCE).count()


# --- normal paging, since, idempotency ---------------------------------------------------------
def test_pages_until_empty_one_pull_batch(channel, endpoint):
    from clues.models import IngestBatch, PullState

    result = pull()
    assert result.status == "ok", result.error
    assert result.counts == {"read": 6, "new": 6, "updated": 0, "unchanged": 0, "rejected": 0}
    assert endpoint.pages_requested() == [1, 2, 3, 4]          # page 4 is empty: the end
    assert "since" not in endpoint.requests[0]["query"]         # first pull: everything
    assert endpoint.requests[0]["query"]["format"] == "jsonl"   # the configured query is kept
    assert stored() == (6, 6)
    batch = IngestBatch.objects.get()
    assert (batch.origin, batch.status, batch.read, batch.new) == ("pull", "done", 6, 6)
    state = PullState.objects.get(channel=channel)
    assert state.last_status == "ok" and state.since is not None and state.last_batch == batch


def test_running_twice_creates_nothing_twice(channel, endpoint):
    from clues.models import IngestBatch, PullState, RawRecord

    first = pull()
    since = PullState.objects.get().since
    endpoint.requests.clear()
    second = pull()
    assert second.status == "ok"
    assert second.counts == {"read": 6, "new": 0, "updated": 0, "unchanged": 6, "rejected": 0}
    assert stored() == (6, 6)
    assert set(RawRecord.objects.values_list("times_seen", flat=True)) == {2}
    assert IngestBatch.objects.filter(origin="pull").count() == 2 and first.batch != second.batch
    # the second pull asks from the moment the first one started
    sent = endpoint.requests[0]["query"]["since"]
    from cases.tasks import parse_moment

    assert abs((parse_moment(sent) - since).total_seconds()) < 1
    assert PullState.objects.get().since > since


def test_empty_endpoint_is_a_quiet_success(channel, endpoint):
    from clues.models import IngestBatch, Rejection

    endpoint.lines = []
    result = pull()
    assert result.status == "ok" and result.counts["read"] == 0
    batch = IngestBatch.objects.get()
    assert (batch.origin, batch.status, batch.message) == ("pull", "done", "没有新数据")
    assert not Rejection.objects.exists()


# --- retries -----------------------------------------------------------------------------------
def test_500_then_success_is_retried(channel, endpoint):
    endpoint.plan = {2: ["500"], 3: ["500", "500"]}
    result = pull()
    assert result.status == "ok", result.error
    assert result.counts["new"] == 6 and result.counts["rejected"] == 0
    assert endpoint.pages_requested() == [1, 2, 2, 3, 3, 3, 4]
    assert stored() == (6, 6)


def test_500_every_time_fails_after_the_retries(channel, endpoint):
    from clues.models import IngestBatch, PullState

    endpoint.plan = {1: ["500"] * 10}
    result = pull()
    assert result.status == "failed"
    assert "HTTP 500" in result.error and "已重试 2 次" in result.error
    assert endpoint.pages_requested() == [1, 1, 1]              # 1 + PULL_RETRIES
    batch = IngestBatch.objects.get()
    assert (batch.origin, batch.status) == ("pull", "failed") and "HTTP 500" in batch.message
    state = PullState.objects.get()
    assert state.last_status == "failed" and state.since is None


def test_timeout_is_retried_then_recorded_as_failure(channel, endpoint):
    from clues.models import IngestBatch, PullState

    endpoint.plan = {1: ["sleep"] * 10}
    t0 = time.monotonic()
    result = pull()                                           # must not raise
    assert time.monotonic() - t0 < 5
    assert result.status == "failed"
    assert "超时" in result.error
    assert endpoint.pages_requested() == [1, 1, 1]
    assert IngestBatch.objects.get().status == "failed"
    assert PullState.objects.get().last_status == "failed"
    assert stored() == (0, 0)


def test_timeout_once_then_success(channel, endpoint):
    endpoint.plan = {2: ["sleep"]}
    result = pull()
    assert result.status == "ok", result.error
    assert result.counts["new"] == 6
    assert endpoint.pages_requested() == [1, 2, 2, 3, 4]


def test_failure_on_a_later_page_keeps_earlier_pages_and_since(channel, endpoint):
    from clues.models import PullState

    endpoint.plan = {2: ["sleep"] * 10}
    result = pull()
    assert result.status == "partial"
    assert result.counts == {"read": 2, "new": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    assert PullState.objects.get().since is None               # next run asks for the same pages
    endpoint.plan = {}
    again = pull()
    assert again.status == "ok"
    assert again.counts == {"read": 6, "new": 4, "updated": 0, "unchanged": 2, "rejected": 0}
    assert stored() == (6, 6)


# --- partial page ------------------------------------------------------------------------------
def test_truncated_page_complete_lines_kept_broken_line_rejected_then_fetched(channel, endpoint):
    from clues.models import PullState, RawRecord, Rejection

    endpoint.plan = {2: ["truncate"]}
    result = pull()
    assert result.status == "partial"
    assert "数据不完整" in result.error
    # page 1 (2 lines) + the complete first line of page 2; the broken second line is rejected
    assert result.counts == {"read": 4, "new": 3, "updated": 0, "unchanged": 0, "rejected": 1}
    assert endpoint.pages_requested() == [1, 2]                  # paging stops at the broken page
    rejection = Rejection.objects.get(batch=result.batch)
    assert "JSON" in rejection.reason or "UTF-8" in rejection.reason  # cut inside a line (or a character)
    assert PullState.objects.get().since is None
    assert stored() == (3, 3)

    endpoint.plan = {}
    again = pull()
    assert again.status == "ok"
    assert again.counts == {"read": 6, "new": 3, "updated": 0, "unchanged": 3, "rejected": 0}
    assert stored() == (6, 6)
    assert RawRecord.objects.filter(times_seen__gt=2).count() == 0
    assert PullState.objects.get().since is not None


# --- the token ---------------------------------------------------------------------------------
def test_token_sent_from_env_and_never_logged_or_stored(channel, endpoint, caplog):
    from clues.models import IngestBatch, PullState, Rejection

    caplog.set_level(logging.DEBUG)
    endpoint.plan = {2: ["500"], 3: ["truncate"]}
    pull()
    assert endpoint.requests and all(r["headers"].get(HEADER) == TOKEN for r in endpoint.requests)
    assert TOKEN not in caplog.text
    assert all(TOKEN not in r["path"] for r in endpoint.requests)   # header only, never in the URL
    stored_text = json.dumps([list(IngestBatch.objects.values()), list(PullState.objects.values()),
                              list(Rejection.objects.values())], default=str, ensure_ascii=False)
    assert TOKEN not in stored_text


def test_missing_token_env_fails_without_request(channel, endpoint, monkeypatch):
    monkeypatch.delenv(TOKEN_ENV)
    result = pull()
    assert result.status == "failed"
    assert TOKEN_ENV in result.error
    assert endpoint.requests == []


def test_401_is_not_retried(channel, endpoint, monkeypatch):
    def deny(h):
        endpoint.requests.append({"query": {"page": "1"}})
        h.send_response(401)
        h.send_header("Content-Length", "0")
        h.end_headers()
    monkeypatch.setattr(endpoint, "handle", deny)
    result = pull()
    assert result.status == "failed" and "401" in result.error and "认证" in result.error
    assert len(endpoint.requests) == 1


# --- task, schedule, command -------------------------------------------------------------------
def test_pull_all_only_enabled_channels_with_an_address(channel, endpoint):
    from clues import tasks
    from clues.models import Channel

    Channel.objects.filter(key="minhu").update(pull_url="http://127.0.0.1:9/never", enabled=False)
    out = tasks.pull_all()
    assert list(out) == [SOURCE]
    assert out[SOURCE]["status"] == "ok" and out[SOURCE]["new"] == 6
    json.dumps(out)  # django-q2 stores the result


def test_schedule_created_by_migration(db):
    from django_q.models import Schedule

    from clues import tasks

    s = Schedule.objects.get(name=tasks.SCHEDULE_NAME)
    assert (s.func, s.schedule_type, s.minutes, s.repeats) == ("clues.tasks.pull_all", Schedule.MINUTES, 15, -1)
    assert tasks.ensure_schedule() is False


def test_command_last_line_is_json(channel, endpoint):
    out = StringIO()
    call_command("pull_channels", SOURCE, stdout=out)
    last = out.getvalue().strip().splitlines()[-1]
    assert json.loads(last) == {"read": 6, "new": 6, "updated": 0, "unchanged": 0, "rejected": 0}
    assert TOKEN not in out.getvalue()


def test_command_failure_exit_and_unknown_key(channel, endpoint):
    from django.core.management.base import CommandError

    endpoint.plan = {1: ["500"] * 10}
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("pull_channels", stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1])["read"] == 0
    with pytest.raises(CommandError, match="未知"):
        call_command("pull_channels", "nope", stdout=StringIO())
