"""考核评价 benchmark (make bench): computing a month and the ranking pages.

Requirement (issue 14): computing a month for 1,000 mediators / 200 communities / 20 streets over
1,000,000 cases < 60 s; ranking pages < 300 ms.

    .venv/bin/python tests/perf/bench_assessment.py [--cases 1000000] [--iterations 15]

Database: BENCH_ASSESSMENT_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/mdtj_bench_assessment
(created and migrated when missing). Loaded once and reused: the demo world plus 20 bench streets ×
10 communities × 5 mediators; cases bulk-loaded with tests/perf/bench.py's loader (spread over two
years) and then given a registrant and that mediator's community; results (75 % success), logs,
approved result reviews and visits are added in SQL. The measured month is the one with most cases
(a full month, closed: recomputed explicitly). Prints a table, writes
bench-output/assessment_bench.json; exit status 0 only when every target passes.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

PERF_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(PERF_DIR))

import bench  # noqa: E402  (tests/perf/bench.py: environment, database, world, bulk case loader)

BASE_DIR = PERF_DIR.parents[1]
OUT_DIR = BASE_DIR / "bench-output"
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mdtj_bench_assessment"
TARGET_COMPUTE_S = 60.0
TARGET_PAGE_MS = 300.0
STREETS, COMMUNITIES_PER_STREET, MEDIATORS_PER_COMMUNITY = 20, 10, 5


def ensure_bench_units() -> list[int]:
    """20 streets × 10 communities under the district, 5 mediators each; returns mediator ids."""
    from accounts import roles
    from accounts.models import User
    from orgs.models import Region

    district = Region.objects.get(level=Region.Level.DISTRICT, parent__isnull=True)
    group = roles.group("mediator")
    for s in range(STREETS):
        street, _ = Region.objects.get_or_create(code=f"{district.code}9{s:02d}", defaults={
            "name": f"基准街道{s + 1:02d}", "level": Region.Level.STREET, "parent": district})
        for c in range(COMMUNITIES_PER_STREET):
            community, _ = Region.objects.get_or_create(code=f"{street.code}{c:03d}", defaults={
                "name": f"基准{s + 1:02d}街道社区{c + 1:02d}", "level": Region.Level.COMMUNITY, "parent": street})
            have = User.objects.filter(username__startswith=f"bench_med_{s:02d}{c:02d}_").count()
            if have < MEDIATORS_PER_COMMUNITY:
                users = User.objects.bulk_create([
                    User(username=f"bench_med_{s:02d}{c:02d}_{m}", display_name=f"基准调解员{s:02d}{c:02d}{m}",
                         region=community, is_staff=True) for m in range(have, MEDIATORS_PER_COMMUNITY)])
                group.user_set.add(*users)
    return list(User.objects.filter(username__startswith="bench_med_").order_by("pk").values_list("pk", flat=True))


def sql_load_cases(target: int, mediators: list[int]) -> float:
    """Generate the cases in the database (INSERT … SELECT generate_series): registered over two
    years, each case registered by one bench mediator in their community. Columns not set here
    get their model default (columns other apps add keep working)."""
    from django.db import connection

    from accounts.models import User
    from cases.models import Case
    from lowcode.models import DictItem

    t0 = time.perf_counter()
    have = Case.objects.filter(exchange_id__startswith=bench.EXCHANGE_PREFIX).count()
    if have >= target:
        return 0.0
    types = list(DictItem.objects.filter(dictionary__code="case_type", children__isnull=True)
                 .values_list("code", flat=True)) or ["neighbor"]
    rows = list(User.objects.filter(pk__in=mediators).order_by("pk").values_list("pk", "region_id", "region__path"))
    statuses = ["registered", "mediating", "mediating", "pending_review", "mediated", "mediated", "mediated",
                "mediated", "archived", "archived"]
    titles = ["装修噪音纠纷", "宠物伤人纠纷", "停车位争议", "漏水赔偿纠纷", "赡养费纠纷", "工资拖欠纠纷", "物业费纠纷",
              "相邻通行纠纷", "租赁押金纠纷", "交通事故赔偿"]
    exprs = {
        "exchange_id": "%s || lpad(g::text, 8, '0')",
        "title": "(%s::text[])[1 + g %% 10] || '（' || g || '）'",
        "description": "'双方因' || (%s::text[])[1 + (g / 7) %% 10] || '发生争执，第' || g || '号'",
        "case_type": "(%s::text[])[1 + (g / 3) %% array_length(%s::text[], 1)]",
        "status": "(%s::text[])[1 + (g / 11) %% 10]",
        "registered_at": "now() - (g %% 1051200) * interval '1 minute' - interval '1 day'",
        "occurred_at": "now() - (g %% 1051200) * interval '1 minute' - interval '2 days'",
        "deadline": "now() - (g %% 1051200) * interval '1 minute' + interval '14 days'",
        "updated_at": "now()",
        "registrant_id": "m.uid", "region_id": "m.rid", "region_path": "m.path",
    }
    params = {"exchange_id": [bench.EXCHANGE_PREFIX], "title": [titles], "description": [titles],
              "case_type": [types, types], "status": [statuses]}
    cols, select, args = [], [], []
    for f in Case._meta.concrete_fields:
        if f.primary_key:
            continue
        cols.append(f.column)
        if f.name in exprs or f.attname in exprs:
            key = f.name if f.name in exprs else f.attname
            select.append(exprs[key])
            args += params.get(key, [])
        else:
            select.append("%s")
            default = f.get_default() if f.has_default() else (None if f.null else "")
            args.append(f.get_db_prep_save(default, connection))
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_med")
        cur.execute("CREATE TEMP TABLE bench_med (n int PRIMARY KEY, uid bigint, rid bigint, path varchar(255))")
        cur.executemany("INSERT INTO bench_med VALUES (%s, %s, %s, %s)", [(i, *r) for i, r in enumerate(rows)])
        cur.execute("SET synchronous_commit TO off")
        step = 100_000
        for lo in range(have, target, step):
            hi = min(lo + step, target) - 1
            cur.execute(f"INSERT INTO cases_case ({', '.join(cols)}) SELECT {', '.join(select)} "
                        f"FROM generate_series(%s, %s) g JOIN bench_med m ON m.n = g %% {len(rows)}",
                        args + [lo, hi])
            print(f"  … {hi + 1:>9,} cases ({time.perf_counter() - t0:.0f}s)", flush=True)
        cur.execute("SET synchronous_commit TO DEFAULT")
    return time.perf_counter() - t0


def spread_cases(mediators: list[int]) -> float:
    """Results (75 % success), approved result reviews, logs and visits for the bench cases — once."""
    from django.db import connection

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM cases_mediationresult LIMIT 1")
        if cur.fetchone():
            return 0.0
        cur.execute("SET synchronous_commit TO off")
        closed = ("mediated", "archived")
        cur.execute("INSERT INTO cases_mediationresult (outcome, agreement, submitted_at, case_id, submitted_by_id) "
                    "SELECT CASE WHEN random() < 0.75 THEN 'success' ELSE 'failed' END, '', "
                    "registered_at + interval '3 days', id, registrant_id FROM cases_case "
                    "WHERE status = ANY(%s) AND exchange_id LIKE %s "
                    "AND NOT EXISTS (SELECT 1 FROM cases_mediationresult r WHERE r.case_id = cases_case.id)",
                    [list(closed), f"{bench.EXCHANGE_PREFIX}%"])
        cur.execute("INSERT INTO cases_review (kind, state, status, submitted_at, decided_at, action, opinion, case_id, "
                    "submitted_by_id) SELECT 'result', 'pending_review', 'approve', submitted_at, "
                    "submitted_at + (random() * interval '20 days'), '审核通过', '', case_id, submitted_by_id "
                    "FROM cases_mediationresult r JOIN cases_case c ON c.id = r.case_id WHERE c.exchange_id LIKE %s",
                    [f"{bench.EXCHANGE_PREFIX}%"])
        cur.execute("INSERT INTO cases_mediationlog (occurred_at, place, participants, content, created_at, case_id, "
                    "created_by_id) SELECT registered_at + interval '1 day', '社区调解室', '双方当事人', "
                    "'组织双方协商。', registered_at + interval '1 day', id, registrant_id FROM cases_case "
                    "WHERE status <> 'registered' AND exchange_id LIKE %s", [f"{bench.EXCHANGE_PREFIX}%"])
        cur.execute("INSERT INTO cases_visit (visited_at, way, satisfaction, notes, case_id, visitor_id) "
                    "SELECT registered_at + interval '10 days', 'phone', CASE WHEN random() < 0.8 THEN 'satisfied' "
                    "ELSE 'basic' END, '', id, registrant_id FROM cases_case "
                    "WHERE status = ANY(%s) AND id %% 3 = 0 AND exchange_id LIKE %s",
                    [list(closed), f"{bench.EXCHANGE_PREFIX}%"])
        cur.execute("SET synchronous_commit TO DEFAULT")
        for table in ("cases_mediationresult", "cases_review", "cases_mediationlog", "cases_visit"):
            cur.execute(f"VACUUM (ANALYZE) {table}")
    return time.perf_counter() - t0


def busiest_full_month():
    from django.db.models import Count
    from django.db.models.functions import TruncMonth

    from assessment import periods
    from cases.models import Case

    from django.utils import timezone

    current = periods.containing("month", timezone.localdate())
    rows = (Case.objects.filter(registered_at__lt=current.bounds()[0]).annotate(m=TruncMonth("registered_at"))
            .values("m").annotate(n=Count("pk")).order_by("-n")[:1])
    top = rows[0]
    return periods.containing("month", top["m"].date()), top["n"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=15)
    parser.add_argument("--users", type=int, default=4, help="district users opening the heaviest ranking at once")
    args = parser.parse_args()

    os.environ["DATABASE_URL"] = os.environ.get("BENCH_ASSESSMENT_DATABASE_URL") or DEFAULT_DB_URL
    url = bench.prepare_environment()
    bench.ensure_postgres_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    call_command("migrate", verbosity=0, interactive=False)
    bench.load_world("Bench@assessment-2026")
    mediators = ensure_bench_units()
    print(f"loading up to {args.cases:,} cases …", flush=True)
    load_s = sql_load_cases(args.cases, mediators)
    spread_s = load_s + spread_cases(mediators)
    bench.analyze()

    from assessment import compute
    from cases.models import Case

    period, month_cases = busiest_full_month()
    total = Case.objects.count()
    print(f"cases {total:,}; month {period.key}: {month_cases:,} cases; spread/workload {spread_s:.1f}s", flush=True)
    times = []
    for i in range(args.runs):
        t0 = time.perf_counter()
        snaps = compute.compute_period(period, ["mediator", "community", "street"], recompute=True,
                                       reason="基准测试")
        times.append(time.perf_counter() - t0)
        print(f"  compute run {i + 1}: {times[-1]:.1f}s ({', '.join(f'{s.dimension} {s.unit_count}' for s in snaps)})",
              flush=True)
    units = {s.dimension: s.unit_count for s in snaps}
    # 考核分析 draws the last 12 months: the 11 before the measured one, computed once and kept
    from assessment.models import Snapshot

    earlier = period
    for _ in range(11):
        earlier = earlier.previous()
        if not Snapshot.objects.filter(dimension="mediator", period_kind="month", period_key=earlier.key).exists():
            compute.compute_period(earlier, ["mediator"], detect_padding=False)

    from accounts.models import User

    def logged_in(username):
        """A client past the login procedure, second factor included (as tests/conftest.py does)."""
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        user = User.objects.get(username=username)
        c = Client()
        c.force_login(user)
        device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
                  or TOTPDevice.objects.create(user=user, name="基准测试", confirmed=True))
        session = c.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return c

    client = logged_in("demo_district")
    street_client = logged_in("demo_street")
    some = str(mediators[0])
    urls = {
        "调解员排名（区级，%d 人）" % units["mediator"]: (client, f"/assessment/mediator/?period={period.key}"),
        "社区排名（区级）": (client, f"/assessment/community/?period={period.key}"),
        "街道排名（区级）": (client, f"/assessment/street/?period={period.key}"),
        "调解员排名（街道）": (street_client, f"/assessment/mediator/?period={period.key}"),
        "调解员明细（下钻）": (client, f"/assessment/mediator/unit/?unit={some}&period={period.key}&fact=success"),
        "考核分析（区级，调解员 12 个月）": (client, "/assessment/mediator/trend/"),
    }
    results = {}
    for label, (c, u) in urls.items():
        for _ in range(2):
            bench.timed_get(c, u)
    for _ in range(args.iterations):
        for label, (c, u) in urls.items():
            results.setdefault(label, []).append(bench.timed_get(c, u)[0])
    # the heaviest page with several district users opening it at the same moment (one thread and
    # database connection each, as one gunicorn worker's threads): each request's own latency
    import threading

    from django.db import connection

    heavy_label = next(iter(urls))
    heavy_url = urls[heavy_label][1]
    together, lock = [], threading.Lock()

    def one_user():
        try:
            c = logged_in("demo_district")
            samples = [bench.timed_get(c, heavy_url)[0] for _ in range(args.iterations)]
            with lock:
                together.extend(samples)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_user) for _ in range(args.users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results[f"{heavy_label}，{args.users} 人同时"] = together
    rows = [["计算一个月（调解员+社区+街道）", f"{statistics.median(times):.1f} s", f"{max(times):.1f} s",
             f"< {TARGET_COMPUTE_S:.0f} s", "OK" if statistics.median(times) < TARGET_COMPUTE_S else "FAIL"]]
    ok = statistics.median(times) < TARGET_COMPUTE_S
    for label, samples in results.items():
        med, p95 = statistics.median(samples), bench.percentile(samples, 95)
        passed = med < TARGET_PAGE_MS
        ok &= passed
        rows.append([label, f"{med:.0f} ms", f"{p95:.0f} ms", f"< {TARGET_PAGE_MS:.0f} ms", "OK" if passed else "FAIL"])
    print(f"\nPostgreSQL, {total:,} cases ({month_cases:,} in {period.key}); units {units}; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(bench.table(rows, ["测量", "中位数", "最大/P95", "目标", "结果"]))
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "assessment_bench.json").write_text(json.dumps({
        "cases": total, "month": period.key, "month_cases": month_cases, "units": units,
        "compute_s": [round(t, 2) for t in times],
        "pages_ms": {k: [round(x, 1) for x in v] for k, v in results.items()},
        "load_average": os.getloadavg()}, ensure_ascii=False, indent=2))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
