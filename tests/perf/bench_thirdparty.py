"""Third-party end benchmark (make bench, after the others).

Requirement (issue 6): with 10,000 dispatch orders and 200 third-party organisations on
PostgreSQL, the bid pool (竞单中心) and the third-party case list (调解中心) render in a median
under 200 ms.

    .venv/bin/python tests/perf/bench_thirdparty.py [--orders 10000] [--orgs 200] [--iterations 30]

Data (loaded once, reused by later runs): 200 organisations of kind 第三方调解组织 (the demo
和合商事调解中心 among them), one mediator each; 10,000 orders on as many cases spread over the demo
communities — 20 % open and 报名中, 5 % 未开始, 10 % 已截止, the rest awarded (已选定/调解中/已完成) or
withdrawn, awards spread over the organisations; 1–4 sign-ups per order (so ~25,000 bids), and the
guardian grant rows of every award. The measured users are demo_tp_admin and demo_tp_mediator
(和合商事调解中心); requests go through django.test.Client with the full middleware stack.

Database: BENCH_TP_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/mdtj_bench_tp (created
when missing; a throw-away database). The table is printed and written to
bench-output/thirdparty_bench.json; the exit status is 0 only when every target passes."""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
OUT_DIR = BASE_DIR / "bench-output"
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mdtj_bench_tp"
TARGET_MS = 200.0
MARK = "TPB"          # exchange-id prefix of the bench cases
OWN_ORG = "和合商事调解中心"
SEED = 6_060_006


def prepare_environment() -> str:
    """Django settings from the environment (throw-away keys, no DEBUG query log) and the
    PostgreSQL database, created when missing."""
    from urllib.parse import unquote, urlparse

    sys.path[:0] = [str(BASE_DIR / "platform"), str(BASE_DIR)]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    for name, make in (("SECRET_KEY", lambda: secrets.token_urlsafe(40)), ("SM4_KEY", lambda: secrets.token_hex(16)),
                       ("BLIND_INDEX_KEY", lambda: secrets.token_hex(32)), ("AUDIT_HMAC_KEY", lambda: secrets.token_hex(32))):
        os.environ[name] = os.environ.get(name) or make()
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("CONN_MAX_AGE", "3600")
    url = os.environ.get("BENCH_TP_DATABASE_URL") or DEFAULT_DB_URL
    os.environ["DATABASE_URL"] = url
    u = urlparse(url)
    if u.scheme not in ("postgres", "postgresql", "pgsql"):
        raise SystemExit(f"bench_thirdparty needs PostgreSQL, not {u.scheme}")
    import psycopg
    from psycopg import sql

    name = unquote(u.path.lstrip("/"))
    kwargs = dict(host=u.hostname or "127.0.0.1", port=u.port or 5432, user=unquote(u.username or "postgres"),
                  dbname="postgres", autocommit=True)
    if u.password:
        kwargs["password"] = unquote(u.password)
    with psycopg.connect(**kwargs) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url


