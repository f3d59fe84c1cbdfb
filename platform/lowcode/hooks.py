"""Extension hooks: named events that domain code fires and extensions subscribe to.

The engine knows no domain, so it only carries the names. Domain apps document the events they
fire (``cases``: ``records_changed`` for kind "case"; ``clues``: ``records_changed`` for kind
"clue" and "case" after an ingest chunk or a reclean), and modules in ``extensions/`` subscribe in
their ``AppConfig.ready``. Subscribers run after the surrounding transaction commits, so they
see committed rows and can never roll back the user's write; a failing subscriber is logged,
never shown to the user as a server error (the daily recomputations repair what it missed).
"""
from __future__ import annotations

import logging
from collections import defaultdict
from typing import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

_subscribers: dict[str, list[Callable]] = defaultdict(list)


def subscribe(event: str, fn: Callable) -> None:
    """Register ``fn(**payload)`` for ``event`` (idempotent: the same function once)."""
    if fn not in _subscribers[event]:
        _subscribers[event].append(fn)


def unsubscribe(event: str, fn: Callable) -> None:
    if fn in _subscribers[event]:
        _subscribers[event].remove(fn)


def subscribers(event: str) -> list[Callable]:
    return list(_subscribers[event])


def fire(event: str, **payload) -> None:
    """Call every subscriber of ``event`` once the current transaction has committed."""
    if not _subscribers[event]:
        return

    def run():
        for fn in list(_subscribers[event]):
            try:
                fn(**payload)
            except Exception:  # noqa: BLE001 — an extension must never break the write it observes
                logger.exception("hook %s: subscriber %s failed", event, getattr(fn, "__qualname__", fn))

    transaction.on_commit(run)
