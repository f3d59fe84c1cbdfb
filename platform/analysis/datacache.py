"""Figures that are costly to recount and change only when the rollups change, cached under the
rollups' version. Every rollup refresh bumps the version twice — at once, and again when its
transaction commits (a figure counted meanwhile from the old rows is dropped with it) — so a
cached figure is never older than the rollups; when many district users open the same year at
once, it is counted once."""
from __future__ import annotations

import hashlib
import json

from django.core.cache import cache
from django.db import transaction

VERSION_KEY = "analysis:rollup-version"
TTL = 3600  # an unused figure leaves the cache


def version() -> int:
    v = cache.get(VERSION_KEY)
    if v is None:
        cache.add(VERSION_KEY, 1, None)
        v = cache.get(VERSION_KEY) or 1
    return v


def _bump() -> None:
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # evicted or never set
        cache.add(VERSION_KEY, 1, None)


def bump() -> None:
    _bump()
    transaction.on_commit(_bump)


def cached(name: str, parts, compute):
    raw = json.dumps([version(), name, parts], default=str, ensure_ascii=False)
    key = "analysis:figure:" + hashlib.sha256(raw.encode()).hexdigest()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TTL)
    return value
