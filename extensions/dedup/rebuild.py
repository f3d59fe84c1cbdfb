"""``dedup_rebuild``: every signature and proposed pair recomputed from the records, streaming in
chunks (constant memory), without a worker.

1. proposed pairs, signatures and blocks are emptied (staff decisions — confirmed / rejected
   pairs and the 一件事档案 — are kept: they are keyed by record key);
2. cases and clues are read in id chunks and their signatures + blocks written with COPY on
   PostgreSQL (bulk INSERT elsewhere), with ids assigned here so blocks need no lookup; the
   block indexes are dropped during the load and built once afterwards, then VACUUM ANALYZE;
3. candidate pairs per chunk of signatures come from ``engine.chunk_candidates`` (the same
   query, window and hot-key rule as an ingest chunk), each unordered pair once; they are
   scored and inserted (a decided pair stays as it is).
"""
from __future__ import annotations

import json
import logging
import time
from typing import Callable

from django.db import connection, transaction
from django.utils import timezone

from extensions.dedup import engine, features, records
from extensions.dedup.conf import Conf
from extensions.dedup.models import Block, Pair, Signature

logger = logging.getLogger(__name__)

SIG_COLUMNS = ("id", "key", "kind", "obj_id", "channel", "region_path", "case_type", "reported_at", "day",
               "title", "parties", "address", "places", "address_id", "employers", "amounts", "shingles",
               "updated_at")
JSON_COLUMNS = {"parties", "places", "employers", "amounts"}


def _empty() -> None:
    from extensions.dedup.models import HotKey

    Pair.objects.filter(status="proposed").delete()
    HotKey.objects.all().delete()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {Block._meta.db_table}, {Signature._meta.db_table}")
        else:
            cur.execute(f"DELETE FROM {Block._meta.db_table}")
            cur.execute(f"DELETE FROM {Signature._meta.db_table}")


def write_bulk(sigs: list[dict], first_id: int) -> None:
    """Signatures with ids first_id… and their blocks, COPY on PostgreSQL."""
    now = timezone.now()
    for i, s in enumerate(sigs):
        s["id"] = first_id + i
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            raw = cur.cursor
            with raw.copy(f"COPY {Signature._meta.db_table} ({', '.join(SIG_COLUMNS)}) FROM STDIN") as cp:
                for s in sigs:
                    cp.write_row([json.dumps(s[c], ensure_ascii=False) if c in JSON_COLUMNS else
                                  (now if c == "updated_at" else s[c]) for c in SIG_COLUMNS])
            with raw.copy(f"COPY {Block._meta.db_table} (key, day, sig_id) FROM STDIN") as cp:
                for s in sigs:
                    for b in features.blocks(s):
                        cp.write_row((b, s["day"], s["id"]))
        return
    Signature.objects.bulk_create([Signature(**{c: (now if c == "updated_at" else s[c]) for c in SIG_COLUMNS})
                                   for s in sigs], batch_size=1000)
    Block.objects.bulk_create([Block(key=b, day=s["day"], sig_id=s["id"]) for s in sigs
                               for b in features.blocks(s)], batch_size=5000)


BLOCK_INDEXES = {  # name → definition, as in models.Block.Meta.indexes
    "dedup_block_key_day": "(key, day, sig_id)",
    "dedup_block_sig": "(sig_id)",
}


def drop_block_indexes() -> None:
    """Before a bulk load on PostgreSQL: building an index once after COPY is several times
    faster than maintaining it row by row."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for name in BLOCK_INDEXES:
                cur.execute(f"DROP INDEX IF EXISTS {name}")


def create_block_indexes() -> None:
    """After a bulk load: the indexes back, then VACUUM ANALYZE so candidate lookups are
    index-only scans (measured: 58 ms → 6 ms per check on 1M signatures)."""
    if connection.vendor != "postgresql":
        return
    t = Block._meta.db_table
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")
        for name, cols in BLOCK_INDEXES.items():
            cur.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {t} {cols}")
        if connection.get_autocommit():
            cur.execute(f"VACUUM ANALYZE {t}")
            cur.execute(f"VACUUM ANALYZE {Signature._meta.db_table}")
        else:  # inside a transaction (tests): statistics at least
            cur.execute(f"ANALYZE {t}")


def _reset_sequence() -> None:
    if connection.vendor == "postgresql":
        t = Signature._meta.db_table
        with connection.cursor() as cur:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT max(id) FROM {t}), 0) + 1, false)")


def _candidates(lo: int, hi: int, conf: Conf) -> dict[int, list[int]]:
    """Candidates of signatures lo..hi, each unordered pair once (b > a)."""
    sigs = engine.load_signatures(range(lo, hi + 1))
    if connection.vendor == "postgresql":
        return engine.chunk_candidates(sigs, conf, newer_only=True)
    out = {}
    for a, sig in sigs.items():
        bs = [b for b in engine.candidates(sig, conf, self_id=a) if b > a]
        if bs:
            out[a] = bs
    return out


def pair_phase(first: int, last: int, conf: Conf, chunk: int = 2000, say=None, started: float | None = None) -> int:
    """Score the candidate pairs of signatures first..last (each unordered pair once)."""
    say = say or (lambda msg: None)
    started = started or time.monotonic()
    pairs = 0
    for lo in range(first, last + 1, chunk):
        hi = min(lo + chunk - 1, last)
        cands = _candidates(lo, hi, conf)
        if not cands:
            continue
        needed = set(cands) | {b for bs in cands.values() for b in bs}
        sigs = engine.load_signatures(needed)
        found = {}
        for a, bs in cands.items():
            found.update(engine.score_against(sigs[a], {b: sigs[b] for b in bs if b in sigs}, conf))
        now = timezone.now()
        Pair.objects.bulk_create([Pair(a_key=a, b_key=b, verdict=v, score=s, reasons=r, updated_at=now)
                                  for (a, b), (v, s, r) in found.items()], batch_size=2000, ignore_conflicts=True)
        pairs += len(found)
        if ((lo - first) // chunk) % 25 == 0:
            say(f"配对 {hi}/{last}，{pairs} 对，用时 {time.monotonic() - started:.0f} 秒")
    return pairs


def rebuild(conf: Conf | None = None, chunk: int = 2000, progress: Callable[[str], None] | None = None) -> dict:
    conf = conf or engine.current_conf()
    say = progress or (lambda msg: None)
    started = time.monotonic()
    _empty()
    drop_block_indexes()
    next_id, total = 1, 0
    for kind in ("case", "clue"):
        for ids in records.all_ids(kind, chunk):
            sigs = [features.build(r, conf) for r in records.records(kind, ids)]
            with transaction.atomic():
                write_bulk(sigs, next_id)
            next_id += len(sigs)
            total += len(sigs)
            if total % 50000 < chunk:
                say(f"特征 {total} 条，用时 {time.monotonic() - started:.0f} 秒")
    _reset_sequence()
    create_block_indexes()
    t_sig = time.monotonic() - started

    pairs = pair_phase(1, next_id - 1, conf, chunk, say, started)
    return {"records": total, "pairs": pairs, "seconds_signatures": round(t_sig, 1),
            "seconds": round(time.monotonic() - started, 1)}
