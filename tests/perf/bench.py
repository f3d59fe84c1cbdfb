"""Case-list benchmark (make bench).

Requirement: with 200,000 cases loaded, the case list page (20 rows, one filter, generated
from metadata) renders server-side in a median under 150 ms on PostgreSQL, within 1.3x of a
hand-written Django admin changelist for the same query, and the per-request cost of metadata
does not grow with the number of metadata records (cached, versioned).

Screens (issue 3, tests/perf/bench_screens.py): with 200,000 cases and 1,000,000 mediation logs
(plus results, reviews, overdue cases and unread notices), the workbench (/admin/, street and
district admin) and the H5 case list (/h5/?tab=…, community mediator and district admin)
render in a median under 200 ms; the H5 case page of a case with 50 logs is measured too.
Rows f, g, h of the same table.

    .venv/bin/python tests/perf/bench.py [--cases 200000] [--logs-per-case 5] [--iterations 30] [--profile]

Database: DATABASE_URL, else postgres://postgres@127.0.0.1:5432/mdtj_bench (created when
missing). Cases are bulk-loaded up to --cases once, then the screens' workload (logs, results,
reviews, notices; bench_screens.load_workload); reruns reuse them. Point DATABASE_URL only at
a throw-away database: the bench adds BEN… cases and, for the duration of the scaling check,
1,000 metadata records (removed again). The table is printed and written to
bench-output/list_bench.json; the exit status is 0 only when every target passes.

The hand-written baselines (tests/perf/bench_admin.py) are mounted by tests/perf/bench_urls.py,
which the bench sets as ROOT_URLCONF. Requests go through django.test.Client as user
demo_district (region = district root, so the scope filter is a prefix match over every row).
"""
from __future__ import annotations

import argparse
import datetime as dt
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
PERF_DIR = Path(__file__).resolve().parent
OUT_DIR = BASE_DIR / "bench-output"
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mdtj_bench"
EXCHANGE_PREFIX = "BEN"
BENCH_DICT = "bench_dummy"      # dictionary holding the 500 extra DictItems
BENCH_FIELD_PREFIX = "bench_f"  # code prefix of the extra FieldDefs
FILTER_URL_QS = "?case_type=labor_wage"
URLS = {
    "meta": "/admin/cases/case/" + FILTER_URL_QS,             # metadata-driven CaseAdmin
    "plain": "/bench-plain/cases/case/" + FILTER_URL_QS,      # list_filter=["case_type"]
    "static": "/bench-static/cases/case/" + FILTER_URL_QS,    # hard-coded SimpleListFilter
    "same": "/bench-same/cases/case/" + FILTER_URL_QS,        # hand-written, same 7 filters (info)
}
TARGET_MEDIAN_MS = 150.0
TARGET_RATIO = 1.3
# "no growth": identical SQL statements, and the CPU median within +10 % (+1 ms of noise);
# the wall median is checked the same way (+2 ms) and reported
GROWTH_TOLERANCE = 1.10
GROWTH_NOISE_MS = 2.0


