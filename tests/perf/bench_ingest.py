"""Ingest benchmark (make bench, after tests/perf/bench.py).

Requirement (issue 4): ingest 100,000 records of mixed channels into PostgreSQL at ≥ 2,000
records/s end to end (raw record + cleaning + address match + blind indexes + clean record with
history), memory flat (streaming, not whole-file); print records/s and peak RSS.

    .venv/bin/python tests/perf/bench_ingest.py [--records 100000] [--files-per-channel 10] [--profile] [--keep-files]

Records: the 48 sample records of /work/shared/formats/samples (6 per channel, 8 channels) scaled
up with a new id per record (unique per run), random mobile numbers, names of the people and house,
building and room numbers of the addresses; written as JSON Lines to a temporary directory, each
channel's share split into --files-per-channel files. Round r ingests file r of every channel, so
after round 1 10 % of the records (10,000 of 100,000) are in and the RSS can be compared with the
RSS at the end.

Database: BENCH_INGEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/mdtj_bench_ingest
(created when missing, migrated, metadata / cleaning rules / demo regions and users / the demo
address library loaded). The previous run's ingested data is truncated first (throw-away database
only!), so every run measures inserts of new records. Exit status 0 only when every target passes.
--profile runs cProfile over the whole ingest and prints the top 15 functions by cumulative time.

Extension subscribers of the ``records_ingested`` hook (the duplicate model, the warnings) stay
attached: they are *queued* subscribers (lowcode.hooks), so what the ingest pays for them is one
django-q2 task row per chunk (no worker runs during the measurement; the queue is emptied first).
The run prints them; --without-hooks detaches them for comparison. Their own work is measured by
bench_dedup.py and bench_escalation.py.
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import random
import re
import resource
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
OUT_DIR = BASE_DIR / "bench-output"
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mdtj_bench_ingest"
SAMPLES = Path("/work/shared/formats/samples")
if not SAMPLES.exists():
    SAMPLES = BASE_DIR.parent / "shared" / "formats" / "samples"
ADDRESSES = BASE_DIR / "fixtures" / "addresses" / "demo_addresses.csv"
CHANNELS = ("hotline12345", "minhu", "police110", "jczz", "province", "odr", "xltj", "local")
TARGET_RATE = 2000.0
# "flat": the peak RSS after all records may exceed the peak after the first 10 % by this much
FLAT_TOLERANCE_MB = 40.0

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
NAME_KEYS = {"来电人", "诉求人", "报警人", "申请人", "被申请人", "name", "姓名"}
ADDRESS_KEYS = {"事发地址", "地址", "发生地点", "纠纷发生地", "address"}
MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


# --- environment (before Django is imported) -------------------------------------------
def prepare_environment() -> str:
    sys.path.insert(0, str(BASE_DIR / "platform"))
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40)
    os.environ["SM4_KEY"] = os.environ.get("SM4_KEY") or secrets.token_hex(16)
    os.environ["AUDIT_HMAC_KEY"] = os.environ.get("AUDIT_HMAC_KEY") or secrets.token_hex(32)
    os.environ["BLIND_INDEX_KEY"] = os.environ.get("BLIND_INDEX_KEY") or secrets.token_hex(32)
    os.environ["DEBUG"] = "0"  # no query log: as in production
    os.environ.setdefault("CONN_MAX_AGE", "3600")
    url = os.environ.get("BENCH_INGEST_DATABASE_URL") or DEFAULT_DB_URL
    os.environ["DATABASE_URL"] = url
    return url


def ensure_postgres_database(url: str) -> bool:
    from urllib.parse import unquote, urlparse

    import psycopg
    from psycopg import sql

    u = urlparse(url)
    if u.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"bench_ingest needs PostgreSQL, not {u.scheme}")
    name = unquote(u.path.lstrip("/"))
    kwargs = dict(host=u.hostname or "127.0.0.1", port=u.port or 5432,
                  user=unquote(u.username or "postgres"), dbname="postgres", autocommit=True)
    if u.password:
        kwargs["password"] = unquote(u.password)
    with psycopg.connect(**kwargs) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return False
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return True


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


# --- world -----------------------------------------------------------------------------
def load_world() -> dict:
    from django.core.management import call_command, get_commands

    from lowcode.serialization import load_metadata
    from demo import seeding
    from lowcode import registry, serialization
    from lowcode.apps import ENGINE_KINDS

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    serialization.load_metadata(ENGINE_KINDS)
    registry.clear_cache()
    load_metadata(["cleaning_rules"])
    regions = seeding.ensure_regions()
    seeding.ensure_organizations(regions)
    seeding.ensure_users(secrets.token_urlsafe(12) + "Aa1!")
    addresses = "skipped (no import_addresses command)"
    if "import_addresses" in get_commands() and ADDRESSES.exists():
        from io import StringIO

        out = StringIO()
        call_command("import_addresses", str(ADDRESSES), stdout=out)
        addresses = out.getvalue().strip().splitlines()[-1] if out.getvalue().strip() else "done"
    return {"seconds": time.perf_counter() - t0, "addresses": addresses}


def truncate_previous_run() -> None:
    """Empty what ingest writes (throw-away database only)."""
    from django.apps import apps
    from django.db import connection

    tables = []
    for model in apps.get_app_config("clues").get_models():
        if model.__name__ in ("RawRecord", "RawRecordVersion", "Clue", "ClueParty", "IngestBatch",
                              "Rejection", "HistoricalClue", "PullState"):
            tables.append(model._meta.db_table)
    for model in apps.get_app_config("cases").get_models():
        if model.__name__ in ("Case", "Party", "HistoricalCase", "HistoricalParty"):
            tables.append(model._meta.db_table)
    from django_q.models import OrmQ

    tables.append(OrmQ._meta.db_table)  # the queued extension tasks of the previous run
    # what the subscribers derived from the previous run's records (no foreign keys to them, so
    # CASCADE leaves them): stale signatures and pairs would make every run's checks slower
    for label, names in (("dedup", ("Signature", "Block", "Pair", "HotKey", "GroupMember", "DedupGroup")),
                         ("library", ("SearchDoc", "SearchToken"))):
        if apps.is_installed(f"extensions.{label}") or apps.is_installed(label):
            for model in apps.get_app_config(label).get_models():
                if model.__name__ in names:
                    tables.append(model._meta.db_table)
    with connection.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(connection.ops.quote_name(t) for t in tables) + " CASCADE")


# --- data ------------------------------------------------------------------------------
def id_fields() -> dict[str, str]:
    from clues.models import CleaningRule

    return dict(CleaningRule.objects.filter(source__in=CHANNELS).values_list("source", "id_field"))


def templates() -> dict[str, list[dict]]:
    return {c: [json.loads(x) for x in (SAMPLES / f"{c}.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]
            for c in CHANNELS}


def vary(value, rng: random.Random, key: str = ""):
    if isinstance(value, dict):
        return {k: vary(v, rng, k) for k, v in value.items()}
    if isinstance(value, list):
        return [vary(v, rng, key) for v in value]
    if not isinstance(value, str):
        return value
    if key in NAME_KEYS and 2 <= len(value) <= 4 and "某" not in value and "先生" not in value and "女士" not in value:
        return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    if key in ADDRESS_KEYS:
        value = re.sub(r"(?<![\d０-９])[\d０-９]+号", lambda m: f"{rng.randint(1, 400)}号", value, count=1)
        value = re.sub(r"\d+幢", lambda m: f"{rng.randint(1, 30)}幢", value, count=1)
        value = re.sub(r"\d+室", lambda m: f"{rng.randint(1, 30)}0{rng.randint(1, 4)}室", value, count=1)
    return MOBILE.sub(lambda m: f"1{rng.choice('3456789')}{rng.randint(0, 999_999_999):09d}", value)


def generate(directory: Path, total: int, files_per_channel: int, tag: str, seed: int = 20261126) -> dict:
    """JSON Lines files {channel: [paths by round]}, written record by record (never all in memory)."""
    rng = random.Random(seed)
    fields = id_fields()
    tpl = templates()
    per_channel = total // len(CHANNELS)
    extra = total - per_channel * len(CHANNELS)
    files: dict[str, list[Path]] = {}
    for ci, channel in enumerate(CHANNELS):
        n = per_channel + (1 if ci < extra else 0)
        id_field = fields[channel]
        bounds = [n * r // files_per_channel for r in range(files_per_channel + 1)]
        files[channel] = []
        for r in range(files_per_channel):
            path = directory / f"{channel}-{r + 1:02d}.jsonl"
            with path.open("w", encoding="utf-8") as fh:
                for i in range(bounds[r], bounds[r + 1]):
                    t = tpl[channel][i % len(tpl[channel])]
                    rec = vary(copy.deepcopy(t), rng)
                    prefix = re.match(r"[A-Za-z]*", str(t[id_field])).group(0) or channel[:3].upper()
                    rec[id_field] = f"{prefix}B{tag}{i:07d}"
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
            files[channel].append(path)
    return files


# --- run -------------------------------------------------------------------------------
def backend_cpu_seconds(pid: int | None) -> float:
    """CPU time of the PostgreSQL backend serving this run (same host only; 0 when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return 0.0


def own_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_ingest(files: dict[str, list[Path]], total: int) -> dict:
    from django.db import connection

    from clues.ingest import ingest

    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO off")  # as a bulk load would; the same for every run
        cur.execute("SELECT pg_backend_pid()")
        backend = cur.fetchone()[0]
    cpu0, pg0 = own_cpu_seconds(), backend_cpu_seconds(backend)
    per = {c: {"records": 0, "seconds": 0.0, "new": 0, "rejected": 0, "other": 0} for c in files}
    rounds = len(next(iter(files.values())))
    checkpoints = []
    done = 0
    t_all = time.perf_counter()
    for r in range(rounds):
        for channel, paths in files.items():
            t0 = time.perf_counter()
            result = ingest(channel, paths[r], origin="command")
            dt_ = time.perf_counter() - t0
            c = result.counts
            p = per[channel]
            p["records"] += c["read"]
            p["seconds"] += dt_
            p["new"] += c["new"]
            p["rejected"] += c["rejected"]
            p["other"] += c["updated"] + c["unchanged"]
            done += c["read"]
            if result.file_error:
                print(f"  {channel} round {r + 1}: {result.file_error}")
        checkpoints.append({"records": done, "seconds": time.perf_counter() - t_all,
                            "peak_rss_mb": peak_rss_mb(), "rss_mb": current_rss_mb()})
        print(f"  round {r + 1}/{rounds}: {done:,} records, {done / (time.perf_counter() - t_all):,.0f} records/s, "
              f"RSS {current_rss_mb():.0f} MB (peak {peak_rss_mb():.0f} MB)", flush=True)
    return {"per_channel": per, "checkpoints": checkpoints, "seconds": time.perf_counter() - t_all, "records": done,
            "cpu_python": own_cpu_seconds() - cpu0, "cpu_postgres": backend_cpu_seconds(backend) - pg0}


UPDATE_TARGET_RATE = 50.0  # updates/s: a daily feed of 10,000 changed records in under 4 minutes


def description_fields() -> dict[str, str]:
    """channel → the column its cleaning rule reads as the description."""
    from clues.models import CleaningRule

    out = {}
    for source, field_map in CleaningRule.objects.filter(source__in=CHANNELS).values_list("source", "field_map"):
        out.update({source: col for col, target in (field_map or {}).items() if target == "description"})
    return out


def changed_files(files: dict[str, list[Path]], n: int, directory: Path) -> dict[str, Path]:
    """Issue 18: a status feed — the first ``n`` ingested records (spread over the channels) sent
    again with changed content (a longer description), one file per channel. The description
    column of the channel's rule, not just the longest text: that was at times a "name(phone)"
    party column, and the lengthened party was rightly rejected (208 of 10,000)."""
    per = max(1, n // len(files))
    described = description_fields()
    out = {}
    for channel, paths in files.items():
        path = directory / f"{channel}-updates.jsonl"
        taken = 0
        with path.open("w", encoding="utf-8") as fh:
            for src in paths:
                with src.open(encoding="utf-8") as inp:
                    for line in inp:
                        if taken >= per:
                            break
                        rec = json.loads(line)
                        field = described.get(channel)
                        if not isinstance(rec.get(field), str):
                            field = max((k for k, v in rec.items() if isinstance(v, str)), key=lambda k: len(rec[k]))
                        rec[field] = rec[field] + "（续报：情况有变化）"
                        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
                        taken += 1
                if taken >= per:
                    break
        out[channel] = path
    return out


def run_updates(files: dict[str, Path]) -> dict:
    from django_q.models import OrmQ

    from clues.ingest import ingest

    OrmQ.objects.all().delete()  # the new records' queued tasks: not the updates' cost
    t0 = time.perf_counter()
    counts = {"read": 0, "updated": 0, "unchanged": 0, "new": 0, "rejected": 0}
    for channel, path in files.items():
        c = ingest(channel, path, origin="command").counts
        for k in counts:
            counts[k] += c[k]
    counts["seconds"] = time.perf_counter() - t0
    counts["tasks"], counts["task_seconds"] = drain_queue()
    return counts


def drain_queue() -> tuple[int, float]:
    """Run the queued hook tasks as a worker would (the duplicate model and the warnings over the
    updated records): (tasks, seconds). Issue 18 measured these subscribers as the cost of updates."""
    from django.utils.module_loading import import_string
    from django_q.models import OrmQ

    t0 = time.perf_counter()
    n = 0
    for row in OrmQ.objects.order_by("id"):
        task = row.task  # a property: the unpickled package
        func = task["func"]
        (import_string(func) if isinstance(func, str) else func)(*task.get("args", ()), **task.get("kwargs", {}))
        row.delete()
        n += 1
    return n, time.perf_counter() - t0


def quality_summary() -> dict:
    from django.db.models import Count

    from clues.models import RawRecord

    return dict(RawRecord.objects.values_list("address_quality").annotate(n=Count("id")).values_list("address_quality", "n"))


def print_table(res: dict, total: int, world: dict) -> bool:
    rows = []
    ok = True
    for channel, p in res["per_channel"].items():
        rate = p["records"] / p["seconds"] if p["seconds"] else 0.0
        rows.append((channel, p["records"], p["new"], p["rejected"], p["seconds"], rate, rate >= TARGET_RATE))
    overall = res["records"] / res["seconds"] if res["seconds"] else 0.0
    cps = res["checkpoints"]
    first = cps[0]
    last = cps[-1]
    growth = last["peak_rss_mb"] - first["peak_rss_mb"]
    flat = growth <= FLAT_TOLERANCE_MB
    rate_ok = overall >= TARGET_RATE
    ok = rate_ok and flat and res["records"] == total
    print()
    print(f"Ingest benchmark — {res['records']:,} records, PostgreSQL, end to end "
          "(raw + clean + address match + blind index + history)")
    print(f"{'channel':<14}{'records':>9}{'new':>9}{'rejected':>9}{'seconds':>9}{'records/s':>11}  target ≥ {TARGET_RATE:,.0f}")
    for channel, n, new, rej, sec, rate, passed in rows:
        print(f"{channel:<14}{n:>9,}{new:>9,}{rej:>9,}{sec:>9.1f}{rate:>11,.0f}  {'ok' if passed else 'BELOW'}")
    print(f"{'overall':<14}{res['records']:>9,}{sum(r[2] for r in rows):>9,}{sum(r[3] for r in rows):>9,}"
          f"{res['seconds']:>9.1f}{overall:>11,.0f}  {'PASS' if rate_ok else 'FAIL'}")
    print(f"peak RSS after {first['records']:,} records: {first['peak_rss_mb']:.0f} MB (current {first['rss_mb']:.0f} MB); "
          f"after {last['records']:,}: {last['peak_rss_mb']:.0f} MB (current {last['rss_mb']:.0f} MB); "
          f"growth {growth:+.0f} MB — target ≤ +{FLAT_TOLERANCE_MB:.0f} MB (flat): {'PASS' if flat else 'FAIL'}")
    cpu = res["cpu_python"] + res["cpu_postgres"]
    if cpu:  # the machine may be shared: CPU time tells what the run itself cost
        print(f"CPU time: python {res['cpu_python']:.1f} s + PostgreSQL backend {res['cpu_postgres']:.1f} s = {cpu:.1f} s "
              f"→ {res['records'] / cpu:,.0f} records per CPU-second (wall clock {res['seconds']:.1f} s; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    print(f"setup (migrate, metadata, rules, regions, addresses): {world['seconds']:.1f} s; addresses: {world['addresses']}")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--files-per-channel", type=int, default=10)
    ap.add_argument("--profile", action="store_true", help="cProfile the ingest; print the top 15 (cumulative)")
    ap.add_argument("--keep-files", action="store_true", help="keep the generated JSON Lines files")
    ap.add_argument("--updates", type=int, default=10_000,
                    help="then re-send this many records with changed content (updates/s; 0 skips)")
    ap.add_argument("--without-hooks", action="store_true",
                    help="detach the extensions' records_ingested subscribers (default: attached, see above)")
    args = ap.parse_args(argv)

    url = prepare_environment()
    created = ensure_postgres_database(url)
    import django

    django.setup()
    import logging

    logging.getLogger("clues").setLevel(logging.ERROR)
    print(f"database {url.rsplit('@', 1)[-1]}{' (created)' if created else ''}", flush=True)
    from lowcode import hooks

    attached = hooks.subscribers("records_ingested")
    names = ", ".join(f"{fn.__module__}.{fn.__qualname__}" for fn in attached) or "none"
    if args.without_hooks:
        for fn in attached:
            hooks.unsubscribe("records_ingested", fn)
        print(f"records_ingested subscribers detached (--without-hooks): {names}", flush=True)
    else:
        print(f"records_ingested subscribers attached ({'queued: one task per chunk' if hooks.queue_enabled() else 'inline'}): "
              f"{names}", flush=True)
    world = load_world()
    truncate_previous_run()
    tmp = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        t0 = time.perf_counter()
        tag = f"{int(time.time()) % 10**8:08d}"
        files = generate(tmp, args.records, args.files_per_channel, tag)
        size = sum(p.stat().st_size for ps in files.values() for p in ps)
        print(f"generated {args.records:,} records ({size / 1e6:.1f} MB JSON Lines) in {time.perf_counter() - t0:.1f} s "
              f"→ {tmp}", flush=True)
        if args.profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            res = prof.runcall(run_ingest, files, args.records)
        else:
            res = run_ingest(files, args.records)
        ok = print_table(res, args.records, world)
        if args.updates:
            upd = run_updates(changed_files(files, args.updates, tmp))
            total = upd["seconds"] + upd["task_seconds"]  # the ingest and its subscribers' queued work
            rate = upd["updated"] / total if total else 0.0
            new_rate = res["records"] / res["seconds"] if res["seconds"] else 0.0
            passed = rate >= UPDATE_TARGET_RATE and upd["updated"] + upd["rejected"] == upd["read"]
            ok = ok and passed
            print(f"{'updates':<14}{upd['read']:>9,}{upd['updated']:>9,}{upd['rejected']:>9,}{upd['seconds']:>9.1f}"
                  f"{rate:>11,.0f}  updates/s (new records: {new_rate:,.0f}/s) — target ≥ {UPDATE_TARGET_RATE:,.0f}: "
                  f"{'PASS' if passed else 'FAIL'}")
            print(f"  updates: ingest {upd['seconds']:.1f} s + {upd['tasks']} queued subscriber tasks "
                  f"(duplicate model, warnings) {upd['task_seconds']:.1f} s, run as a worker would")
        print("address match quality:", quality_summary())
        if args.profile:
            print("\ncProfile, top 15 by cumulative time:")
            pstats.Stats(prof, stream=sys.stdout).sort_stats("cumulative").print_stats(40)
            print("cProfile, top 15 by own time:")
            pstats.Stats(prof, stream=sys.stdout).sort_stats("tottime").print_stats(40)
        OUT_DIR.mkdir(exist_ok=True)
        (OUT_DIR / "ingest_bench.json").write_text(json.dumps({
            "records": res["records"], "seconds": res["seconds"],
            "records_per_s": res["records"] / res["seconds"] if res["seconds"] else 0,
            "per_channel": res["per_channel"], "checkpoints": res["checkpoints"], "pass": ok,
        }, ensure_ascii=False, indent=2), encoding="utf-8")
    finally:
        if not args.keep_files:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
