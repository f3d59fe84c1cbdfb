"""Scheduled HTTP pull of outside channels (django-q2 schedule "拉取外部渠道数据" → clues.tasks.pull_all).

Endpoint contract (what a channel's ``Channel.pull_url`` must implement):

    GET <pull_url>?since=<ISO 8601 with offset>&page=N        N = 1, 2, 3 …
    <Channel.auth_header>: <value of the environment variable Channel.auth_env>

- 200 with a JSON Lines body (one JSON object per line, every line ended by ``\\n``): the records of
  that channel created or changed at or after ``since`` (``since`` is left out on the very first
  pull: everything), page N of them, in a stable order. An empty body (or 204) ends the paging.
- Records may repeat across pages or pulls: ingest is idempotent by record key
  (``<source key>:<id>``), a repeat is counted as unchanged, a changed record updates its row.
- 5xx, timeouts and dropped connections are retried with backoff (PULL_RETRIES, default 3
  retries: 1 s, 2 s, 4 s); 4xx is not retried (bad address or credentials).

What one pull of a channel does:
- pages are fetched one by one and streamed into one ``ingest(…, origin="pull")`` run, so each
  pull is one IngestBatch (read/new/updated/unchanged/rejected as for a file);
- a page that arrives incomplete (connection dropped mid-body, fewer bytes than Content-Length,
  last line without ``\\n``): its complete lines are ingested, the broken last line is rejected
  (invalid JSON) and paging stops; ``since`` is not moved, so the next run asks for the same
  pages again and picks the broken record up — without duplicates;
- ``since`` (PullState) moves to the moment this pull started only when every page was read
  completely; a failure is recorded on the PullState and the batch (never raised);
- the token is read from the environment at request time, sent only in the named header, and
  never stored or logged (messages name the variable, never its value).

Settings (all optional): PULL_TIMEOUT (seconds per request, 30), PULL_RETRIES (3),
PULL_BACKOFF (first wait in seconds, 1.0; doubles), PULL_MAX_PAGES (10000),
PULL_MAX_PAGE_BYTES (64 MB; a page is held in memory while it is read).
"""
from __future__ import annotations

import datetime
import http.client
import io
import logging
import os
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Iterator

from django.conf import settings
from django.utils import timezone

from clues.models import Channel, IngestBatch, PullState

logger = logging.getLogger(__name__)

USER_AGENT = "mdtj-pull/1"
EMPTY = {"read": 0, "new": 0, "updated": 0, "unchanged": 0, "rejected": 0}


def _setting(name: str, default):
    return getattr(settings, name, default)


class PullError(Exception):
    """A page could not be fetched (after the retries); the message is Chinese, shown as is."""


@dataclass
class Page:
    number: int
    body: bytes
    complete: bool = True


@dataclass
class PullResult:
    channel: str
    status: str = "ok"                       # ok / partial / failed
    error: str = ""
    pages: int = 0
    batch: IngestBatch | None = None
    counts: dict = field(default_factory=lambda: dict(EMPTY))

    def as_dict(self) -> dict:
        return {"channel": self.channel, "status": self.status, "error": self.error, "pages": self.pages,
                "batch": getattr(self.batch, "pk", None), **self.counts}


