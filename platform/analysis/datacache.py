"""Figures that are costly to recount and change only when the rollups change, cached under the
rollups' version. Every rollup refresh bumps the version twice — at once, and again when its
transaction commits (a figure counted meanwhile from the old rows is dropped with it) — so a
cached figure is never older than the rollups; when many district users open the same year at
once, it is counted once."""
from __future__ import annotations

import hashlib
import json
import time

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "analysis:rollup-version"
TTL = 3600  # an unused figure leaves the cache
# a process-local cache (no REDIS_URL) never hears of a refresh made by another process (the task
# worker's ingest): there a figure may be at most this old
LOCAL_TTL = 30


def _fresh() -> int:
    # a lost version (evicted, cache restarted) starts past any number used before
    return time.time_ns() // 1000


def version() -> int:
    v = cache.get(VERSION_KEY)
    if v is None:
        cache.add(VERSION_KEY, _fresh(), None)
        v = cache.get(VERSION_KEY) or _fresh()
    return v


def invalidate() -> None:
    """A new version: every cached figure is recounted on its next read."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # evicted or never set
        cache.add(VERSION_KEY, _fresh(), None)


def bump() -> None:
    invalidate()
    transaction.on_commit(invalidate)


WAIT_SECONDS = 3.0  # how long a request waits for another one already counting the same figure


def cached(name: str, parts, compute):
    """The figure from the cache, else counted — once: requests arriving while another one counts
    the same figure wait for its result instead of counting it again (no stampede after a write)."""
    raw = json.dumps([version(), name, parts], default=str, ensure_ascii=False)
    key = "analysis:figure:" + hashlib.sha256(raw.encode()).hexdigest()
    value = cache.get(key)
    if value is not None:
        return value
    if cache.add(key + ":counting", 1, int(WAIT_SECONDS) + 1):
        try:
            value = compute()
            cache.set(key, value, LOCAL_TTL if _process_local() else TTL)
        finally:
            cache.delete(key + ":counting")
        return value
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.01)
        value = cache.get(key)
        if value is not None:
            return value
    return compute()  # the other request failed or is slow: count here


def _process_local() -> bool:
    from django.core.cache import caches
    from django.core.cache.backends.locmem import LocMemCache

    return isinstance(caches["default"], LocMemCache)
