"""``dedup_rebuild``: every signature and proposed pair recomputed from the records, in chunks,
without a worker, on ``jobs`` processes (default: the CPU count). Memory: the records stream;
what scoring needs of every signature is held once, marshalled (≈ 0.9 KB a signature, ≈ 0.8 GB
per 1 M, shared copy-on-write by the pair workers).

1. proposed pairs, signatures, blocks and hot keys are emptied (staff decisions — confirmed /
   rejected pairs and the 一件事档案 — are kept: they are keyed by record key);
2. **features**: the parent lists cases, then clues, in primary-key chunks and gives each chunk
   its range of signature ids up front (the same ids a serial run assigns), so worker processes
   — each with its own database connection — read, build and COPY chunks in any order with the
   same result; each hands back the packed signatures for the in-memory store. Block indexes
   are dropped during the load and built once afterwards, then VACUUM ANALYZE;
3. **hot keys**: a blocking key shared by more than ``HOT_KEY_LIMIT`` records within the window
   of *every* record holding it is written to ``HotKey`` once, by one set-based query
   (``mark_hot_keys``). The candidate query skips those without reading them; keys hot only
   for some records are still cut per record by its LIMIT. Nothing is learned while pairing, so
   the result does not depend on the order (or number) of workers;
4. **pairs**: signature-id chunks go to workers forked after the store is complete; each gets
   its chunk's candidates from ``engine.chunk_candidates`` (each unordered pair once, b > a),
   scores them from the store (``score.compare`` without reasons for hopeless pairs) and COPYs
   the pairs in (a decided pair stays as it is: rejected pairs are never proposed again).

Parallel only on PostgreSQL outside a transaction (SQLite and a surrounding ``atomic`` — tests —
run the same steps in this process). Each worker reports its peak RSS.
"""
from __future__ import annotations

import gc
import json
import logging
import marshal
import multiprocessing
import os
import resource
import time
from typing import Callable

from django.db import connection, connections, transaction
from django.utils import timezone

from extensions.dedup import engine, features, records
from extensions.dedup.conf import Conf
from extensions.dedup.models import Block, HotKey, Pair, Signature

logger = logging.getLogger(__name__)

SIG_COLUMNS = ("id", "key", "kind", "obj_id", "channel", "region_path", "case_type", "reported_at", "day",
               "title", "parties", "address", "places", "address_id", "employers", "amounts", "shingles",
               "updated_at")
JSON_COLUMNS = {"parties", "places", "employers", "amounts"}


def default_jobs() -> int:
    return os.cpu_count() or 1


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _empty() -> None:
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # millions of proposed pairs, a few decided ones: keep those aside, TRUNCATE, put them back
        # (one transaction) — a DELETE of 2.4 M rows took about a minute and left the table bloated.
        # Not inside a caller's transaction: TRUNCATE refuses pending deferred FK checks there.
        t = Pair._meta.db_table
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE")
            cur.execute(f"CREATE TEMPORARY TABLE dedup_pair_keep ON COMMIT DROP AS "
                        f"SELECT * FROM {t} WHERE status <> 'proposed'")
            cur.execute(f"TRUNCATE {t}")
            cur.execute(f"INSERT INTO {t} SELECT * FROM dedup_pair_keep")
    else:
        Pair.objects.filter(status="proposed").delete()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {Block._meta.db_table}, {Signature._meta.db_table}, {HotKey._meta.db_table}")
        else:
            cur.execute(f"DELETE FROM {Block._meta.db_table}")
            cur.execute(f"DELETE FROM {Signature._meta.db_table}")
            cur.execute(f"DELETE FROM {HotKey._meta.db_table}")


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
                    for b in s.get("_blocks") or features.blocks(s):
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


def mark_hot_keys(conf: Conf) -> int:
    """Keys with more than HOT_KEY_LIMIT rows within the window around every one of their rows
    → ``HotKey`` (one query; only keys with more rows than the limit overall are windowed)."""
    window = max(conf.similar_window_days, conf.same_window_days)
    bt, ht, limit = Block._meta.db_table, HotKey._meta.db_table, engine.HOT_KEY_LIMIT
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET work_mem = '128MB'")
        cur.execute(
            f"INSERT INTO {ht} (key) SELECT key FROM ("
            f"SELECT key, count(*) OVER (PARTITION BY key ORDER BY day RANGE BETWEEN %s PRECEDING AND %s FOLLOWING) AS n "
            f"FROM {bt} WHERE key IN (SELECT key FROM {bt} GROUP BY key HAVING count(*) > {limit})) w "
            f"GROUP BY key HAVING min(n) > {limit}", [window, window])
        n = cur.rowcount
        if connection.vendor == "postgresql":
            cur.execute("RESET work_mem")
    return n