# --- environment (before Django is imported) -------------------------------------------
def prepare_environment() -> str:
    sys.path.insert(0, str(BASE_DIR / "platform"))
    sys.path.insert(0, str(BASE_DIR))
    sys.path.insert(0, str(PERF_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # Throw-away keys unless supplied: nothing in the bench decrypts what an earlier run wrote
    # (the H5 case page shows its parties: bench_screens.rekey_parties rewrites the measured
    # cases' parties under this run's keys).
    os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40)
    os.environ["SM4_KEY"] = os.environ.get("SM4_KEY") or secrets.token_hex(16)
    os.environ["AUDIT_HMAC_KEY"] = os.environ.get("AUDIT_HMAC_KEY") or secrets.token_hex(32)
    os.environ["BLIND_INDEX_KEY"] = os.environ.get("BLIND_INDEX_KEY") or secrets.token_hex(32)
    os.environ["DEBUG"] = "0"  # as in production: cached template loaders
    hosts = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
    os.environ["ALLOWED_HOSTS"] = ",".join(hosts + ["testserver"])
    os.environ.setdefault("CONN_MAX_AGE", "3600")  # persistent connection, as in production
    url = os.environ.get("DATABASE_URL") or DEFAULT_DB_URL
    os.environ["DATABASE_URL"] = url
    return url


def ensure_postgres_database(url: str) -> bool:
    """CREATE DATABASE when it is missing. Returns True when it was created."""
    from urllib.parse import unquote, urlparse

    import psycopg
    from psycopg import sql

    u = urlparse(url)
    if u.scheme not in ("postgres", "postgresql", "pgsql"):
        return False
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


# --- data ------------------------------------------------------------------------------
CASE_TYPE_WEIGHTS = {  # roughly the demo seed's mix; labor_wage ≈ 6 % of cases
    "neighbor": 6, "housing": 2, "labor_wage": 2, "property_mgmt": 2, "traffic": 2, "consumer": 2,
}
MEDIATION_TYPES = ["people"] * 6 + ["industry", "lawyer", "administrative", "commercial"]
SOURCES = ["local"] * 6 + ["hotline12345", "police110", "jczz", "odr"]


def load_world(password: str) -> dict:
    from demo import seeding
    from lowcode import registry, serialization
    from lowcode.apps import ENGINE_KINDS

    t0 = time.perf_counter()
    report = serialization.load_metadata(ENGINE_KINDS)
    registry.clear_cache()
    if report.kept_site_changes:
        # the loader keeps what it takes for a site's own edits; in the bench database that means
        # metadata older than this checkout (e.g. no time limits, no review steps): the screens
        # would not measure what ships. Drop the bench database to start over.
        print(f"WARNING: {len(report.kept_site_changes)} metadata records differ from metadata/ and were kept "
              f"(e.g. {', '.join(report.kept_site_changes[:3])}); the figures may not reflect the shipped metadata")
    regions = seeding.ensure_regions()
    seeding.ensure_organizations(regions)
    seeding.ensure_users(password)
    return {"regions": len(regions), "seconds": time.perf_counter() - t0}


def load_cases(target: int, party_fraction: float, seed: int = 20260501) -> dict:
    """Bulk-load synthetic cases (and parties for ``party_fraction`` of them) up to ``target``
    cases numbered BEN00000000…; resumes where an interrupted load stopped."""
    from django.db import connection, transaction
    from django.utils import timezone

    from bench_screens import COMMUNITY, COMMUNITY_SHARE, case_shape, limit_days_by_type
    from cases.models import Case, Party
    from demo import synthetic
    from lowcode.models import DictItem
    from orgs.models import Region

    existing = Case.objects.filter(exchange_id__startswith=EXCHANGE_PREFIX).count()
    if existing >= target:
        return {"loaded_cases": 0, "loaded_parties": 0, "seconds": 0.0, "skipped": True}
    last = (Case.objects.filter(exchange_id__startswith=EXCHANGE_PREFIX)
            .order_by("-exchange_id").values_list("exchange_id", flat=True).first())
    start = int(last[len(EXCHANGE_PREFIX):]) + 1 if last else 0
    to_load = target - existing

    codes = list(DictItem.objects.filter(dictionary__code="case_type").values_list("code", flat=True))
    parents = set(DictItem.objects.filter(dictionary__code="case_type", parent__isnull=False)
                  .values_list("parent__code", flat=True))
    leaf_types = [c for c in codes if c not in parents] or codes
    weights = [CASE_TYPE_WEIGHTS.get(c, 1) for c in leaf_types]
    regions = list(Region.objects.filter(level__gte=3).select_related("parent"))
    places = {r.pk: f"示范区{r.parent.name if r.level == 4 else ''}{r.name}".replace("网格", "") for r in regions}
    # the measured mediator's community (and its grids) gets COMMUNITY_SHARE of the cases, the
    # other communities and grids share the rest evenly
    home = next((r.path for r in regions if r.name == COMMUNITY and r.level == 3), None)
    mine = [bool(home) and r.path.startswith(home) for r in regions]
    n_mine = sum(mine)
    region_weights = [COMMUNITY_SHARE / n_mine if m else (1 - COMMUNITY_SHARE) / (len(regions) - n_mine)
                      for m in mine] if 0 < n_mine < len(regions) else None
    limits = limit_days_by_type()
    now = timezone.now()
    two_years = 2 * 365 * 86400

    t0 = time.perf_counter()
    batch, loaded_cases, loaded_parties = 5000, 0, 0
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO off")  # bulk load only; this session
    for offset in range(0, to_load, batch):
        n = min(batch, to_load - offset)
        rng = random.Random(seed + start + offset)
        cases, drafts = [], []
        for i in range(n):
            number = start + offset + i
            region = rng.choices(regions, region_weights)[0]
            case_type = rng.choices(leaf_types, weights)[0]
            draft = synthetic.case_draft(rng, case_type, places[region.pk])
            when = now - dt.timedelta(seconds=rng.uniform(0, two_years))
            status, deadline, level = case_shape(number, when, limits.get(case_type), now)
            cases.append(Case(
                exchange_id=f"{EXCHANGE_PREFIX}{number:08d}", title=draft.title,
                description=draft.description, case_type=case_type,
                mediation_type=rng.choice(MEDIATION_TYPES), source=rng.choice(SOURCES),
                status=status, deadline=deadline, level=level, party_count=draft.party_count,
                address=synthetic.address(rng, places[region.pk]),
                occurred_at=when - dt.timedelta(days=rng.randint(0, 10)), registered_at=when,
                region=region, region_path=region.path,
                tags=["group"] if draft.party_count >= 10 else [], extra=draft.extra))
            drafts.append(draft)
        with transaction.atomic():
            Case.objects.bulk_create(cases, batch_size=batch)
            parties = [Party(case=case, **p) for case, draft in zip(cases, drafts)
                       if party_fraction >= 1 or rng.random() < party_fraction for p in draft.parties]
            Party.objects.bulk_create(parties, batch_size=batch)
        loaded_cases += n
        loaded_parties += len(parties)
        done = offset + n
        if done % 50000 == 0 or done == to_load:
            rate = done / (time.perf_counter() - t0)
            print(f"  … {existing + done:>8,} cases ({rate:,.0f}/s, peak RSS {peak_rss_mb():.0f} MB)", flush=True)
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO DEFAULT")
    return {"loaded_cases": loaded_cases, "loaded_parties": loaded_parties,
            "seconds": time.perf_counter() - t0, "skipped": False}


def analyze() -> float:
    """VACUUM (ANALYZE): statistics for the planner, and the visibility map autovacuum would
    have set on a live system (this server may run with autovacuum off), so index-only scans
    are possible as in production. Cheap when nothing changed since the last run."""
    from django.db import connection

    t0 = time.perf_counter()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            for table in ("cases_case", "cases_party", "cases_mediationlog", "cases_mediationresult",
                          "cases_review", "notices_notice"):
                cur.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - t0


# --- extra metadata (the scaling check) ------------------------------------------------------
def remove_extra_metadata() -> None:
    """Raw deletes: no per-row signals, no history rows; then one version bump."""
    from lowcode.models import Dictionary, DictItem, FieldDef
    from lowcode.signals import bump_version

    FieldDef.objects.filter(code__startswith=BENCH_FIELD_PREFIX)._raw_delete("default")
    d = Dictionary.objects.filter(code=BENCH_DICT).first()
    if d is not None:
        DictItem.objects.filter(dictionary_id=d.pk)._raw_delete("default")
        Dictionary.objects.filter(pk=d.pk)._raw_delete("default")
    bump_version()


def add_extra_metadata(entity: str, n_fields: int = 500, n_items: int = 500) -> int:
    """n_fields FieldDefs on ``entity`` (not in list/filter/search) and n_items DictItems in a
    new dictionary, bulk-created, then one version bump (as one admin save would)."""
    from lowcode.models import Dictionary, DictItem, FieldDef
    from lowcode.signals import bump_version

    before = FieldDef.objects.count() + DictItem.objects.count()
    d, _ = Dictionary.objects.get_or_create(code=BENCH_DICT, defaults={"name": "压测字典"})
    have = set(DictItem.objects.filter(dictionary=d).values_list("code", flat=True))
    DictItem.objects.bulk_create([
        DictItem(dictionary=d, code=f"i{i:04d}", label=f"压测项{i}", sort=i)
        for i in range(n_items) if f"i{i:04d}" not in have])
    have = set(FieldDef.objects.filter(entity=entity, code__startswith=BENCH_FIELD_PREFIX).values_list("code", flat=True))
    FieldDef.objects.bulk_create([
        FieldDef(entity=entity, code=f"{BENCH_FIELD_PREFIX}{entity}_{i:04d}", label=f"压测字段{i}",
                 fieldtype="data", in_list_view=False, in_standard_filter=False, idx=10000 + i)
        for i in range(n_fields) if f"{BENCH_FIELD_PREFIX}{entity}_{i:04d}" not in have])
    bump_version()
    return FieldDef.objects.count() + DictItem.objects.count() - before


def metadata_counts() -> dict:
    from lowcode.models import Dictionary, DictItem, FieldDef, FormLayout, ListView, Workflow

    return {m.__name__: m.objects.count() for m in (Dictionary, DictItem, FieldDef, FormLayout, ListView, Workflow)}


# --- measuring -------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def summarise(samples: list[tuple[float, float]]) -> dict:
    """samples: (wall ms, CPU ms of this process). CPU time excludes the database and time
    spent waiting for a core, so it is the steadier measure of the engine's own work when
    other jobs share the machine."""
    wall = [w for w, _ in samples]
    cpu = [c for _, c in samples]
    return {"median_ms": round(statistics.median(wall), 2), "p95_ms": round(percentile(wall, 95), 2),
            "min_ms": round(min(wall), 2), "max_ms": round(max(wall), 2),
            "cpu_median_ms": round(statistics.median(cpu), 2), "n": len(samples)}


def timed_get(client, url: str) -> tuple[float, float]:
    c0, t0 = time.process_time(), time.perf_counter()
    response = client.get(url)
    _ = response.content  # rendered by the handler already (TemplateResponse); be explicit
    elapsed, cpu = (time.perf_counter() - t0) * 1000.0, (time.process_time() - c0) * 1000.0
    if response.status_code != 200:
        raise SystemExit(f"{url} → HTTP {response.status_code}")
    return elapsed, cpu


def sample(client, urls: dict[str, str], iterations: int, warmup: int,
           clients: dict | None = None) -> dict[str, list]:
    """Interleaved rounds (a, b, c, a, b, c, …) so drift hits every variant alike. ``clients``:
    a client (logged-in user) per key, where it is not ``client``."""
    clients = clients or {}
    samples: dict[str, list] = {k: [] for k in urls}
    for _ in range(warmup):
        for key, url in urls.items():
            timed_get(clients.get(key, client), url)
    for _ in range(iterations):
        for key, url in urls.items():
            samples[key].append(timed_get(clients.get(key, client), url))
    return samples


def measure(client, urls: dict[str, str], iterations: int, warmup: int,
            clients: dict | None = None) -> dict[str, dict]:
    return {k: summarise(v) for k, v in sample(client, urls, iterations, warmup, clients).items()}


class QueryTimer:
    """execute_wrapper recording every statement with a perf_counter duration (Django's
    CaptureQueriesContext rounds to whole milliseconds)."""

    def __init__(self, connection):
        self.connection = connection
        self.queries: list[dict] = []

    def __call__(self, execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - t0) * 1000.0
            try:
                text = self.connection.ops.last_executed_query(context["cursor"], sql, params)
            except Exception:  # pragma: no cover - vendor specific
                text = sql
            self.queries.append({"ms": round(ms, 3), "sql": text})

    def __enter__(self):
        self._cm = self.connection.execute_wrapper(self)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc):
        self._cm.__exit__(*exc)


