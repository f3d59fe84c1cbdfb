"""Hook subscribers (lowcode.hooks): keep signatures and pairs current.

A saved / deleted case or clue (``records_changed`` / ``records_deleted``, a handful of records)
is checked synchronously after its transaction commits: the verdicts are on the screen at once.

An ingest chunk (``records_ingested``, 1,000 records) is a *queued* subscriber: one django-q2 task
per chunk (inline under tests, with ``Q_CLUSTER`` sync or without a reachable queue; see
lowcode.hooks). Why: the check of a chunk against a realistic store costs more than the ingest of
the chunk itself (2.3–2.4 s per 1,000 records on 1,000,000 stored signatures, see
docs/architecture.md, dedup section), so doing it inline would cut the ingest rate (target 2,000
records/s, ≈ 0.5 s per chunk) by more than half. The queued task runs the subscribers in
subscription order, this one before the warnings, which read its verdicts.

The command-line guarantee holds either way: ``ingest`` then ``dedup_rebuild`` recomputes
everything from the stored records, so ``dedup_report`` reflects all that was ingested (tasks
still queued from the ingest later recompute the same verdicts; a refresh is idempotent).
"""
from __future__ import annotations

from extensions.dedup import engine


def _kind(kind: str) -> str:
    return "clue" if kind in ("clue", "event") else "case"


def records_changed(kind: str, ids, **_):
    engine.refresh(_kind(kind), ids)


def records_deleted(kind: str, ids, **_):
    engine.forget(_kind(kind), ids)


def records_ingested(channel: str, kind: str, record_keys, **_):
    from clues.signals import ingested_ids

    target, ids = ingested_ids(kind, record_keys)
    if ids:
        engine.refresh(target, ids)