def load(n_orders: int, n_orgs: int) -> dict:
    """Orgs, mediators, cases, orders, bids, vouchers and grants (bulk; skipped when present)."""
    from django.contrib.auth.models import Group, Permission
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone

    from accounts.models import User
    from cases.models import Case
    from demo import seeding
    from dispatch import grants
    from dispatch.models import Bid, CaseGroupObjectPermission, DispatchOrder, Voucher
    from lowcode import registry, serialization
    from lowcode.apps import ENGINE_KINDS
    from orgs.models import Organization, Region

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    serialization.load_metadata(ENGINE_KINDS)
    registry.clear_cache()
    regions = seeding.ensure_regions()
    seeding.ensure_organizations(regions)
    seeding.ensure_users(secrets.token_urlsafe(12) + "Aa1!")
    have = DispatchOrder.objects.filter(case__exchange_id__startswith=MARK).count()
    if have >= n_orders:
        return {"loaded": False, "seconds": time.perf_counter() - t0, "orders": have}

    rng = random.Random(SEED)
    district = Region.objects.get(level=1)
    mediator_role = Group.objects.get(name="第三方调解员")
    orgs = list(Organization.objects.filter(kind="third").order_by("pk"))
    with transaction.atomic():
        for i in range(len(orgs), n_orgs):
            orgs.append(Organization.objects.create(name=f"压测调解组织{i:03d}", kind="third", region=district))
        mediators = {}
        for org in orgs:
            m = User.objects.filter(organization=org, groups=mediator_role).first()
            if m is None:
                m = User.objects.create_user(f"tpbench{org.pk}", password=None, display_name=f"{org.name}调解员",
                                             organization=org, is_staff=True)
                m.groups.add(mediator_role)
            mediators[org.pk] = m
    communities = list(Region.objects.filter(level__gte=3))
    types = ["contract", "labor_wage", "property_mgmt", "neighbor", "consumer", "traffic", "housing"]
    now = timezone.now()
    staff = User.objects.get(username="demo_district")
    view_case = Permission.objects.get(codename="view_case", content_type__app_label="cases")
    change_case = Permission.objects.get(codename="change_case", content_type__app_label="cases")
    batch = 2000
    for start in range(have, n_orders, batch):
        size = min(batch, n_orders - start)
        with transaction.atomic():
            cases = []
            for k in range(start, start + size):
                region = rng.choice(communities)
                cases.append(Case(exchange_id=f"{MARK}{k:07d}", title=f"压测发单纠纷{k}（{rng.choice(['合同', '欠薪', '物业', '邻里'])}）",
                                  description="某甲与某乙因款项发生争议，请第三方调解。", case_type=rng.choice(types),
                                  region=region, region_path=region.path, status="dispatched", registered_at=now))
            Case.objects.bulk_create(cases)
            cases = list(Case.objects.filter(exchange_id__in=[c.exchange_id for c in cases]).order_by("pk"))
            orders, plans = [], []
            for k, case in zip(range(start, start + size), cases):
                x = rng.random()
                created = now - dt.timedelta(days=rng.randint(0, 300))
                if x < 0.20:
                    state, s0, s1 = "open", now - dt.timedelta(hours=6), now + dt.timedelta(days=rng.randint(1, 5))
                elif x < 0.25:
                    state, s0, s1 = "open", now + dt.timedelta(days=1), now + dt.timedelta(days=4)
                elif x < 0.35:
                    state, s0, s1 = "open", created, created + dt.timedelta(days=3)
                else:
                    state = rng.choices(["awarded", "mediating", "completed", "withdrawn"], [5, 25, 60, 10])[0]
                    s0, s1 = created, created + dt.timedelta(days=3)
                o = DispatchOrder(number=f"FDB{k:09d}", case=case, region_id=case.region_id, region_path=case.region_path,
                                  case_type=case.case_type, title=case.title, description=case.description,
                                  expected_fee=rng.choice([None, 1000, 2000, 3000, 5000]),
                                  mediation_deadline=(s1 + dt.timedelta(days=30)).date(), signup_start=s0, signup_end=s1,
                                  state=state,
                                  created_by=staff, created_at=created)
                if s1 > now:  # not started / bidding
                    o.state = "open"
                orders.append(o)
                bidders = rng.sample(orgs, rng.randint(1, 4))
                plans.append(bidders)
            DispatchOrder.objects.bulk_create(orders)
            orders = list(DispatchOrder.objects.filter(number__in=[o.number for o in orders]).order_by("pk"))
            bids = []
            for o, bidders in zip(orders, plans):
                for org in bidders:
                    bids.append(Bid(order=o, organization=org, mediator=mediators[org.pk], plan="压测方案",
                                    created_at=o.signup_start + dt.timedelta(hours=1), status="active"))
            Bid.objects.bulk_create(bids)
            awarded = [o for o in orders if o.state in ("awarded", "mediating", "completed", "withdrawn")]
            first_bid = {}
            for b in Bid.objects.filter(order__in=awarded).order_by("pk"):
                first_bid.setdefault(b.order_id, b)
            vouchers, perms = [], []
            for o in awarded:
                b = first_bid[o.pk]
                at = o.signup_end + dt.timedelta(hours=2)
                DispatchOrder.objects.filter(pk=o.pk).update(
                    awarded_bid=b, awarded_org_id=b.organization_id, awarded_at=at, awarded_by=staff,
                    completed_at=at + dt.timedelta(days=10) if o.state == "completed" else None,
                    withdrawn_at=at + dt.timedelta(days=1) if o.state == "withdrawn" else None)
                vouchers.append(Voucher(number=f"PZB{o.number[3:]}", order=o, bid=b, organization_id=b.organization_id,
                                        mediator_id=b.mediator_id, issued_at=at, issued_by=staff, digest="0" * 64,
                                        confirmed_at=at if o.state in ("mediating", "completed") else None,
                                        revoked_at=at if o.state == "withdrawn" else None))
                if o.state != "withdrawn":
                    group = grants.org_group(b.organization)
                    perms += [CaseGroupObjectPermission(group=group, permission=p, content_object_id=o.case_id)
                              for p in (view_case, change_case)]
            Voucher.objects.bulk_create(vouchers)
            CaseGroupObjectPermission.objects.bulk_create(perms, ignore_conflicts=True)
            Bid.objects.filter(order__in=awarded).exclude(pk__in=[b.pk for b in first_bid.values()]).update(status="lost")
            Bid.objects.filter(pk__in=[b.pk for b in first_bid.values()]).update(status="won")
        print(f"  loaded {start + size:,} / {n_orders:,} orders", flush=True)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    return {"loaded": True, "seconds": time.perf_counter() - t0,
            "orders": DispatchOrder.objects.filter(case__exchange_id__startswith=MARK).count()}