class Client:
    """GETs the pages of one channel. Knows nothing of the database."""

    def __init__(self, channel: Channel, since=None, timeout: float | None = None,
                 retries: int | None = None, backoff: float | None = None):
        self.channel = channel
        self.since = since
        self.timeout = float(timeout if timeout is not None else _setting("PULL_TIMEOUT", 30))
        self.retries = int(retries if retries is not None else _setting("PULL_RETRIES", 3))
        self.backoff = float(backoff if backoff is not None else _setting("PULL_BACKOFF", 1.0))
        self.max_bytes = int(_setting("PULL_MAX_PAGE_BYTES", 64 * 1024 * 1024))
        self.headers = {"User-Agent": USER_AGENT, "Accept": "application/x-ndjson, application/json"}
        if channel.auth_header:
            if not channel.auth_env:
                raise PullError(f"来源“{channel.key}”设置了认证头“{channel.auth_header}”，但没有设置认证值环境变量")
            token = os.environ.get(channel.auth_env, "")
            if not token:
                raise PullError(f"环境变量 {channel.auth_env} 未设置，无法拉取来源“{channel.key}”")
            self.headers[channel.auth_header] = token
        scheme = urllib.parse.urlsplit(channel.pull_url).scheme.lower()
        if scheme not in ("http", "https"):
            raise PullError(f"拉取地址必须以 http:// 或 https:// 开头（来源“{channel.key}”）")

    def url(self, page: int) -> str:
        parts = urllib.parse.urlsplit(self.channel.pull_url)
        query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
                 if k not in ("since", "page")]
        if self.since is not None:
            query.append(("since", timezone.localtime(self.since).isoformat(timespec="seconds")))
        query.append(("page", str(page)))
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def where(self, page: int) -> str:
        """The page's address for messages: no query string beyond page (nothing secret)."""
        parts = urllib.parse.urlsplit(self.channel.pull_url)
        return f"{parts.scheme}://{parts.netloc}{parts.path} 第 {page} 页"

    def fetch(self, page: int) -> Page:
        """One page, retrying timeouts, dropped connections and 5xx with backoff."""
        attempt = 0
        while True:
            try:
                return self._fetch_once(page)
            except _Retryable as exc:
                if attempt >= self.retries:
                    raise PullError(f"{self.where(page)}：{exc}（已重试 {self.retries} 次）") from None
                wait = self.backoff * (2 ** attempt)
                attempt += 1
                logger.warning("pull %s page %s: %s; retry %s/%s in %.1fs", self.channel.key, page, exc,
                               attempt, self.retries, wait)
                if wait > 0:
                    time.sleep(wait)

    def _fetch_once(self, page: int) -> Page:
        request = urllib.request.Request(self.url(page), headers=self.headers, method="GET")
        try:
            resp = urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310 — scheme checked
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code >= 500:
                raise _Retryable(f"服务端错误 HTTP {exc.code}") from None
            hint = "（认证失败，请检查认证头和环境变量）" if exc.code in (401, 403) else ""
            raise PullError(f"{self.where(page)}：HTTP {exc.code}{hint}") from None
        except (socket.timeout, TimeoutError):
            raise _Retryable(f"连接超时（{self.timeout:g} 秒）") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, (socket.timeout, TimeoutError)):
                raise _Retryable(f"连接超时（{self.timeout:g} 秒）") from None
            raise _Retryable(f"无法连接（{exc.reason}）") from None
        except (http.client.HTTPException, OSError) as exc:
            raise _Retryable(f"连接中断（{type(exc).__name__}）") from None
        with resp:
            if resp.status == 204:
                return Page(page, b"")
            return self._read_body(page, resp)

    def _read_body(self, page: int, resp) -> Page:
        chunks: list[bytes] = []
        size, complete = 0, True
        try:
            while True:
                part = resp.read(64 * 1024)
                if not part:
                    break
                size += len(part)
                if size > self.max_bytes:
                    raise PullError(f"{self.where(page)}：一页超过 {self.max_bytes // (1024 * 1024)} MB，请减小分页大小")
                chunks.append(part)
        except http.client.IncompleteRead as exc:
            chunks.append(exc.partial)
            complete = False
        except (socket.timeout, TimeoutError, OSError, http.client.HTTPException):
            complete = False
        body = b"".join(chunks)
        if resp.length:            # Content-Length announced more than arrived
            complete = False
        if body.strip() and not body.endswith(b"\n"):
            complete = False       # contract: every line ends with \n
        if not complete and not body.strip():
            raise _Retryable("连接中断，未收到数据")
        return Page(page, body, complete)


class _Retryable(Exception):
    pass


class _PagesStream(io.RawIOBase):
    """The pages' bodies one after another, as one binary stream for ingest (readers.read_jsonl)."""

    def __init__(self, bodies: Iterator[bytes]):
        self._bodies = bodies
        self._buf = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        while not len(self._buf):
            try:
                self._buf = memoryview(next(self._bodies))
            except StopIteration:
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def pull_channel(channel: Channel | str, *, timeout: float | None = None, retries: int | None = None,
                 backoff: float | None = None) -> PullResult:
    """Pull one channel (see the module doc). Never raises for network or data problems. A pull
    of a channel whose previous pull still runs is skipped (status "skipped")."""

    if isinstance(channel, str):
        channel = Channel.objects.get(key=channel)
    state, _ = PullState.objects.get_or_create(channel=channel)
    started = timezone.now()
    if not _claim(state, started):
        logger.info("pull %s skipped: another pull of the channel is running", channel.key)
        return PullResult(channel.key, status="skipped", error=ALREADY_RUNNING)
    try:
        return _pull(channel, state, started, timeout, retries, backoff)
    finally:
        PullState.objects.filter(pk=state.pk, running_since=started).update(running_since=None)


ALREADY_RUNNING = "该来源的上一次拉取仍在进行，本次跳过"


