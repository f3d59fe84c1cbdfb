"""Hook subscribers (lowcode.hooks): keep signatures and pairs current.

Processing is synchronous, after the writing transaction has committed, batched per call: one
ingest chunk (≤ a few thousand records) is one ``engine.refresh`` — a handful of bulk queries plus
one candidate query per record. That keeps verdicts visible immediately with or without a
django-q2 worker; ``dedup_rebuild`` (and the next change of a record) repairs anything a failed
subscriber missed.
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
    from clues.models import Clue, RawRecord

    keys = list(record_keys)
    if _kind(kind) == "clue":
        ids = list(Clue.objects.filter(record_key__in=keys).values_list("id", flat=True))
        engine.refresh("clue", ids)
    else:
        ids = list(RawRecord.objects.filter(record_key__in=keys, case__isnull=False)
                   .values_list("case_id", flat=True))
        engine.refresh("case", ids)
