"""Escalation-warning benchmark (make bench): the daily re-evaluation of every case and person.

Requirement (issue 5, M-7.2/M-7.3, helper brief): with 200,000 cases (and their parties) on
PostgreSQL, the daily job ``extensions.escalation.tasks.evaluate_daily`` — person links, facts,
rules, current colours, history and the 预警名单 — finishes well inside its daily slot; targets
here: the first run (every colour new) ≤ 30 min, a steady-state rerun ≤ 15 min, and the
re-evaluation of one changed case (what the ``records_changed`` hook does after a save: an edit,
and a party that turns out to be another person) ≤ 100 ms median.

    .venv/bin/python tests/perf/bench_escalation.py [--cases 200000] [--probes 50]

Database: BENCH_ESCALATION_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/mdtj_bench_escalation
(created and migrated when missing; cases are bulk-loaded once with tests/perf/bench.py's loader,
reruns reuse them; the warning tables are emptied at the start). Throw-away database only.
The table is printed and written to bench-output/escalation_bench.json; exit status 0 only when
every target passes.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
PERF_DIR = Path(__file__).resolve().parent
OUT_DIR = BASE_DIR / "bench-output"
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mdtj_bench_escalation"
TARGET_FIRST_S = 30 * 60
TARGET_DAILY_S = 15 * 60
TARGET_ONE_MS = 100.0


def prepare_environment() -> str:
    sys.path.insert(0, str(BASE_DIR / "platform"))
    sys.path.insert(0, str(BASE_DIR))
    sys.path.insert(0, str(PERF_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["SECRET_KEY"] = os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40)
    os.environ["SM4_KEY"] = os.environ.get("SM4_KEY") or "0123456789abcdef0123456789abcdef"
    os.environ["AUDIT_HMAC_KEY"] = os.environ.get("AUDIT_HMAC_KEY") or secrets.token_hex(32)
    os.environ["BLIND_INDEX_KEY"] = os.environ.get("BLIND_INDEX_KEY") or "ab" * 32
    os.environ["DEBUG"] = "0"
    url = os.environ.get("BENCH_ESCALATION_DATABASE_URL") or DEFAULT_DB_URL
    os.environ["DATABASE_URL"] = url
    return url


def probe_hook(n: int) -> tuple[list[float], list[float]]:
    """What the ``records_changed`` hook costs after a save of one case, in ms:
    - an edit (the description changes: its colour and its own people are re-evaluated);
    - a party that turns out to be another person (takes the ID number and phone of a party of
      another case): the links move, so the open cases of both people are re-evaluated too.
    The change itself is written untimed with the escalation subscriber detached (the duplicate
    model's subscriber runs as after a real save); the moved party is put back afterwards."""
    import random

    from django.db.models import F, Value
    from django.db.models.functions import Concat

    from cases.models import Case, Party
    from extensions.escalation import subscribers
    from lowcode import hooks

    rng = random.Random(20261126)
    last = Case.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    pks = []
    while len(pks) < n:  # random cases without ORDER BY random() over the whole table
        pk = rng.randint(1, last)
        if Case.objects.filter(pk=pk).exists() and pk not in pks:
            pks.append(pk)
    edit, moved = [], []
    for i, pk in enumerate(pks):
        Case.objects.filter(pk=pk).update(description=Concat(F("description"), Value("。")))
        t = time.perf_counter()
        subscribers.records_changed(kind="case", ids=[pk])
        edit.append((time.perf_counter() - t) * 1000)

        p = Party.objects.filter(case=pk).order_by("pk").first()
        donor = Party.objects.filter(case=pks[(i + 1) % len(pks)]).order_by("pk").first()
        if p is None or donor is None:
            continue
        before = (p.name, p.id_number, p.phone)
        hooks.unsubscribe("records_changed", subscribers.records_changed)
        try:
            p.name, p.id_number, p.phone = donor.name, donor.id_number, donor.phone
            p.save()
        finally:
            hooks.subscribe("records_changed", subscribers.records_changed)
        t = time.perf_counter()
        subscribers.records_changed(kind="case", ids=[pk])
        moved.append((time.perf_counter() - t) * 1000)
        p.name, p.id_number, p.phone = before
        p.save()  # hooks attached: puts colours and the list back (untimed)
    return edit, moved


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--probes", type=int, default=50)
    args = parser.parse_args()

    url = prepare_environment()
    import bench  # tests/perf/bench.py: database creation, world and bulk case loader

    bench.ensure_postgres_database(url)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    bench.load_world("Bench@escalation-2026")
    print(f"loading up to {args.cases:,} cases …", flush=True)
    bench.load_cases(args.cases, party_fraction=1.0)
    bench.analyze()

    from django.db import connection
    from django.db.models import Count

    from cases.models import Case, Party
    from extensions.escalation.models import CaseWarning, PartyWarning, PersonCase, WarningEvent
    from extensions.escalation.tasks import evaluate_daily

    with connection.cursor() as cur:
        for model in (WarningEvent, CaseWarning, PartyWarning, PersonCase):
            cur.execute(f"TRUNCATE {model._meta.db_table}")
    n_cases, n_parties = Case.objects.count(), Party.objects.count()
    print(f"{n_cases:,} cases, {n_parties:,} parties", flush=True)

    t0 = time.perf_counter()
    first = evaluate_daily()
    first_s = time.perf_counter() - t0
    print(f"first run {first_s:,.0f} s {first}", flush=True)
    t0 = time.perf_counter()
    daily = evaluate_daily()
    daily_s = time.perf_counter() - t0
    print(f"rerun {daily_s:,.0f} s {daily}", flush=True)

    one_ms, moved_ms = probe_hook(args.probes)
    one_ms_median, moved_ms_median = statistics.median(one_ms), statistics.median(moved_ms)

    levels = dict(CaseWarning.objects.values_list("level").annotate(n=Count("pk")).values_list("level", "n"))
    listed = PartyWarning.objects.count()
    rows = [
        ["daily run, first (all colours new)", f"{n_cases:,} cases", f"{first_s:,.0f} s", f"≤ {TARGET_FIRST_S // 60} min",
         "PASS" if first_s <= TARGET_FIRST_S else "FAIL"],
        ["daily run, rerun", f"{n_cases:,} cases", f"{daily_s:,.0f} s", f"≤ {TARGET_DAILY_S // 60} min",
         "PASS" if daily_s <= TARGET_DAILY_S else "FAIL"],
        ["one changed case (hook), median", f"{len(one_ms)} probes", f"{one_ms_median:.1f} ms",
         f"≤ {TARGET_ONE_MS:.0f} ms", "PASS" if one_ms_median <= TARGET_ONE_MS else "FAIL"],
        ["… a party moved to another person, median", f"{len(moved_ms)} probes", f"{moved_ms_median:.1f} ms",
         f"≤ {TARGET_ONE_MS:.0f} ms", "PASS" if moved_ms_median <= TARGET_ONE_MS else "FAIL"],
    ]
    header = ["escalation", "data", "measured", "target", "result"]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths)))
    for r in rows:
        print(" | ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print(f"colours: {levels}; 预警名单 {listed:,} people; peak RSS {bench.peak_rss_mb():.0f} MB; "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    OUT_DIR.mkdir(exist_ok=True)
    (OUT_DIR / "escalation_bench.json").write_text(json.dumps({
        "cases": n_cases, "parties": n_parties, "first_s": first_s, "first": first, "rerun_s": daily_s,
        "rerun": daily, "one_case_ms_median": one_ms_median,
        "one_case_ms": [round(x, 1) for x in one_ms], "party_moved_ms_median": moved_ms_median,
        "party_moved_ms": [round(x, 1) for x in moved_ms], "load_average": os.getloadavg(), "colours": levels, "party_list": listed,
        "peak_rss_mb": bench.peak_rss_mb()}, ensure_ascii=False, indent=2))
    return 0 if all(r[-1] == "PASS" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
