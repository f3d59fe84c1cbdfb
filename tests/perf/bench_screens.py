"""Screens part of the benchmark (make bench): the workload behind the workbench and the H5 end,
and the rows that measure them.

Requirement (issue 3): with 200,000 cases and 1,000,000 mediation logs, the workbench and the
H5 case list render in a median under 200 ms on PostgreSQL.

Data, on top of the BEN… cases that ``bench.load_cases`` loads (each step streams the cases
in id order, one transaction per batch, and resumes where an interrupted run stopped; a step
with nothing left to do costs one query):

- case states follow the case's age, as on a live system: recent cases are mostly 已登记 /
  调解中, older ones mostly closed; about 2 % wait in a review step; open cases past their
  deadline (case type time limit) are overdue; ~5 % were escalated to the street, ~1 % to the
  district (``case_shape``; bench.load_cases uses it for new rows, ``shape_cases`` rewrites
  databases loaded before it existed);
- 5 mediation logs per case on average (none for 已登记, 1–15 for the others, exactly 5 per case
  over every batch), bulk_create in batches of 10,000; one 调解中 case of 湖滨社区 gets 50;
- a MediationResult for every case past 提交结果 (result review, 已调解, 已归档), a pending Review
  for every case in a review state (waited > 24 h: reminded; > 48 h: escalated, as the chasing
  job does) and an approved result review for every closed case with a result;
- unread (and read) notices for the measured users.

湖滨社区 (the measured mediator's community, with its grids) gets 5 % of the cases, the other
communities and grids share the rest evenly (bench.load_cases).
"""
from __future__ import annotations

import datetime as dt
import random
import re
import time
from collections import Counter
from dataclasses import dataclass

EXCHANGE_PREFIX = "BEN"
SHAPE_SEED = 7_110_000
LOG_BATCH = 10_000            # bulk_create batch (and one transaction) of mediation logs
HANDLING_CHUNK = 5_000        # cases per transaction for results and reviews
HEAVY_LOGS = 50               # logs of the case whose H5 page is measured
COMMUNITY = "湖滨社区"
COMMUNITY_SHARE = 0.05        # of the cases (bench.load_cases), so its tabs are full pages
NOTICE_MARK = "【压测】"
NOTICES_UNREAD = 300          # per measured user
NOTICES_READ = 300
MEASURED_USERS = ("demo_street", "demo_district", "demo_mediator")
SCREEN_TARGET_MS = 200.0

# status mix by age of the case (days since registration): (upper bound, [(status, weight)])
STATUS_BY_AGE = [
    (7, [("registered", 45), ("mediating", 40), ("pending_review", 6), ("escalation_review", 3),
         ("dispatch_review", 2), ("mediated", 4)]),
    (60, [("registered", 6), ("mediating", 30), ("pending_review", 6), ("escalation_review", 2),
          ("dispatch_review", 1), ("mediated", 40), ("dispatched", 3), ("archived", 12)]),
    (None, [("registered", 1), ("mediating", 4), ("pending_review", 1), ("escalation_review", 0.3),
            ("dispatch_review", 0.2), ("mediated", 40), ("dispatched", 3), ("archived", 50.5)]),
]
REVIEW_STATES = {"pending_review": "result", "escalation_review": "escalation", "dispatch_review": "dispatch"}
WITH_RESULT = ("pending_review", "mediated", "archived")
CLOSED_WITH_RESULT = ("mediated", "archived")
LOG_LINES = ["向双方了解纠纷经过，听取各自诉求。", "组织双方面对面协商，讲解相关法律规定。",
             "申请人情绪较为激动，先行安抚并约定再次调解时间。", "双方就主要分歧初步达成一致意见。",
             "电话联系被申请人，对方同意参加下次调解。", "实地查看现场，拍照留存。"]
PLACES = ["社区调解室", "村委会会议室", "纠纷现场", "街道综治中心", "当事人家中"]


def peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


