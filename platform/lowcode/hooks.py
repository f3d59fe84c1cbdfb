"""Extension hooks: named events that domain code fires and extensions subscribe to.

The engine knows no domain, so it only carries the names. Domain apps document the events they
fire (``cases``: ``records_changed`` for kind "case"; ``clues``: ``records_changed`` for kind
"clue" and "case" after an ingest chunk or a reclean), and modules in ``extensions/`` subscribe in
their ``AppConfig.ready``. Subscribers run after the surrounding transaction commits, so they
see committed rows and can never roll back the user's write; a failing subscriber is logged,
never shown to the user as a server error (the daily recomputations repair what it missed).

Heavy subscribers (``subscribe(…, queued=True)``, e.g. the models' work on an ingest chunk of
1,000 records) run in the task queue instead: one django-q2 task per fired event runs all of an
event's queued subscribers, in subscription order — so an extension that reads another's results
(warnings read the duplicate verdicts) still runs after it, and the writer (ingest) pays one row
in the queue, not the subscribers' seconds. They run inline, right after commit, when
``settings.HOOKS_QUEUE`` is False, when ``Q_CLUSTER`` says ``sync``, under tests (unless
``HOOKS_QUEUE`` is True), or when the queue cannot be reached. Payloads must be picklable.
"""
from __future__ import annotations

import contextvars
import logging
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable

from django.db import transaction

logger = logging.getLogger(__name__)

_subscribers: dict[str, list[Callable]] = defaultdict(list)
_queued: dict[str, list[Callable]] = defaultdict(list)
QUEUED_TASK = "lowcode.hooks.run_queued"
_muted: contextvars.ContextVar[frozenset] = contextvars.ContextVar("hooks_muted", default=frozenset())


def subscribe(event: str, fn: Callable, *, queued: bool = False) -> None:
    """Register ``fn(**payload)`` for ``event`` (idempotent: the same function once); ``queued``:
    run it in the task queue (see the module docstring)."""
    target = _queued if queued else _subscribers
    if fn not in target[event]:
        target[event].append(fn)


def unsubscribe(event: str, fn: Callable) -> None:
    for target in (_subscribers, _queued):
        if fn in target[event]:
            target[event].remove(fn)


def subscribers(event: str) -> list[Callable]:
    """Every subscriber of ``event``, inline ones first."""
    return list(_subscribers[event]) + list(_queued[event])


def _call_all(event: str, fns: list[Callable], payload: dict) -> None:
    for fn in fns:
        try:
            fn(**payload)
        except Exception:  # noqa: BLE001 — an extension must never break the write it observes
            logger.exception("hook %s: subscriber %s failed", event, getattr(fn, "__qualname__", fn))


@contextmanager
def muted(*events: str):
    """Inside the block, ``fire`` of these events does nothing: for a bulk writer that announces
    what it wrote itself, once per chunk (ingest: ``records_ingested``), instead of the model
    signals' one event per saved row."""
    token = _muted.set(_muted.get() | frozenset(events))
    try:
        yield
    finally:
        _muted.reset(token)


def fire(event: str, **payload) -> None:
    """Call every subscriber of ``event`` once the current transaction has committed (queued
    ones through the task queue). Nothing while the event is ``muted``."""
    if not _subscribers[event] and not _queued[event] or event in _muted.get():
        return

    def run():
        _call_all(event, list(_subscribers[event]), payload)
        if _queued[event]:
            _enqueue(event, payload)

    transaction.on_commit(run)


def queue_enabled() -> bool:
    from django.conf import settings

    explicit = getattr(settings, "HOOKS_QUEUE", None)
    if explicit is not None:
        return bool(explicit)
    if (getattr(settings, "Q_CLUSTER", None) or {}).get("sync"):
        return False
    return not getattr(settings, "TESTING", False)


def _enqueue(event: str, payload: dict) -> None:
    if queue_enabled():
        try:
            from django_q.tasks import async_task

            async_task(QUEUED_TASK, event, payload, task_name=f"扩展处理 {event}"[:100], group=f"hook:{event}")
            return
        except Exception:  # noqa: BLE001 — no queue: run here rather than lose the event
            logger.exception("hook %s: could not queue; running its queued subscribers inline", event)
    run_queued(event, payload)


def run_queued(event: str, payload: dict) -> None:
    """The task: every queued subscriber of ``event``, in subscription order."""
    _call_all(event, list(_queued[event]), payload)
