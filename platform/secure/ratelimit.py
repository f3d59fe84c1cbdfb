"""A fixed-window attempt counter in Django's cache, for public endpoints that must not be
enumerated (the voucher check /verify/). Login throttling is django-axes' job, not this.

With the default per-process LocMemCache the limit holds per server process; deployments with
several processes set REDIS_URL so that all of them share one counter."""
from __future__ import annotations

import hashlib
import time

from django.core.cache import cache


def hit(scope: str, key: str, limit: int, window: int) -> tuple[bool, int]:
    """Count one attempt of ``key`` (e.g. a client IP) on ``scope``. Returns (allowed, seconds
    until the window ends); allowed is False once more than ``limit`` attempts fell in the window."""
    now = time.time()
    slot = int(now // window)
    cache_key = "ratelimit:%s:%s:%d" % (scope, hashlib.sha256(key.encode()).hexdigest()[:32], slot)
    if cache.add(cache_key, 1, window + 5):
        count = 1
    else:
        try:
            count = cache.incr(cache_key)
        except ValueError:  # expired between add() and incr()
            cache.add(cache_key, 1, window + 5)
            count = 1
    return count <= limit, int((slot + 1) * window - now) + 1