def _reset_sequence() -> None:
    if connection.vendor == "postgresql":
        t = Signature._meta.db_table
        with connection.cursor() as cur:
            cur.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), COALESCE((SELECT max(id) FROM {t}), 0) + 1, false)")


# --- the signatures of this rebuild, in memory ------------------------------------------------------
# What scoring reads of each signature, marshalled (≈ 0.9 KB each, ≈ 0.8 GB per 1 M): the feature phase hands them to
# the parent, and the pair-phase workers are forked afterwards, so they read them from memory
# instead of loading and JSON-decoding every candidate from the database again (each signature is
# a candidate of ~25 others; measured: a third of the pair phase went into those loads).
STORE_FIELDS = ("id", "key", "day", "case_type", "parties", "places", "address_id", "employers", "amounts",
                "shingles", "_strong", "region_path")  # region_path: the pairs' scope
_store: dict[int, bytes] | None = None


def _pack(sig: dict) -> bytes:
    return marshal.dumps(tuple(sig[f] for f in STORE_FIELDS))


def signatures(ids) -> dict[int, dict]:
    """Signatures by id: from this rebuild's store, else (missing ones) from the database."""
    if _store is None:
        return engine.load_signatures(ids)
    out, missing = {}, []
    for i in ids:
        blob = _store.get(i)
        if blob is None:
            missing.append(i)
        else:
            out[i] = dict(zip(STORE_FIELDS, marshal.loads(blob)))
    if missing:
        out.update(engine.load_signatures(missing))
    return out


def _candidates(lo: int, hi: int, conf: Conf) -> dict[int, list[int]]:
    """Candidates of signatures lo..hi, each unordered pair once (b > a)."""
    sigs = signatures(range(lo, hi + 1))
    if connection.vendor == "postgresql":
        return engine.chunk_candidates(sigs, conf, newer_only=True, remember_hot=False)
    out = {}
    for a, sig in sigs.items():
        bs = [b for b in engine.candidates(sig, conf, self_id=a) if b > a]
        if bs:
            out[a] = bs
    return out


# --- the two phases, one chunk per call (in a worker process or in this one) ------------------------
_conf: Conf | None = None


def _init_worker(conf: Conf) -> None:
    global _conf
    _conf = conf


def features_chunk(task: tuple) -> tuple[int, float, list]:
    """(kind, first pk, last pk, count, first signature id) → signatures + blocks written; returns
    (count, peak RSS, packed signatures for the store)."""
    from cases.models import Case
    from clues.models import Clue

    kind, lo, hi, count, first_id = task
    model = Case if kind == "case" else Clue
    ids = list(model.objects.filter(pk__gte=lo, pk__lte=hi).order_by("pk").values_list("pk", flat=True)[:count])
    sigs = [features.build(r, _conf) for r in records.records(kind, ids)]
    for sig in sigs:  # blocking keys once: the COPY writes them, the pair phase needs the strong ones
        strong, weak = features.block_keys(sig)
        sig["_blocks"], sig["_strong"] = sorted(strong | weak), sorted(features.key_weights(sig).items())
    with transaction.atomic():
        write_bulk(sigs, first_id)
    return len(sigs), _rss_mb(), [(sig["id"], _pack(sig)) for sig in sigs]


def pairs_chunk(task: tuple) -> tuple[int, float, None]:
    """(first signature id, last) → the candidate pairs of those signatures scored and inserted."""
    lo, hi = task
    conf = _conf
    cands = _candidates(lo, hi, conf)
    if not cands:
        return 0, _rss_mb(), None
    needed = set(cands) | {b for bs in cands.values() for b in bs}
    sigs = signatures(needed)
    found = {}
    for a, bs in cands.items():
        found.update(engine.score_against(sigs[a], {b: sigs[b] for b in bs if b in sigs}, conf))
    engine.insert_pairs(found, regions={s["key"]: s["region_path"] for s in sigs.values()})
    return len(found), _rss_mb(), None


