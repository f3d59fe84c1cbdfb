"""Duplicate-case model benchmark (make bench): quality and speed.

Quality (issue 5, M-7.1): the labelled synthetic set of extensions/dedup/evalset.py (disputes
reported by 1–4 channels with dirt, repeat callers, group disputes). Thresholds are fitted on
seed 11 (small grid around the shipped values) and precision / recall / F1 reported on seed 22 —
targets F1 ≥ 0.97 (same) and ≥ 0.85 (similar).

Speed: N signatures (default 1,000,000) loaded into PostgreSQL with COPY (cloned from a pool of
generated records with new keys, days and party hashes), then the check of one new record
(candidates + scoring, ``engine.check_one``) timed for 200 probes: median ≤ 50 ms.

    .venv/bin/python tests/perf/bench_dedup.py [--signatures 1000000] [--disputes 3000] [--skip-speed] [--skip-quality]

Database: BENCH_DEDUP_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/mdtj_bench_dedup
(created when missing and migrated; its dedup tables are truncated — throw-away database only).
Exit status 0 only when every target passes.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import secrets
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mdtj_bench_dedup"


def prepare_environment() -> str:
    sys.path.insert(0, str(BASE_DIR / "platform"))
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40)
    os.environ["SM4_KEY"] = os.environ.get("SM4_KEY") or secrets.token_hex(16)
    os.environ["BLIND_INDEX_KEY"] = os.environ.get("BLIND_INDEX_KEY") or secrets.token_hex(32)
    os.environ["DEBUG"] = "0"
    url = os.environ.get("BENCH_DEDUP_DATABASE_URL") or DEFAULT_DB_URL
    os.environ["DATABASE_URL"] = url
    return url


def ensure_postgres_database(url: str) -> None:
    from urllib.parse import unquote, urlparse

    import psycopg
    from psycopg import sql

    u = urlparse(url)
    name = unquote(u.path.lstrip("/"))
    with psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432,
                         user=unquote(u.username or "postgres"), dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- quality ------------------------------------------------------------------------------------
def quality(disputes: int) -> tuple[bool, list[str]]:
    from extensions.dedup import evalset
    from extensions.dedup.conf import Conf

    fit_recs, fit_labels = evalset.generate(11, disputes)
    best = None
    for same_t in (0.45, 0.5, 0.55):
        for sim_t in (0.45, 0.5, 0.55):
            if sim_t > same_t:
                continue
            conf = Conf.from_shipped(same_threshold=same_t, similar_threshold=sim_t)
            r = evalset.evaluate(evalset.predict(fit_recs, conf), fit_labels)
            value = r["same"]["f1"] + r["similar"]["f1"]
            if best is None or value > best[0]:
                best = (value, same_t, sim_t)
    _, same_t, sim_t = best
    recs, labels = evalset.generate(22, disputes)
    t = time.monotonic()
    res = evalset.evaluate(evalset.predict(recs, Conf.from_shipped(same_threshold=same_t, similar_threshold=sim_t)), labels)
    secs = time.monotonic() - t
    lines = [f"quality: fitted on seed 11 → same_threshold={same_t}, similar_threshold={sim_t}; "
             f"reported on seed 22: {len(recs)} records, {len(labels)} labelled pairs ({secs:.1f} s)"]
    ok = True
    for verdict, target in (("same", 0.97), ("similar", 0.85)):
        r = res[verdict]
        passed = r["f1"] >= target
        ok &= passed
        lines.append(f"  {verdict:8s} P={r['precision']:.3f} R={r['recall']:.3f} F1={r['f1']:.3f} "
                     f"(target ≥ {target}) {'PASS' if passed else 'FAIL'}  true={r['true']} predicted={r['predicted']}")
    return ok, lines


# --- speed --------------------------------------------------------------------------------------
def speed(n: int, pair_sample: int = 50_000) -> tuple[bool, list[str]]:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection

    from extensions.dedup import engine, evalset, features, rebuild
    from extensions.dedup.conf import Conf
    from extensions.dedup.models import Block, Signature

    conf = Conf.from_shipped()
    recs, _ = evalset.generate(33, 2000)
    pool = [features.build(r, conf) for r in recs]
    with connection.cursor() as cur:
        cur.execute(f"TRUNCATE {Block._meta.db_table}, {Signature._meta.db_table}")
    rebuild.drop_block_indexes()  # as dedup_rebuild does
    rng = random.Random(5)
    groups = max(1, n // len(pool) // 5)

    def clone(i: int, key: str) -> dict:
        s = dict(pool[i % len(pool)])
        s["key"] = key
        s["day"] = s["day"] + rng.randint(-700, 700)  # spread over ~4 years
        s["parties"] = [{**p, "i": f"{p['i']}{i}" if p["i"] else "", "p": f"{p['p']}{i}" if p["p"] else "",
                         "t": f"{p['t'][:4]}{rng.randint(0, 9999):04d}" if p["t"] else ""} for p in s["parties"]]
        # a district has far more doors and employers than the pool: each clone group gets its
        # own variant of them (every place / employer then recurs ~5× as often as in the pool)
        variant = (i // len(pool)) % groups
        s["places"] = [f"{x}~{variant}" if x else "" for x in s["places"]]
        s["address"] = s["places"][0]
        s["employers"] = [f"{x}~{variant}" for x in s["employers"]]
        return s

    t = time.monotonic()
    batch, next_id = [], 1
    for i in range(n):
        batch.append(clone(i, f"bench:{i:08d}"))
        if len(batch) == 20000:
            rebuild.write_bulk(batch, next_id)
            next_id += len(batch)
            batch = []
    if batch:
        rebuild.write_bulk(batch, next_id)
    t_copy = time.monotonic() - t
    rebuild.create_block_indexes()  # + VACUUM ANALYZE
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {Block._meta.db_table}")
        blocks = cur.fetchone()[0]
    load = time.monotonic() - t
    # probes: new reports like the stored ones (same places, employers, wordings; new people)
    probes = [clone(rng.randrange(n), f"probe:{k}") for k in range(200)]
    times = []
    for p in probes:
        t0 = time.perf_counter()
        engine.check_one(p, conf)
        times.append((time.perf_counter() - t0) * 1000)
    med = statistics.median(times)
    p95 = sorted(times)[int(len(times) * 0.95) - 1]
    ok = med <= 50
    # the rebuild's pair phase (same chunk query + scoring + bulk insert) over a slice, extrapolated
    from extensions.dedup.models import Pair

    Pair.objects.all().delete()
    sample = min(n, pair_sample)
    t = time.monotonic()
    pairs = rebuild.pair_phase(1, sample, conf)
    pair_secs = time.monotonic() - t
    per_record_ms = pair_secs / sample * 1000
    return ok, [f"speed: {n:,} signatures + {blocks:,} blocking keys loaded with COPY in {load:.0f} s "
                f"(COPY {t_copy:.0f} s, indexes + VACUUM ANALYZE {load - t_copy:.0f} s)",
                f"  check one new record: median {med:.1f} ms, p95 {p95:.1f} ms over {len(times)} probes "
                f"(target median ≤ 50 ms) {'PASS' if ok else 'FAIL'}",
                f"  rebuild pair phase over the first {sample:,} signatures: {pair_secs:.0f} s, {pairs:,} pairs "
                f"({per_record_ms:.2f} ms/record → {per_record_ms * n / 1000 / 60:.1f} min for all {n:,}, extrapolated)",
                f"  peak RSS of this process {peak_rss_mb():.0f} MB"]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--signatures", type=int, default=1_000_000)
    ap.add_argument("--disputes", type=int, default=3000)
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--pair-sample", type=int, default=50_000, help="signatures whose rebuild pair phase is timed")
    args = ap.parse_args()
    url = prepare_environment()
    import django

    if not args.skip_speed:
        ensure_postgres_database(url)
    django.setup()
    ok = True
    if not args.skip_quality:
        ok, lines = quality(args.disputes)
        print("\n".join(lines), flush=True)
    if not args.skip_speed:
        ok2, lines2 = speed(args.signatures, args.pair_sample)
        print("\n".join(lines2), flush=True)
        ok &= ok2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
