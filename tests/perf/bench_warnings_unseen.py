"""Warnings on independent data (issue 19, M-7.2/M-7.3): the held-out generator's reports
(extensions/dedup/evalset2.py — disputes reported by 1–4 channels, wage groups filed worker by
worker, repeat applicants, short 110 records) written into the real case and clue tables
(extensions/dedup/benchdata.store: COPY, as ingest leaves them), the duplicate model rebuilt
(``dedup_rebuild``), then ``evaluate_warnings`` (every case, every person) one week after the
last report. Printed:

- colour distribution of cases and the 预警名单 size;
- group disputes (several workers of one employer) red/orange — target recall ≥ 0.9;
- disputes reported by ≥ 3 channels red/orange — target recall ≥ 0.9;
- single ordinary disputes (one channel, one applicant with no other dispute, no group) green or
  yellow — target ≥ 0.9;
- the person list: share of listed people who had repeated disputes — target ≥ 0.9 — and share
  of the people with two disputes inside the 重复当事人 rule's window (its 近N天, before the
  evaluation moment) that are listed — target ≥ 0.9 (over the whole year, for information).

A dispute's colour is the most severe colour of its case records (disputes reported only on the
event channels have no case and are left out).

    .venv/bin/python tests/perf/bench_warnings_unseen.py [--disputes 3000]

Database: BENCH_WARNINGS_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/mdtj_bench_warnings
(created and migrated when missing; its case, clue, dedup and warning tables are emptied first —
throw-away database only). Exit status 0 only when every target passes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DB_URL = "postgres://postgres@127.0.0.1:5432/mdtj_bench_warnings"


def prepare_environment() -> str:
    sys.path.insert(0, str(BASE_DIR / "platform"))
    sys.path.insert(0, str(BASE_DIR))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    for name, size in (("SECRET_KEY", 40), ("SM4_KEY", 16), ("BLIND_INDEX_KEY", 32), ("AUDIT_HMAC_KEY", 32)):
        if not os.environ.get(name):
            os.environ[name] = secrets.token_urlsafe(size) if name == "SECRET_KEY" else secrets.token_hex(size)
    os.environ["DEBUG"] = "0"
    url = os.environ.get("BENCH_WARNINGS_DATABASE_URL") or DEFAULT_DB_URL
    os.environ["DATABASE_URL"] = url
    return url


def ensure_database(url: str) -> None:
    from urllib.parse import unquote, urlparse

    import psycopg
    from psycopg import sql

    u = urlparse(url)
    name = unquote(u.path.lstrip("/"))
    with psycopg.connect(host=u.hostname or "127.0.0.1", port=u.port or 5432,
                         user=unquote(u.username or "postgres"), dbname="postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def rows_from(recs: list[dict]):
    """evalset2 records → benchdata.store rows (the raw party values as a channel delivers them)."""
    for i, r in enumerate(recs):
        yield {"channel": r["channel"], "n": i, "type": r["case_type"], "when": r["reported_at"], "title": r["title"],
               "text": r["text"], "address": r["address"], "community": r["address"][:4],
               "parties": [p["raw"] for p in r["parties"]], "key": r["key"]}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--disputes", type=int, default=3000)
    args = ap.parse_args()
    url = prepare_environment()
    ensure_database(url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0, interactive=False)
    from cases.models import Case, Party
    from clues.models import Clue, ClueParty, RawRecord
    from demo import seeding
    from extensions.dedup import benchdata, evalset2, rebuild
    from extensions.dedup.models import Block, Pair, Signature
    from extensions.escalation import evaluate
    from extensions.escalation.models import CaseWarning, PartyWarning, PersonCase, WarningEvent, WarningRule
    from lowcode.serialization import load_metadata

    load_metadata()
    seeding.ensure_regions()
    t0 = time.monotonic()
    recs, _, truth = evalset2.generate_with_truth(101, args.disputes)
    tables = [m._meta.db_table for m in (WarningEvent, CaseWarning, PartyWarning, PersonCase, Pair, Block, Signature,
                                         ClueParty, Clue, RawRecord, Party, Case)]
    with connection.cursor() as cur:
        cur.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")
    rows = list(rows_from(recs))
    for _ in benchdata.store(iter(rows), batch=5000):
        pass
    load_s = time.monotonic() - t0
    t = time.monotonic()
    rebuild.rebuild(jobs=1, progress=lambda m: None)
    dedup_s = time.monotonic() - t
    last = max(r["reported_at"] for r in recs)
    t = time.monotonic()
    evaluate.evaluate_all(now=last + dt.timedelta(days=7), notify=False)
    eval_s = time.monotonic() - t

    # truth per stored case (exchange id B<n> ↔ the n-th record)
    key_of_n = {i: r["key"] for i, r in enumerate(rows)}
    reported = {r["key"]: r["reported_at"] for r in recs if r["kind"] == "case"}  # 纠纷数 counts cases
    level_of = {}
    for eid, level in CaseWarning.objects.values_list("case__exchange_id", "level"):
        level_of[key_of_n[int(eid[1:])]] = level
    order = {"red": 0, "orange": 1, "yellow": 2, "green": 3}
    disputes = defaultdict(list)
    channels = defaultdict(set)
    for key, t_ in truth.items():
        disputes[t_["dispute"]].append(key)
        channels[t_["dispute"]].add(key.split(":", 1)[0])
    per_applicant = Counter(truth[keys[0]]["applicant"] for keys in disputes.values())
    colour = {}
    for did, keys in disputes.items():
        levels = [level_of[k] for k in keys if k in level_of]
        if levels:
            colour[did] = min(levels, key=lambda lv: order.get(lv, 9))
    hot = {"red", "orange"}
    groups = [d for d in colour if truth[disputes[d][0]]["group"]]
    multi = [d for d in colour if len(channels[d]) >= 3 and not truth[disputes[d][0]]["group"]]
    single = [d for d in colour if len(channels[d]) == 1 and not truth[disputes[d][0]]["group"]
              and per_applicant[truth[disputes[d][0]]["applicant"]] == 1]

    def share(ds, ok):
        return (sum(1 for d in ds if colour[d] in ok) / len(ds)) if ds else 1.0

    r_group, r_multi, r_single = share(groups, hot), share(multi, hot), share(single, {"green", "yellow"})
    dist = Counter(CaseWarning.objects.values_list("level", flat=True))
    # persons: the listed people (their party rows' generator person) vs people with repeated disputes
    person_of_party = {}
    for pk, eid, idx in Party.objects.values_list("pk", "case__exchange_id", "role"):
        person_of_party[pk] = truth[key_of_n[int(eid[1:])]]["applicant"] if idx == "applicant" else None
    listed = list(PartyWarning.objects.values_list("party_id", "level"))
    listed_people = {person_of_party.get(p) for p, _ in listed} - {None}
    repeated = {a for a, n in per_applicant.items() if n >= 2}
    stored_people = {p for p in person_of_party.values() if p}
    repeated_stored = repeated & stored_people
    precision = len(listed_people & repeated) / len(listed_people) if listed_people else 1.0
    recall = len(listed_people & repeated_stored) / len(repeated_stored) if repeated_stored else 1.0
    # what the 预警名单 can know at this moment: the 重复当事人 rule counts a person's disputes of the
    # last N days (its window) — the people with two disputes filed as cases inside it. Too few
    # of them (< 20) measure nothing: then the target fails as not measurable, never passes empty.
    rule = WarningRule.objects.filter(code="party_repeat", enabled=True).first()
    window = rule.window_days if rule else 30
    now = last + dt.timedelta(days=7)
    recent = defaultdict(set)
    for key, t_ in truth.items():
        if key in reported and now - dt.timedelta(days=window) <= reported[key] <= now:
            recent[t_["applicant"]].add(t_["dispute"])
    repeated_recent = {a for a, ds in recent.items() if len(ds) >= 2}
    recall_recent = len(listed_people & repeated_recent) / len(repeated_recent) if repeated_recent else 0.0
    measurable = len(repeated_recent) >= 20
    ok_list = precision >= 0.9 and recall_recent >= 0.9 and measurable
    n_persons = PersonCase.objects.values("person_key").distinct().count()
    ok = r_group >= 0.9 and r_multi >= 0.9 and r_single >= 0.9 and ok_list
    total = sum(dist.values()) or 1
    print(f"warnings on the held-out generator (evalset2 seed 101, {args.disputes} disputes): {len(recs)} reports "
          f"stored in {load_s:.0f} s, dedup_rebuild {dedup_s:.0f} s, evaluate_warnings {eval_s:.0f} s")
    print("  cases: " + ", ".join(f"{lv} {dist.get(lv, 0)} ({dist.get(lv, 0) / total:.0%})"
                                 for lv in ("red", "orange", "yellow", "green")))
    print(f"  persons: {n_persons} identified, {len(listed)} on the 预警名单 ("
          + ", ".join(f"{lv} {n}" for lv, n in Counter(lv for _, lv in listed).most_common()) + ")")
    print(f"  group disputes red/orange: {r_group:.3f} of {len(groups)} (target ≥ 0.9) {'PASS' if r_group >= 0.9 else 'FAIL'}")
    print(f"  disputes reported by ≥ 3 channels red/orange: {r_multi:.3f} of {len(multi)} (target ≥ 0.9) "
          f"{'PASS' if r_multi >= 0.9 else 'FAIL'}")
    print(f"  single ordinary disputes green/yellow: {r_single:.3f} of {len(single)} (target ≥ 0.9) "
          f"{'PASS' if r_single >= 0.9 else 'FAIL'}")
    print(f"  person list: {precision:.3f} of the {len(listed_people)} listed people had repeated disputes (target ≥ 0.9); "
          f"{recall_recent:.3f} of the {len(repeated_recent)} people with two disputes (as cases) in the rule's last {window} "
          f"days are listed (target ≥ 0.9{'' if measurable else ', not measurable with fewer than 20'}) "
          f"{'PASS' if ok_list else 'FAIL'}; over the whole year {recall:.3f} of {len(repeated_stored)} people with "
          f"repeated disputes are listed (not judged: the rule counts the last {window} days)")
    top = Counter(r for rs in CaseWarning.objects.exclude(rule="").values_list("rule", flat=True) for r in [rs])
    print("  deciding rules: " + ", ".join(f"{k} {v}" for k, v in top.most_common(6)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