# --- case states ---------------------------------------------------------------------------------
def case_shape(number: int, registered_at: dt.datetime, limit_days: int | None,
               now: dt.datetime) -> tuple[str, dt.datetime | None, int]:
    """(status, deadline, level) of bench case ``number``: deterministic per case."""
    rng = random.Random(SHAPE_SEED + number)
    age = (now - registered_at).total_seconds() / 86400.0
    mix = next(m for bound, m in STATUS_BY_AGE if bound is None or age < bound)
    status = rng.choices([s for s, _ in mix], [w for _, w in mix])[0]
    deadline = registered_at + dt.timedelta(days=limit_days) if limit_days else None
    x = rng.random()
    level = 1 if x < 0.01 else 2 if x < 0.06 else 3
    return status, deadline, level


def limit_days_by_type() -> dict[str, int | None]:
    from cases.timelimits import time_limit_days
    from lowcode.models import DictItem

    return {c: time_limit_days(c) for c in
            DictItem.objects.filter(dictionary__code="case_type").values_list("code", flat=True)}


def iter_case_chunks(after_id: int, size: int, fields: tuple[str, ...], **filters):
    """Bench cases with id > after_id in id order, ``size`` at a time (keyset pagination)."""
    from cases.models import Case

    last = after_id
    while True:
        rows = list(Case.objects.filter(exchange_id__startswith=EXCHANGE_PREFIX, id__gt=last, **filters)
                    .order_by("id").values_list("id", *fields)[:size])
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def shape_cases(now: dt.datetime) -> dict:
    """Databases loaded before case_shape existed have no deadlines and random states: give
    those cases theirs (one UPDATE … FROM (VALUES …) per 10,000). Skipped when none is left."""
    from django.db import connection, transaction

    from cases.models import Case

    t0 = time.perf_counter()
    if not Case.objects.filter(exchange_id__startswith=EXCHANGE_PREFIX, deadline__isnull=True).exists():
        return {"updated": 0, "seconds": 0.0, "skipped": True}
    limits = limit_days_by_type()
    updated = 0
    table = connection.ops.quote_name(Case._meta.db_table)
    for rows in iter_case_chunks(0, LOG_BATCH, ("exchange_id", "registered_at", "case_type"), deadline__isnull=True):
        values, params = [], []
        for pk, exchange_id, registered_at, case_type in rows:
            status, deadline, level = case_shape(int(exchange_id[len(EXCHANGE_PREFIX):]), registered_at,
                                                 limits.get(case_type), now)
            values.append("(%s, %s, %s::timestamptz, %s)")
            params += [pk, status, deadline, level]
        with transaction.atomic(), connection.cursor() as cur:
            # (a case type without a time limit keeps deadline NULL and is rewritten, identically,
            # on every run; every type of the shipped metadata has a limit)
            cur.execute(f"UPDATE {table} AS c SET status = v.status, deadline = v.deadline, level = v.level "
                        f"FROM (VALUES {', '.join(values)}) AS v(id, status, deadline, level) WHERE c.id = v.id",
                        params)
        updated += len(rows)
    return {"updated": updated, "seconds": time.perf_counter() - t0, "skipped": False}


# --- the measured cases --------------------------------------------------------------------------
def community():
    from orgs.models import Region

    return Region.objects.get(name=COMMUNITY, level=3)


def heavy_case_id() -> int | None:
    """The 调解中 case of 湖滨社区 (the community itself, not a grid) with the lowest id: it gets
    HEAVY_LOGS logs, and its H5 page is measured."""
    from cases.models import Case

    return (Case.objects.filter(exchange_id__startswith=EXCHANGE_PREFIX, region=community(), status="mediating")
            .order_by("id").values_list("id", flat=True).first())


def typical_case_id(heavy: int | None) -> int | None:
    """The next such case: a page with an ordinary number of logs, for the N+1 comparison."""
    from cases.models import Case

    return (Case.objects.filter(exchange_id__startswith=EXCHANGE_PREFIX, region=community(), status="mediating")
            .exclude(pk=heavy).order_by("id").values_list("id", flat=True).first())