def capture(client, url: str) -> dict:
    """One request with every SQL statement timed: count, statements, and the rows shown."""
    from django.db import connection

    with QueryTimer(connection) as qt:
        response = client.get(url)
    cl = (getattr(response, "context_data", None) or {}).get("cl")
    return {
        "sql_queries": len(qt.queries),
        "sql_ms": round(sum(q["ms"] for q in qt.queries), 2),
        "queries": qt.queries,
        "rows": len(cl.result_list) if cl is not None else None,
        "result_count": cl.result_count if cl is not None else None,
        "row_ids": [o.pk for o in cl.result_list] if cl is not None else [],
    }


def sql_signature(queries: list[dict]) -> list[str]:
    """The statements of a request, minus the session row (its data and expiry change each time)."""
    return [q["sql"] for q in queries if '"django_session"' not in q["sql"]]


def explain(sql: str) -> list[str]:
    from django.db import connection

    if connection.vendor != "postgresql" or not sql.lstrip().upper().startswith("SELECT"):
        return []
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return [r[0] for r in cur.fetchall()]


def cold_request(client, url: str, repeats: int = 3) -> dict:
    """First request after a metadata version bump (recompiles the metadata), ``repeats`` times."""
    from django.db import connection

    from lowcode.signals import bump_version

    times, counts = [], []
    for _ in range(repeats):
        bump_version()
        t0 = time.perf_counter()
        with QueryTimer(connection) as qt:
            response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000.0)
        counts.append(len(qt.queries))
        assert response.status_code == 200
        client.get(url)  # re-warm before the next bump
    return {"median_ms": round(statistics.median(times), 2), "samples_ms": [round(t, 2) for t in times],
            "sql_queries": max(counts)}