def _claim(state: PullState, started) -> bool:
    """Mark the channel's pull as running, unless another one is (one conditional UPDATE: on
    PostgreSQL the second of two concurrent claims waits for the first to commit, then finds the
    mark and claims nothing). A mark older than PULL_LOCK_STALE_SECONDS (a worker killed
    mid-pull) no longer counts."""
    from django.db.models import Q

    stale = started - datetime.timedelta(seconds=_stale_seconds())
    return bool(PullState.objects.filter(Q(running_since__isnull=True) | Q(running_since__lt=stale), pk=state.pk)
                .update(running_since=started))


def _stale_seconds() -> int:
    # a task outliving django-q's timeout is killed; its mark is stale a minute after that
    default = int(getattr(settings, "Q_CLUSTER", {}).get("timeout", 600) or 600) + 60
    return int(_setting("PULL_LOCK_STALE_SECONDS", default))


def _pull(channel: Channel, state: PullState, started, timeout, retries, backoff) -> PullResult:
    from clues.ingest import UnknownSource, ingest

    result = PullResult(channel.key)
    state.last_run_at = started
    try:
        if not channel.pull_url:
            raise PullError(f"来源“{channel.key}”没有设置拉取地址")
        client = Client(channel, since=state.since, timeout=timeout, retries=retries, backoff=backoff)
        first = client.fetch(1)
    except PullError as exc:
        return _finish(state, result, _failed_batch(channel, str(exc)), "failed", str(exc))
    if not first.body.strip():
        batch = IngestBatch.objects.create(channel=channel, origin="pull", status="done",
                                           file_name=_display(channel, 0), message="没有新数据",
                                           finished_at=timezone.now())
        state.since = started
        return _finish(state, result, batch, "ok", "")

    problem = {"error": "", "partial": False}

    def bodies() -> Iterator[bytes]:
        page = first
        while True:
            result.pages = page.number
            yield page.body if page.body.endswith(b"\n") else page.body + b"\n"
            if not page.complete:
                problem["partial"] = True
                problem["error"] = f"{client.where(page.number)}数据不完整（连接中断），完整的行已导入，下次拉取时重新获取该页"
                return
            if page.number >= int(_setting("PULL_MAX_PAGES", 10000)):
                problem["error"] = f"页数超过上限 {page.number}，其余页下次拉取"
                problem["partial"] = True
                return
            try:
                page = client.fetch(page.number + 1)
            except PullError as exc:
                problem["error"] = str(exc)
                problem["partial"] = True
                return
            if not page.body.strip():
                return

    stream = io.BufferedReader(_PagesStream(bodies()))
    try:
        outcome = ingest(channel.key, stream, origin="pull", name=_display(channel, 0))
    except UnknownSource as exc:
        return _finish(state, result, _failed_batch(channel, str(exc)), "failed", str(exc))
    batch = outcome.batch
    message = "；".join(m for m in (outcome.file_error, problem["error"]) if m)[:500]
    batch.file_name = _display(channel, result.pages)
    batch.message = message
    IngestBatch.objects.filter(pk=batch.pk).update(file_name=batch.file_name, message=message)
    if outcome.file_error and batch.status == "failed":
        status = "failed"
    elif problem["partial"] or outcome.file_error:
        status = "partial"
    else:
        status = "ok"
        state.since = started
    return _finish(state, result, batch, status, message)


def _display(channel: Channel, pages: int) -> str:
    return f"定时拉取 {channel.key}" + (f"（{pages} 页）" if pages else "")


def _failed_batch(channel: Channel, message: str) -> IngestBatch:
    return IngestBatch.objects.create(channel=channel, origin="pull", status="failed", message=message[:500],
                                      file_name=_display(channel, 0), finished_at=timezone.now())


def _finish(state: PullState, result: PullResult, batch: IngestBatch, status: str, error: str) -> PullResult:
    result.status, result.error, result.batch = status, error[:500], batch
    result.counts = batch.counts()
    state.last_status, state.last_error, state.last_batch = status, error[:500], batch
    if status == "ok":
        state.last_ok_at = timezone.now()
    state.save(update_fields=["since", "last_run_at", "last_ok_at", "last_status", "last_error", "last_batch"])
    log = logger.info if status == "ok" else logger.warning
    log("pull %s: %s %s %s", result.channel, status, result.counts, error)
    return result


def pullable() -> list[Channel]:
    return list(Channel.objects.filter(enabled=True).exclude(pull_url=""))


def pull_all(**kwargs) -> list[PullResult]:
    """Every enabled channel with a pull address, one after another; one failing does not stop
    the others."""
    results = []
    for channel in pullable():
        try:
            results.append(pull_channel(channel, **kwargs))
        except Exception as exc:  # noqa: BLE001 — a scheduled task must go on with the next channel
            logger.exception("pull %s failed", channel.key)
            results.append(PullResult(channel.key, status="failed", error=f"系统错误：{type(exc).__name__}"))
    return results