def rekey_parties(case_ids: list[int]) -> int:
    """The bench runs with throw-away SM4/blind-index keys (bench.prepare_environment), so
    parties written by an earlier run cannot be decrypted; the H5 case page shows its parties.
    Give the parties of the measured cases new synthetic ID numbers and phones under this run's
    keys (a few UPDATEs; nothing else the screens show is encrypted)."""
    from cases.models import Party
    from demo import synthetic
    from secure import crypto

    n = 0
    for pk in Party.objects.filter(case_id__in=[c for c in case_ids if c]).values_list("pk", flat=True):
        rng = random.Random(pk)
        id_number, phone = synthetic.id_number(rng), synthetic.phone(rng)
        n += Party.objects.filter(pk=pk).update(
            id_number=id_number, id_number_bidx=crypto.blind_index(id_number, "id_number"),
            phone=phone, phone_bidx=crypto.blind_index(phone, "phone"))
    return n


# --- mediation logs ------------------------------------------------------------------------------
def _log_counts(rng: random.Random, rows, per_case: int, heavy: int | None) -> dict[int, int]:
    """Logs per case for one batch: none for 已登记, 1…2·per_case−1 for the others, adjusted so
    the batch holds exactly per_case × len(rows) (so 200,000 cases give 1,000,000 logs)."""
    eligible = [pk for pk, status, *_ in rows if status != "registered"]
    if not eligible:
        return {}
    counts = {pk: rng.randint(1, 2 * per_case - 1) for pk in eligible}
    if heavy in counts:
        counts[heavy] = HEAVY_LOGS
    diff = per_case * len(rows) - sum(counts.values())
    adjustable = [pk for pk in eligible if pk != heavy]
    for _ in range(200 * (abs(diff) + 1)):
        if diff == 0 or not adjustable:
            break
        pk = rng.choice(adjustable)
        if diff > 0 and counts[pk] < 3 * per_case:
            counts[pk] += 1
            diff -= 1
        elif diff < 0 and counts[pk] > 1:
            counts[pk] -= 1
            diff += 1
    return counts


