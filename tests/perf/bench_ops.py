"""Issue #17 perf check: the review list / workbench review panel with ~1,000 accounts on PostgreSQL.

Before: the page's query joined the users (submitted_by, decided_by) into the review/case join;
with ~1,000 accounts the planner misestimated the rows (1 for thousands) and joined users by nested
loop. After: the users are fetched by id for the page's rows (prefetch_related). This bench puts
--reviews pending reviews into one street of the load database (tests/load/run.py prepares it:
1,000 accounts) and measures both query shapes for that street's admin: median wall time of the
page query, number of queries, and the top of EXPLAIN ANALYZE of the main statement.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mdtj_load .venv/bin/python tests/perf/bench_ops.py
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
for line in (ROOT / "var" / "load.env").read_text().splitlines() if (ROOT / "var" / "load.env").exists() else []:
    k, _, v = line.partition("=")
    os.environ.setdefault(k, v)


def ensure_reviews(street_code: str, target: int) -> tuple[int, str]:
    from django.db import transaction

    from accounts.models import User
    from cases.models import Case, Review
    from cases.states import workflows

    state = kind = None
    for _scope, wf in workflows():
        for s in wf.review_states():
            if "street_admin" in wf.reviewer_roles(s):
                state, kind = s, s
                break
        if state:
            break
    have = Review.objects.filter(status="pending", case__region_path__contains=f"{street_code}/").count()
    users = list(User.objects.values_list("pk", flat=True))
    if have < target:
        cases = list(Case.objects.filter(region_path__contains=f"{street_code}/", level=3)
                     .exclude(reviews__status="pending").values_list("pk", flat=True)[: target - have])
        rng = random.Random(17)
        with transaction.atomic():
            Case.objects.filter(pk__in=cases).update(status=state)
            Review.objects.bulk_create([Review(case_id=c, kind=kind, state=state, submitted_by_id=rng.choice(users))
                                        for c in cases], batch_size=2000)
    return Review.objects.filter(status="pending", case__region_path__contains=f"{street_code}/").count(), state


def measure(qs_factory, n: int = 7) -> tuple[float, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    times = []
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(n):
            t0 = time.perf_counter()
            rows = list(qs_factory())
            _ = [(r.submitted_by, r.decided_by, r.case.region) for r in rows]
            times.append((time.perf_counter() - t0) * 1000)
        count = len(ctx.captured_queries) // n
    reset_queries()
    return statistics.median(times), count


def explain(qs) -> list[str]:
    from django.db import connection

    sql, params = qs.query.sql_with_params()
    with connection.cursor() as c:
        c.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql, params)
        return [r[0] for r in c.fetchall()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reviews", type=int, default=4000)
    args = ap.parse_args()
    import django

    django.setup()
    from accounts.models import User
    from cases import workbench
    from cases.models import Review
    from orgs.models import Region

    street = Region.objects.filter(level=Region.Level.STREET).order_by("path").first()
    count, state = ensure_reviews(street.code, args.reviews)
    admin = User.objects.filter(region=street, groups__role__code="street_admin").first()
    users = User.objects.count()
    base = lambda: Review.objects.filter(workbench.waiting_q(admin)).order_by("-submitted_at", "-pk")  # noqa: E731
    before = lambda: base().select_related("case", "case__region", "submitted_by", "decided_by")[:100]  # noqa: E731
    after = lambda: base().select_related("case", "case__region").prefetch_related("submitted_by", "decided_by")[:100]  # noqa: E731
    rows = []
    for name, f in (("before: users joined", before), ("after: users by id", after)):
        ms, queries = measure(f)
        plan = explain(f())
        top = next((line.strip() for line in plan if "Nested Loop" in line or "Hash Join" in line), plan[0].strip())
        total = next((line for line in plan if line.startswith("Execution Time")), "")
        rows.append((name, f"{ms:.1f}", str(queries), total.replace("Execution Time: ", ""), top[:90]))
    print(f"\nreview list of {admin.username} ({street.name}): {count} pending reviews in state {state}, "
          f"{users} accounts, {len(list(base()[:100]))} rows on the page\n")
    print("| query | median ms | queries | EXPLAIN execution | first join node |")
    print("|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