def measure(iterations: int) -> list[dict]:
    from django.test import Client

    from accounts.models import User

    screens = [
        ("竞单中心 PC（组织管理员）", "demo_tp_admin", "/tp/pool/", True),
        ("竞单中心 PC 组合查询", "demo_tp_admin", "/tp/pool/?q=合同&phase=bidding&fee_min=1000", True),
        ("竞单中心 H5（调解员）", "demo_tp_mediator", "/tp/m/", True),
        ("调解中心 PC 案件列表", "demo_tp_admin", "/tp/cases/", True),
        ("调解中心 PC 组合查询", "demo_tp_admin", "/tp/cases/?phase=completed&q=合同", True),
        ("调解中心 H5 案件列表", "demo_tp_mediator", "/tp/m/cases/", True),
        ("报名记录 PC", "demo_tp_admin", "/tp/bids/", False),
        ("调解分析 PC", "demo_tp_admin", "/tp/analysis/", False),
    ]
    rows = []
    for label, username, url, targeted in screens:
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(User.objects.get(username=username))
        first = client.get(url)
        if first.status_code != 200:
            raise SystemExit(f"{url} as {username}: HTTP {first.status_code}")
        times = []
        for _ in range(iterations):
            t = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200
        med = statistics.median(times)
        rows.append({"screen": label, "user": username, "url": url, "median_ms": round(med, 1),
                     "p95_ms": round(sorted(times)[int(len(times) * 0.95) - 1], 1), "target_ms": TARGET_MS if targeted else None,
                     "ok": (med < TARGET_MS) if targeted else True, "bytes": len(first.content)})
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--orgs", type=int, default=200)
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()
    url = prepare_environment()
    import django

    django.setup()
    from dispatch.models import Bid, DispatchOrder
    from orgs.models import Organization

    print(f"第三方端基准：{url.rsplit('/', 1)[-1]}，加载数据…", flush=True)
    loaded = load(args.orders, args.orgs)
    data = {"orders": DispatchOrder.objects.count(), "orgs": Organization.objects.filter(kind="third").count(),
            "bids": Bid.objects.count(), "open_bidding": DispatchOrder.objects.filter(
                state="open", signup_end__gt=dt.datetime.now(dt.timezone.utc)).count()}
    rows = measure(args.iterations)
    print(f"\n数据：发单 {data['orders']:,}，第三方组织 {data['orgs']}，报名 {data['bids']:,}，"
          f"未截止发单 {data['open_bidding']:,}（加载 {loaded['seconds']:.1f} s）；每个页面 {args.iterations} 次")
    print(f"{'页面':<22}{'URL':<48}{'中位数 ms':>10}{'P95 ms':>9}{'目标':>8}  结果")
    for r in rows:
        target = f"<{r['target_ms']:.0f}" if r["target_ms"] else "—"
        print(f"{r['screen']:<22}{r['url']:<48}{r['median_ms']:>10.1f}{r['p95_ms']:>9.1f}{target:>8}  "
              f"{'通过' if r['ok'] else '未通过'}")
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "thirdparty_bench.json").write_text(json.dumps({"data": data, "load": loaded, "rows": rows},
                                                              ensure_ascii=False, indent=2), encoding="utf-8")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