def profile(client, url: str, n: int, path: Path) -> dict:
    """cProfile over n warm requests; the top functions to a text file, and the share of time
    spent inside the metadata engine (platform/lowcode) for the report."""
    import cProfile
    import io
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        client.get(url)
    prof.disable()
    buf = io.StringIO()
    stats = pstats.Stats(prof, stream=buf)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
    total = stats.total_tt
    engine_tottime = sum(v[2] for k, v in stats.stats.items() if "/platform/lowcode/" in k[0])
    path.write_text(buf.getvalue(), encoding="utf-8")
    return {"total_s": round(total, 3), "lowcode_self_time_share": round(engine_tottime / total, 3) if total else 0,
            "file": str(path.relative_to(BASE_DIR))}


# --- report ----------------------------------------------------------------------------
def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(_w(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(r):
        return "  ".join(str(c) + " " * (widths[i] - _w(str(c))) if i == 0 or not _num(c)
                         else " " * (widths[i] - _w(str(c))) + str(c) for i, c in enumerate(r)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def _w(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _num(c) -> bool:
    return isinstance(c, (int, float)) or (isinstance(c, str) and c.replace(".", "", 1).replace(",", "").replace("×", "").strip().isdigit())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200_000, help="cases to load (default 200000)")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--party-fraction", type=float, default=1.0,
                        help="share of loaded cases that get their 2 parties (default all)")
    parser.add_argument("--logs-per-case", type=int, default=5,
                        help="mediation logs per case on average (default 5: 1,000,000 for 200,000 cases)")
    parser.add_argument("--profile", action="store_true", help="cProfile the list views and the screens too")
    args = parser.parse_args()
    if args.iterations < 30:
        print("note: fewer than 30 iterations requested; the requirement asks for ≥ 30")

    t_start = time.perf_counter()
    url = prepare_environment()
    created_db = ensure_postgres_database(url)

    import warnings

    import django

    warnings.filterwarnings("ignore", message="No directory at")  # whitenoise: no collectstatic here
    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    override_settings(ROOT_URLCONF="bench_urls").enable()
    print(f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}"
          f"{' (created)' if created_db else ''}", flush=True)
    if connection.vendor != "postgresql":
        print("WARNING: the requirement is stated for PostgreSQL; these figures are not comparable")

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = time.perf_counter() - t0
    remove_extra_metadata()  # leftovers of an interrupted run
    world = load_world(secrets.token_urlsafe(12) + "Aa1!")
    print(f"migrate {migrate_s:.1f}s, metadata + demo world {world['seconds']:.1f}s", flush=True)

    import bench_screens
    from cases.models import Case, Party

    print(f"loading cases up to {args.cases:,} …", flush=True)
    load = load_cases(args.cases, args.party_fraction)
    print(f"cases: {load['seconds']:.1f}s{' (skipped: already loaded)' if load['skipped'] else ''}; "
          f"loading the screens' workload ({args.logs_per_case} logs per case on average) …", flush=True)
    workload = bench_screens.load_workload(args.logs_per_case)
    analyze_s = analyze()
    load_rss = peak_rss_mb()
    total_cases, total_parties = Case.objects.count(), Party.objects.count()
    counts = bench_screens.workload_counts()
    print(f"cases {total_cases:,}, parties {total_parties:,}, logs {counts['logs']:,}, results {counts['results']:,}, "
          f"reviews {counts['reviews_total']:,} ({counts['reviews_pending']:,} pending), overdue {counts['overdue']:,}, "
          f"{bench_screens.COMMUNITY} {counts['community_cases']:,}; load {load['seconds'] + workload['seconds']:.1f}s"
          f"{' (skipped: already loaded)' if load['skipped'] and all(w.get('skipped') for w in workload.values() if isinstance(w, dict)) else ''}"
          f", VACUUM ANALYZE {analyze_s:.1f}s, peak RSS {load_rss:.0f} MB", flush=True)

    from accounts.models import User

    user = User.objects.get(username="demo_district")
    client = Client()
    client.force_login(user)

    # correctness first: every variant shows the same 20 rows
    checks = {k: capture(client, u) for k, u in URLS.items()}
    for k, c in checks.items():
        if c["rows"] != 20:
            raise SystemExit(f"{URLS[k]}: expected 20 rows, got {c['rows']}")
    same_rows = len({tuple(c["row_ids"]) for c in checks.values()}) == 1
    if not same_rows:
        print("WARNING: the variants list different rows — not the same query")

    # a, b: interleaved
    load_before = os.getloadavg()
    print(f"measuring ({args.warmup} warm-up + {args.iterations} iterations each) …", flush=True)
    main_runs = measure(client, URLS, args.iterations, args.warmup)
    meta_capture = capture(client, URLS["meta"])
    slowest = max(meta_capture["queries"], key=lambda q: q["ms"])
    slowest_plan = explain(slowest["sql"])

    # d: metadata scaling. Blocks alternate without / with the 1,000 extra records
    # (A B A B …, 6 blocks, 2 × iterations samples a side) so load from other jobs on the
    # machine falls on both sides alike.
    counts_before = metadata_counts()
    cold_before = cold_request(client, URLS["meta"])
    blocks = 6
    per_block = -(-2 * args.iterations // blocks)
    pooled = {"before": [], "after": []}
    added = 0
    for _ in range(blocks):
        remove_extra_metadata()
        pooled["before"] += sample(client, {"meta": URLS["meta"]}, per_block, 3)["meta"]
        added = add_extra_metadata("party")
        pooled["after"] += sample(client, {"meta": URLS["meta"]}, per_block, 3)["meta"]
    counts_after = metadata_counts()
    before_runs, after_runs = summarise(pooled["before"]), summarise(pooled["after"])
    after_capture = capture(client, URLS["meta"])
    cold_after = cold_request(client, URLS["meta"])
    # informational: 500 more FieldDefs, on the case entity itself (extra fields, not listed)
    added_case = add_extra_metadata("case", n_items=0)
    case_runs = measure(client, {"meta": URLS["meta"]}, args.iterations, args.warmup)["meta"]
    case_capture = capture(client, URLS["meta"])
    cold_case = cold_request(client, URLS["meta"])
    remove_extra_metadata()
    # informational: the same list without the filter (the page a user lands on)
    nofilter_url = URLS["meta"].split("?")[0]
    nofilter_runs = measure(client, {"meta": nofilter_url}, args.iterations, args.warmup)["meta"]
    nofilter_capture = capture(client, nofilter_url)

    prof = None
    if args.profile:
        OUT_DIR.mkdir(exist_ok=True)
        prof = {k: profile(client, URLS[k], 20, OUT_DIR / f"list_profile_{k}.txt") for k in ("meta", "static")}

    # f, g, h: the workbench and the H5 end, each as its user
    screen_result = bench_screens.run(sys.modules[__name__], args)

    # --- verdicts ------------------------------------------------------------------------
    a, b_plain, b_static, b_same = main_runs["meta"], main_runs["plain"], main_runs["static"], main_runs["same"]
    baseline = min((b_plain, "plain"), (b_static, "static"), key=lambda x: x[0]["median_ms"])
    ratio = a["median_ms"] / baseline[0]["median_ms"]

    def within(after: float, before: float, noise: float) -> bool:
        return after <= before * GROWTH_TOLERANCE + noise

    same_sql = sql_signature(after_capture["queries"]) == sql_signature(meta_capture["queries"])
    wall_ok = within(after_runs["median_ms"], before_runs["median_ms"], GROWTH_NOISE_MS)
    cpu_ok = within(after_runs["cpu_median_ms"], before_runs["cpu_median_ms"], GROWTH_NOISE_MS / 2)
    # The metadata's per-request cost is Python work (CPU) plus SQL; identical SQL means the
    # database does the same work, so the verdict rests on SQL + CPU. Wall time is shown, and
    # flagged when it differs, but on a shared 2-core machine it also measures other jobs.
    growth_ok = same_sql and cpu_ok
    pass_median = a["median_ms"] < TARGET_MEDIAN_MS
    pass_ratio = ratio <= TARGET_RATIO
    fmt = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
    n_meta_before = counts_before["FieldDef"] + counts_before["DictItem"]
    n_meta_after = counts_after["FieldDef"] + counts_after["DictItem"]
    cases_s = f"{total_cases:,}"

    def run_row(label, url, run, sql, target="", result=""):
        return [label, cases_s, url, run["median_ms"], run["p95_ms"], run["cpu_median_ms"], sql, target, result]

    header = ["row", "cases", "query", "median ms", "p95 ms", "CPU ms", "SQL/req", "target", "result"]
    rows = [
        run_row("a  metadata CaseAdmin", URLS["meta"], a, meta_capture["sql_queries"],
                f"median < {TARGET_MEDIAN_MS:.0f} ms", fmt(pass_median)),
        run_row("b1 plain ModelAdmin, list_filter=['case_type']", URLS["plain"], b_plain,
                checks["plain"]["sql_queries"], "baseline", "-"),
        run_row("b2 plain ModelAdmin, static SimpleListFilter", URLS["static"], b_static,
                checks["static"]["sql_queries"], "baseline", "-"),
        run_row("b3 plain ModelAdmin, same 7 filters + search", URLS["same"], b_same,
                checks["same"]["sql_queries"], "info", ""),
        ["c  ratio a / fastest of b1, b2", cases_s, f"a / b{1 if baseline[1] == 'plain' else 2} (median; CPU)",
         f"{ratio:.2f}×", "", f"{a['cpu_median_ms'] / baseline[0]['cpu_median_ms']:.2f}×", "",
         f"≤ {TARGET_RATIO}×", fmt(pass_ratio)],
        run_row(f"d0 a with {n_meta_before} FieldDef+DictItem", URLS["meta"], before_runs,
                meta_capture["sql_queries"], "", ""),
        run_row(f"d1 a with {n_meta_after} (+500 FieldDef, +500 DictItem)", URLS["meta"], after_runs,
                after_capture["sql_queries"], "same SQL; CPU ≤ d0 +10 %",
                fmt(growth_ok) + ("" if wall_ok else " (wall +%.0f %%)" % (100 * (after_runs["median_ms"] / before_runs["median_ms"] - 1)))),
        run_row(f"d2 a with {n_meta_after + added_case} (+500 FieldDef on case)", URLS["meta"], case_runs,
                case_capture["sql_queries"], "info", ""),
        ["d  cold: 1st request after version bump", cases_s, f"{n_meta_before} records", cold_before["median_ms"],
         "", "", cold_before["sql_queries"], "info", ""],
        ["d  cold: 1st request after version bump", cases_s, f"{n_meta_after} records", cold_after["median_ms"],
         "", "", cold_after["sql_queries"], "info", ""],
        ["d  cold: 1st request after version bump", cases_s, f"{n_meta_after + added_case} records (d2)",
         cold_case["median_ms"], "", "", cold_case["sql_queries"], "info", ""],
        run_row("e  metadata CaseAdmin, no filter", nofilter_url, nofilter_runs, nofilter_capture["sql_queries"],
                "info", ""),
    ]
    screen_rows, screens_ok = bench_screens.rows(screen_result, cases_s)
    rows += screen_rows
    print()
    print(table(rows, header))
    print("  CPU ms = this process's CPU time per request (Python only, no database); SQL/req excludes "
          "BEGIN/COMMIT;\n  d0/d1 pooled from 6 alternating blocks; cold = median of 3 bump+request cycles.")
    print()
    print(f"SQL of one warm request of (a) ({meta_capture['sql_queries']} statements, "
          f"{meta_capture['sql_ms']} ms in the database):")
    for q in meta_capture["queries"]:
        print(f"  {q['ms']:>7.2f}  {q['sql'][:140]}")
    print(f"slowest: {slowest['ms']} ms — EXPLAIN (ANALYZE, BUFFERS):\n  {slowest['sql']}")
    for line in slowest_plan:
        print("    " + line)
    plain_slowest = max(checks["plain"]["queries"], key=lambda q: q["ms"])
    print(f"slowest of (b1): {plain_slowest['ms']} ms  {plain_slowest['sql'][:160]}")
    nf_slowest = max(nofilter_capture["queries"], key=lambda q: q["ms"])
    print(f"slowest of (e, no filter): {nf_slowest['ms']} ms  {nf_slowest['sql'][:160]}")
    print(f"a / b3 (like-for-like filters, info): {a['median_ms'] / b_same['median_ms']:.2f}× wall, "
          f"{a['cpu_median_ms'] / b_same['cpu_median_ms']:.2f}× CPU")
    print(f"rows identical across a/b1/b2/b3: {same_rows}; rows matching the filter: {checks['meta']['result_count']:,}")
    for line in bench_screens.report(screen_result):
        print(line)
    load_after = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores; 1-min load average {load_before[0]:.2f} before measuring, "
          f"{load_after[0]:.2f} after (this run keeps ~1 core busy; more means other jobs shared the machine)")
    wl = {k: v for k, v in workload.items() if isinstance(v, dict)}
    print(f"data: {total_cases:,} cases, {counts['logs']:,} logs, {counts['results']:,} results, "
          f"{counts['reviews_total']:,} reviews ({counts['reviews_pending']:,} pending), {counts['overdue']:,} overdue, "
          f"{bench_screens.COMMUNITY} {counts['community_cases']:,} cases; statuses "
          + ", ".join(f"{k} {v:,}" for k, v in sorted(counts["by_status"].items(), key=lambda kv: -kv[1])))
    print(f"load {load['seconds'] + workload['seconds']:.1f}s: cases {load['seconds']:.1f}s ({load['loaded_cases']:,} cases, "
          f"{load['loaded_parties']:,} parties{', skipped: already loaded' if load['skipped'] else ''}); "
          + "; ".join(f"{k} {v['seconds']:.1f}s{' (skipped)' if v['skipped'] else ''}" for k, v in wl.items())
          + f"; VACUUM ANALYZE {analyze_s:.1f}s; peak RSS after load {load_rss:.0f} MB, at end {peak_rss_mb():.0f} MB; "
          f"total run {time.perf_counter() - t_start:.0f}s")
    if prof:
        for k, p in prof.items():
            print(f"profile {k}: 20 requests {p['total_s']}s under cProfile, self time in platform/lowcode "
                  f"{p['lowcode_self_time_share']:.1%} → {p['file']}")

    result = {
        "generated_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "database": {"vendor": connection.vendor, "name": settings.DATABASES["default"]["NAME"]},
        "cases": total_cases, "parties": total_parties,
        "iterations": args.iterations, "warmup": args.warmup,
        "load": {**load, "analyze_s": round(analyze_s, 2), "migrate_s": round(migrate_s, 2),
                 "world_s": round(world["seconds"], 2), "peak_rss_mb_after_load": round(load_rss, 1),
                 "workload": workload},
        "workload_counts": counts,
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": {"cpus": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": load_after},
        "table": {"header": header, "rows": rows},
        "targets": {
            "median_under_150ms": {"value_ms": a["median_ms"], "pass": pass_median},
            "ratio_within_1_3": {"value": round(ratio, 3), "baseline": f"b_{baseline[1]}",
                                 "cpu_ratio": round(a["cpu_median_ms"] / baseline[0]["cpu_median_ms"], 3),
                                 "pass": pass_ratio},
            "metadata_no_growth": {"before": before_runs, "after": after_runs,
                                   "sql_before": meta_capture["sql_queries"], "sql_after": after_capture["sql_queries"],
                                   "records_before": n_meta_before, "records_after": n_meta_after,
                                   "same_sql_statements": same_sql, "cpu_within": cpu_ok, "wall_within": wall_ok,
                                   "rule": "identical SQL statements, and CPU median within +10 % (+1 ms); "
                                           "wall median within +10 % (+2 ms) reported alongside",
                                   "pass": growth_ok},
        },
        "runs": {
            "a_meta": {**a, "url": URLS["meta"], "sql_queries": meta_capture["sql_queries"]},
            "b1_plain": {**b_plain, "url": URLS["plain"], "sql_queries": checks["plain"]["sql_queries"]},
            "b2_static": {**b_static, "url": URLS["static"], "sql_queries": checks["static"]["sql_queries"]},
            "b3_same_filters": {**b_same, "url": URLS["same"], "sql_queries": checks["same"]["sql_queries"],
                                "ratio_a_to_b3": round(a["median_ms"] / b_same["median_ms"], 3)},
            "d0_before": before_runs,
            "d1_after_1000_records": {**after_runs, "sql_queries": after_capture["sql_queries"]},
            "d2_after_500_case_fields": {**case_runs, "sql_queries": case_capture["sql_queries"]},
            "e_no_filter": {**nofilter_runs, "url": nofilter_url, "sql_queries": nofilter_capture["sql_queries"]},
        },
        "cold": {"before": cold_before, "after": cold_after, "after_case_fields": cold_case},
        "metadata_counts": {"before": counts_before, "after": counts_after},
        "rows_identical": same_rows, "matching_rows": checks["meta"]["result_count"],
        "sql": {"a": meta_capture["queries"], "b1": checks["plain"]["queries"], "b2": checks["static"]["queries"], "b3": checks["same"]["queries"],
                "e": nofilter_capture["queries"]},
        "slowest_query": {**slowest, "explain": slowest_plan},
        "profile": prof,
        "screens": bench_screens.to_json(screen_result),
    }
    result["targets"]["screens_median_under_200ms"] = {
        "pass": screens_ok, **{k: screen_result["runs"][k]["median_ms"] for k in screen_result["runs"]}}
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "list_bench.json").write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"written {OUT_DIR.relative_to(BASE_DIR) / 'list_bench.json'}")
    return 0 if (pass_median and pass_ratio and growth_ok and screens_ok) else 1

if __name__ == "__main__":
    sys.exit(main())