class _Runner:
    """Runs chunk functions on a pool of forked processes (own connections), or here."""

    def __init__(self, jobs: int, conf: Conf):
        self.jobs, self.conf, self.pool = jobs, conf, None
        self.worker_rss: dict[int, float] = {}

    def __enter__(self):
        _init_worker(self.conf)
        if self.jobs > 1:
            connections.close_all()  # a forked child must not share the parent's socket
            # what exists now (the signature store) is never scanned by the children's collector,
            # so its pages stay shared instead of being copied into every worker
            gc.freeze()
            self.pool = multiprocessing.get_context("fork").Pool(self.jobs, initializer=_init_worker,
                                                                 initargs=(self.conf,))
            gc.unfreeze()
        return self

    def map(self, fn, tasks):
        if self.pool is None:
            for t in tasks:
                yield fn(t)
            return
        for pid, (n, rss, extra) in self.pool.imap_unordered(_tagged, [(fn, t) for t in tasks]):
            self.worker_rss[pid] = max(rss, self.worker_rss.get(pid, 0.0))
            yield n, rss, extra

    def __exit__(self, exc_type, exc, tb):
        if self.pool is not None:
            if exc_type is None:
                self.pool.close()
            else:  # a chunk failed (e.g. a phone that cannot be decrypted): stop the others too
                self.pool.terminate()
            self.pool.join()
        return False


def _tagged(arg):
    fn, task = arg
    return os.getpid(), fn(task)


def _plan(chunk: int) -> tuple[list[tuple], int]:
    """Feature tasks (kind, first pk, last pk, count, first signature id) — ids as a serial run
    assigns them: cases first, then clues, in primary-key order."""
    tasks, next_id = [], 1
    for kind in ("case", "clue"):
        for ids in records.all_ids(kind, chunk):
            tasks.append((kind, ids[0], ids[-1], len(ids), next_id))
            next_id += len(ids)
    return tasks, next_id - 1


def pair_phase(first: int, last: int, conf: Conf, chunk: int = 2000, say=None, started: float | None = None,
               runner: _Runner | None = None) -> int:
    """Score the candidate pairs of signatures first..last (each unordered pair once)."""
    say = say or (lambda msg: None)
    started = started or time.monotonic()
    tasks = [(lo, min(lo + chunk - 1, last)) for lo in range(first, last + 1, chunk)]
    pairs = 0
    own = runner is None
    runner = runner or _Runner(1, conf).__enter__()
    for done, (n, _, _) in enumerate(runner.map(pairs_chunk, tasks), 1):
        pairs += n
        if done % 25 == 0:
            say(f"配对 {done}/{len(tasks)} 批，{pairs} 对，用时 {time.monotonic() - started:.0f} 秒")
    if own:
        runner.__exit__(None, None, None)
    return pairs


def rebuild(conf: Conf | None = None, chunk: int = 2000, progress: Callable[[str], None] | None = None,
            jobs: int | None = None) -> dict:
    conf = conf or engine.current_conf()
    say = progress or (lambda msg: None)
    jobs = max(1, jobs or default_jobs())
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        jobs = 1  # workers need their own connections to committed data
    if multiprocessing.current_process().daemon:
        jobs = 1  # inside a task worker (itself a daemonic process): no children allowed
    started = time.monotonic()
    _empty()
    drop_block_indexes()
    tasks, last_id = _plan(chunk)
    total = 0
    global _store
    _store = {}
    rss = {}
    try:
        # features: workers build and COPY; the parent keeps what scoring needs
        with _Runner(jobs, conf) as runner:
            for n, _, packed in runner.map(features_chunk, tasks):
                _store.update(packed)
                total += n
                if total % 50000 < chunk:
                    say(f"特征 {total} 条，用时 {time.monotonic() - started:.0f} 秒")
        rss.update({f"features worker {pid}": v for pid, v in runner.worker_rss.items()})
        t_features = time.monotonic() - started
        _reset_sequence()
        create_block_indexes()
        hot = mark_hot_keys(conf)
        t_indexes = time.monotonic() - started - t_features
        say(f"特征完成 {total} 条（{t_features:.0f} 秒），索引与高频分块键 {hot} 个（{t_indexes:.0f} 秒）")
        # pairs: workers forked now share the store (copy-on-write)
        t = time.monotonic()
        with _Runner(jobs, conf) as runner:
            pairs = pair_phase(1, last_id, conf, chunk, say, started, runner)
        engine.update_scopes(decided_only=True)  # kept decided pairs: their records may have moved
        rss.update({f"pairs worker {pid}": v for pid, v in runner.worker_rss.items()})
        t_pairs = time.monotonic() - t
    finally:
        _store = None
    return {"records": total, "pairs": pairs, "jobs": jobs, "hot_keys": hot,
            "seconds_features": round(t_features, 1), "seconds_indexes": round(t_indexes, 1),
            "seconds_pairs": round(t_pairs, 1), "seconds_signatures": round(t_features + t_indexes, 1),
            "seconds": round(time.monotonic() - started, 1),
            "rss_mb": {"main": round(_rss_mb()), **{k: round(v) for k, v in rss.items()}}}