def load_logs(per_case: int, now: dt.datetime, seed: int = 20261126) -> dict:
    """per_case mediation logs per bench case on average, bulk_create in batches of LOG_BATCH,
    one transaction per batch; resumes after the last case that has logs."""
    from django.db import connection, transaction
    from django.db.models import Max

    from accounts.models import User
    from cases.models import MediationLog

    t0 = time.perf_counter()
    heavy = heavy_case_id()
    last = MediationLog.objects.aggregate(m=Max("case_id"))["m"] or 0
    mediator = User.objects.filter(username="demo_mediator").first()
    hubin_prefix = community().path
    chunk = max(LOG_BATCH // max(per_case, 1), 1)
    loaded = batches = 0
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO off")
    for rows in iter_case_chunks(last, chunk, ("status", "registered_at", "region_path")):
        rng = random.Random(seed + rows[0][0])
        counts = _log_counts(rng, rows, per_case, heavy)
        logs = []
        for pk, status, registered_at, region_path in rows:
            n = counts.get(pk, 0)
            if not n:
                continue
            span = max(min((now - registered_at).total_seconds(), 90 * 86400.0), 3600.0)
            when = sorted(registered_at + dt.timedelta(seconds=rng.uniform(60, span)) for _ in range(n))
            by = mediator if region_path.startswith(hubin_prefix) else None
            logs += [MediationLog(case_id=pk, occurred_at=w, place=rng.choice(PLACES),
                                  participants="调解员、双方当事人", content=rng.choice(LOG_LINES), created_by=by)
                     for w in when]
        with transaction.atomic():
            MediationLog.objects.bulk_create(logs, batch_size=LOG_BATCH)
        loaded += len(logs)
        batches += 1
        if batches % 20 == 0:
            rate = loaded / (time.perf_counter() - t0)
            print(f"  … {loaded:>9,} logs ({rate:,.0f}/s, peak RSS {peak_rss_mb():.0f} MB)", flush=True)
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO DEFAULT")
    return {"loaded_logs": loaded, "seconds": time.perf_counter() - t0, "skipped": loaded == 0,
            "heavy_case": heavy}


# --- results and reviews -------------------------------------------------------------------------
OUTCOMES = ["success"] * 7 + ["partial"] * 2 + ["failed"]


def load_handling(now: dt.datetime, seed: int = 20261127) -> dict:
    """MediationResult for cases past 提交结果, pending Reviews for cases in a review state and an
    approved result review for closed cases with a result. Resumes after the last case done."""
    from decimal import Decimal

    from django.db import connection, transaction
    from django.db.models import Max

    from cases.models import MediationResult, Review

    t0 = time.perf_counter()
    last = max(MediationResult.objects.aggregate(m=Max("case_id"))["m"] or 0,
               Review.objects.aggregate(m=Max("case_id"))["m"] or 0)
    n_results = n_reviews = 0
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO off")
    for rows in iter_case_chunks(last, HANDLING_CHUNK, ("status", "registered_at")):
        rng = random.Random(seed + rows[0][0])
        results, reviews = [], []
        for pk, status, registered_at in rows:
            age_s = max((now - registered_at).total_seconds(), 7200.0)
            if status in WITH_RESULT:
                submitted = registered_at + dt.timedelta(seconds=rng.uniform(0.3, 0.9) * min(age_s, 30 * 86400.0))
                amount = Decimal(rng.randint(1, 2000) * 100) if rng.random() < 0.4 else None
                results.append(MediationResult(case_id=pk, outcome=rng.choice(OUTCOMES), amount=amount,
                                               agreement="双方自愿达成调解协议，按约履行。", submitted_at=submitted))
                if status in CLOSED_WITH_RESULT:
                    decided = min(submitted + dt.timedelta(hours=rng.uniform(1, 72)), now)
                    reviews.append(Review(case_id=pk, kind="result", state="pending_review", status="approve",
                                          submitted_at=submitted, decided_at=decided, action="审核通过"))
            if status in REVIEW_STATES:
                if status == "pending_review":
                    submitted = results[-1].submitted_at
                else:
                    submitted = registered_at + dt.timedelta(seconds=rng.uniform(0.1, 0.9) * min(age_s, 20 * 86400.0))
                waited = (now - submitted).total_seconds() / 3600.0
                reviews.append(Review(
                    case_id=pk, kind=REVIEW_STATES[status], state=status, status="pending", submitted_at=submitted,
                    reminded_at=submitted + dt.timedelta(hours=24) if waited > 24 else None,
                    escalated_at=submitted + dt.timedelta(hours=48) if waited > 48 else None))
        with transaction.atomic():
            MediationResult.objects.bulk_create(results, batch_size=LOG_BATCH)
            Review.objects.bulk_create(reviews, batch_size=LOG_BATCH)
        n_results += len(results)
        n_reviews += len(reviews)
    with connection.cursor() as cur:
        cur.execute("SET synchronous_commit TO DEFAULT")
    return {"loaded_results": n_results, "loaded_reviews": n_reviews, "seconds": time.perf_counter() - t0,
            "skipped": n_results + n_reviews == 0}


# --- notices -------------------------------------------------------------------------------------
NOTICE_KINDS = [("review", "待审核：{}"), ("overdue", "超期提醒：{}"), ("remind", "催办：{}"),
                ("warning", "预警：{}"), ("result", "审核结果：{}")]


def load_notices(now: dt.datetime, seed: int = 20261128) -> dict:
    """NOTICES_UNREAD unread and NOTICES_READ read notices for each measured user, about cases in
    their scope, over the last 90 days; tops up what is missing."""
    from accounts.models import User
    from accounts.scope import scope_queryset
    from cases.models import Case
    from notices.models import Notice

    t0 = time.perf_counter()
    created = 0
    for username in MEASURED_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        have = Notice.objects.filter(recipient=user, title__startswith=NOTICE_MARK)
        unread = have.filter(read_at__isnull=True).count()
        read = have.count() - unread
        if unread >= NOTICES_UNREAD and read >= NOTICES_READ:
            continue
        rng = random.Random(seed + user.pk)
        cases = list(scope_queryset(user, Case.objects.filter(exchange_id__startswith=EXCHANGE_PREFIX))
                     .exclude(status__in=("registered", "mediated", "archived", "dispatched"))
                     .order_by("-registered_at").values_list("id", "title")[:2000])
        notices = []
        for i in range(max(NOTICES_UNREAD - unread, 0) + max(NOTICES_READ - read, 0)):
            is_unread = i < NOTICES_UNREAD - unread
            kind, title = rng.choice(NOTICE_KINDS)
            case_id, case_title = rng.choice(cases) if cases else (None, "")
            when = now - dt.timedelta(seconds=rng.uniform(0, 90 * 86400))
            notices.append(Notice(recipient=user, kind=kind, title=NOTICE_MARK + title.format(case_title)[:150],
                                  body="请及时处理。", case_id=case_id, created_at=when,
                                  read_at=None if is_unread else min(when + dt.timedelta(hours=rng.uniform(1, 48)), now)))
        Notice.objects.bulk_create(notices, batch_size=LOG_BATCH)
        created += len(notices)
    return {"loaded_notices": created, "seconds": time.perf_counter() - t0, "skipped": created == 0}


def load_workload(per_case: int) -> dict:
    """Every step above, in order; prints progress. Returns timings and counts."""
    from django.utils import timezone

    now = timezone.now()
    out = {}
    for name, step in (("shape", lambda: shape_cases(now)), ("logs", lambda: load_logs(per_case, now)),
                       ("handling", lambda: load_handling(now)), ("notices", lambda: load_notices(now))):
        r = step()
        out[name] = r
        what = ", ".join(f"{k[7:] if k.startswith('loaded_') else k} {v:,}" for k, v in r.items()
                         if k.startswith(("loaded_", "updated")))
        print(f"  {name}: {'nothing to do (already loaded)' if r['skipped'] else what} {r['seconds']:.1f}s, "
              f"peak RSS {peak_rss_mb():.0f} MB", flush=True)
    out["seconds"] = sum(r["seconds"] for r in out.values() if isinstance(r, dict))
    return out


def workload_counts() -> dict:
    """What the screens see (exact counts; a few hundred ms on 1M rows)."""
    from django.db.models import Count, Q
    from django.utils import timezone

    from cases.models import Case, MediationLog, MediationResult, Review
    from cases.states import closed_states
    from notices.models import Notice

    now = timezone.now()
    by_status = dict(Case.objects.values_list("status").annotate(n=Count("pk")).order_by())
    hubin = community().path
    return {
        "cases": sum(by_status.values()), "by_status": by_status,
        "logs": MediationLog.objects.count(), "results": MediationResult.objects.count(),
        "reviews_pending": Review.objects.filter(status="pending").count(),
        "reviews_total": Review.objects.count(),
        "overdue": Case.objects.filter(Q(deadline__lt=now) & ~Q(status__in=closed_states())).count(),
        "community_cases": Case.objects.filter(region_path__startswith=hubin).count(),
        "notices_unread": dict(Notice.objects.filter(read_at__isnull=True, recipient__username__in=MEASURED_USERS)
                               .values_list("recipient__username").annotate(n=Count("pk")).order_by()),
    }


# --- measuring -----------------------------------------------------------------------------------
@dataclass
class Screen:
    key: str
    label: str
    user: str
    url: str
    target: bool = True   # False: information only


def screens(heavy: int | None, typical: int | None) -> list[Screen]:
    out = [
        Screen("f1", "f1 workbench, street admin (one street)", "demo_street", "/admin/"),
        Screen("f2", "f2 workbench, district admin (whole district)", "demo_district", "/admin/"),
        Screen("g1", "g1 H5 list 调解中, community mediator", "demo_mediator", "/h5/?tab=mediating"),
        Screen("g2", "g2 H5 list 登记, community mediator", "demo_mediator", "/h5/?tab=registered"),
        Screen("g3", "g3 H5 list 调解中, district admin", "demo_district", "/h5/?tab=mediating"),
        Screen("g4", "g4 H5 list 登记, district admin", "demo_district", "/h5/?tab=registered"),
    ]
    if heavy:
        out.append(Screen("h1", f"h1 H5 case page, {HEAVY_LOGS} logs, mediator", "demo_mediator", f"/h5/cases/{heavy}/"))
    if typical:
        out.append(Screen("h2", "h2 H5 case page, ordinary case, mediator", "demo_mediator",
                          f"/h5/cases/{typical}/", target=False))
    return out


_LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b")


def repeated_statements(queries: list[dict], at_least: int = 3) -> list[tuple[int, str]]:
    """Statements that differ only in their literals and run ≥ at_least times in one request:
    the signature of N+1 queries."""
    shapes = Counter(_LITERALS.sub("?", q["sql"]) for q in queries if '"django_session"' not in q["sql"])
    return [(n, s) for s, n in shapes.most_common() if n >= at_least]


def page_facts(response) -> dict:
    """What the page shows: the workbench's lists and badges (its context), or the number of
    case rows / log entries in the H5 HTML."""
    ctx = getattr(response, "context_data", None) or {}
    if "indicators" in ctx:
        return {"reviews": len(ctx["reviews"]), "review_count": ctx["review_count"],
                "overdue": len(ctx["overdue"]), "overdue_count": ctx["overdue_count"],
                "notices": len(ctx["notices"]), "notice_count": ctx["notice_count"], "latest": len(ctx["latest"]),
                "indicators": {i.key: f"{i.value} / {i.previous}" for i in ctx["indicators"]}}
    html = response.content.decode("utf-8", "replace")
    return {"case_rows": html.count('class="weui-media-box h5-case"'), "logs": html.count('class="weui-media-box h5-log"'),
            "more": 'data-more' in html}


def capture_screen(bench, client, url: str) -> dict:
    from django.db import connection

    with bench.QueryTimer(connection) as qt:
        response = client.get(url)
    if response.status_code != 200:
        raise SystemExit(f"{url} → HTTP {response.status_code}")
    slowest = max(qt.queries, key=lambda q: q["ms"]) if qt.queries else {"ms": 0, "sql": ""}
    return {"sql_queries": len(qt.queries), "sql_ms": round(sum(q["ms"] for q in qt.queries), 2),
            "queries": qt.queries, "slowest": slowest, "repeated": repeated_statements(qt.queries),
            "facts": page_facts(response)}


def run(bench, args) -> dict:
    """Measure every screen (interleaved rounds, as bench.sample), capture its SQL once, EXPLAIN
    its slowest statement. ``bench`` is the bench module (its helpers)."""
    from django.test import Client

    from accounts.models import User

    heavy = heavy_case_id()
    typical = typical_case_id(heavy)
    rekey_parties([heavy, typical])
    items = screens(heavy, typical)
    clients = {}
    for s in items:
        if s.user not in clients:
            clients[s.user] = Client()
            clients[s.user].force_login(User.objects.get(username=s.user))
    per_key = {s.key: clients[s.user] for s in items}
    urls = {s.key: s.url for s in items}
    print(f"measuring {len(items)} screens ({args.warmup} warm-up + {args.iterations} iterations each) …", flush=True)
    runs = bench.measure(None, urls, args.iterations, args.warmup, clients=per_key)
    caps = {s.key: capture_screen(bench, per_key[s.key], s.url) for s in items}
    plans = {k: bench.explain(c["slowest"]["sql"]) for k, c in caps.items()}
    prof = None
    if args.profile:
        bench.OUT_DIR.mkdir(exist_ok=True)
        prof = {s.key: bench.profile(per_key[s.key], s.url, 20, bench.OUT_DIR / f"screen_profile_{s.key}.txt")
                for s in items}
    return {"screens": items, "runs": runs, "captures": caps, "plans": plans, "heavy": heavy, "typical": typical,
            "profile": prof}


def rows(result: dict, cases_s: str) -> tuple[list[list], bool]:
    fmt = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
    out, all_ok = [], True
    for s in result["screens"]:
        run, cap = result["runs"][s.key], result["captures"][s.key]
        if s.target:
            ok = run["median_ms"] < SCREEN_TARGET_MS
            all_ok &= ok
            target, verdict = f"median < {SCREEN_TARGET_MS:.0f} ms", fmt(ok)
        else:
            target, verdict = "info", ""
        out.append([s.label, cases_s, s.url, run["median_ms"], run["p95_ms"], run["cpu_median_ms"],
                    cap["sql_queries"], target, verdict])
    return out, all_ok


def report(result: dict) -> list[str]:
    """The lines printed under the table: what each page showed, its slowest statement, N+1
    signs, and the plan of the slowest statement of all."""
    lines = ["screens (SQL of one warm request; facts = what the page showed):"]
    for s in result["screens"]:
        cap = result["captures"][s.key]
        facts = ", ".join(f"{k} {v}" for k, v in cap["facts"].items())
        lines.append(f"  {s.key} {s.user:<14} {cap['sql_queries']:>3} statements, {cap['sql_ms']:>7.2f} ms in the "
                     f"database; slowest {cap['slowest']['ms']:.2f} ms; {facts}")
        lines.append(f"      slowest: {cap['slowest']['sql'][:220]}")
        for n, shape in cap["repeated"]:
            lines.append(f"      REPEATED {n}× (N+1?): {shape[:200]}")
    caps = result["captures"]
    if "h1" in caps and "h2" in caps:
        a, b = caps["h1"]["sql_queries"], caps["h2"]["sql_queries"]
        lines.append(f"  case page: {caps['h1']['facts'].get('logs')} logs → {a} statements, "
                     f"{caps['h2']['facts'].get('logs')} logs → {b} statements: "
                     f"{'no N+1 over logs' if a == b else 'GROWS WITH LOGS (N+1)'}")
    worst = max(result["screens"], key=lambda s: caps[s.key]["slowest"]["ms"])
    lines.append(f"slowest statement of all screens ({worst.key}, {caps[worst.key]['slowest']['ms']:.2f} ms) — "
                 f"EXPLAIN (ANALYZE, BUFFERS):")
    lines += ["    " + p for p in result["plans"][worst.key]]
    for key, p in (result["profile"] or {}).items():
        lines.append(f"profile {key}: 20 requests {p['total_s']}s under cProfile → {p['file']}")
    return lines


def to_json(result: dict) -> dict:
    return {
        "heavy_case": result["heavy"], "typical_case": result["typical"], "target_median_ms": SCREEN_TARGET_MS,
        "runs": {s.key: {**result["runs"][s.key], "label": s.label, "user": s.user, "url": s.url,
                         "target": s.target, "sql_queries": result["captures"][s.key]["sql_queries"],
                         "sql_ms": result["captures"][s.key]["sql_ms"], "facts": result["captures"][s.key]["facts"],
                         "repeated_statements": result["captures"][s.key]["repeated"],
                         "sql": result["captures"][s.key]["queries"],
                         "slowest": result["captures"][s.key]["slowest"], "explain": result["plans"][s.key]}
                 for s in result["screens"]},
        "profile": result["profile"],
    }
