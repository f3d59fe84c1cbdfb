"""Keeping the rollups (analysis.models) equal to the live cases.

A bucket is one local day of one region. ``refresh(buckets)`` recounts every rollup row of those
buckets (the day rows, the help requests of the bucket's cases, their parties' blind indexes) from
the live tables (idempotent: whatever wrote the cases, a refresh makes the bucket
right). Who calls it:

- ``records_changed`` / ``records_ingested`` hooks (kind "case": any save of a case or of a party,
  the status transitions done by ``update()``, an ingest chunk): the cases' current buckets;
- ``pre_save``/``post_save`` of Case: a case moved to another region or registration day also
  refreshes the bucket it left; ``post_delete``: the bucket of the deleted case;
- ``manage.py analysis_rebuild``: everything, month by month (after bulk loads that bypass both).

Each refresh ends with the monthly twins of the months it touched: one (month, region) is
re-derived from that month's day rows of the region (``refresh_months``), so the monthly tables
are never counted from the cases themselves and cannot drift from the daily ones.
"""
from __future__ import annotations

import datetime as dt
import logging
from collections import Counter

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from analysis import datacache
from analysis.derive import age_band
from analysis.models import (CaseDaily, CaseMonthly, HelpDaily, PartyDaily, PartyMonthly, PartyRef, TagDaily,
                             TagMonthly)
from analysis.periods import month_start, next_month

logger = logging.getLogger(__name__)
CASE_DIMS = ("case_type", "mediation_type", "source", "status", "level")


def local_day(when: dt.datetime) -> dt.date:
    return timezone.localtime(when).date() if timezone.is_aware(when) else when.date()


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
    return start, timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


def buckets_of(case_ids) -> set[tuple[dt.date, int]]:
    from cases.models import Case

    ids = list(case_ids)
    out = set()
    for i in range(0, len(ids), 5000):
        for when, region_id in Case.objects.filter(pk__in=ids[i:i + 5000]).values_list("registered_at", "region_id"):
            out.add((local_day(when), region_id))
    return out


def refresh(buckets) -> None:
    buckets = sorted(set(buckets), key=lambda b: (b[0], b[1]))
    for day, region_id in buckets:
        for attempt in range(2):
            try:
                _refresh_one(day, region_id)
                break
            except IntegrityError:  # pragma: no cover — a concurrent refresh of the same bucket
                if attempt:
                    raise
    refresh_months({(month_start(day), region_id) for day, region_id in buckets})


# (daily, monthly, the columns a row is keyed by besides day/month and region, the summed ones)
MONTHLY = (
    (CaseDaily, CaseMonthly, ("region_path", "case_type", "mediation_type", "source", "status", "level", "outcome",
                              "days_band"), ("n", "days_sum", "on_time")),
    (TagDaily, TagMonthly, ("region_path", "tag"), ("n",)),
    (PartyDaily, PartyMonthly, ("region_path", "party_kind", "age_band", "sex"), ("n",)),
)


def refresh_months(buckets) -> None:
    """Re-derive the monthly rows of each (month, region) — region None: every region of the
    month — from the day rows of that month."""
    for month, region_id in sorted(set(buckets), key=lambda b: (b[0], b[1] or 0)):
        _refresh_month(month, region_id)
    datacache.bump()  # figures cached from the rollups are recounted


def _refresh_month(month: dt.date, region_id: int | None) -> None:
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:  # one writer per monthly bucket (negative: not a day's key)
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [-month.toordinal(), region_id or 0])
        for daily, monthly, keys, sums in MONTHLY:
            days = daily.objects.filter(day__gte=month, day__lt=next_month(month))
            rows = monthly.objects.filter(month=month)
            if region_id is not None:
                days, rows = days.filter(region_id=region_id), rows.filter(region_id=region_id)
            rows.delete()
            grouped = days.order_by().values("region_id", *keys).annotate(**{f"_{s}": Sum(s) for s in sums})
            monthly.objects.bulk_create(
                (monthly(month=month, **{k: g[k] for k in ("region_id", *keys)}, **{s: g[f"_{s}"] for s in sums})
                 for g in grouped.iterator(chunk_size=5000)), batch_size=5000)


DAYS_BANDS = [(3, "3天以内"), (7, "4-7天"), (15, "8-15天"), (30, "16-30天"), (None, "30天以上")]
CASE_FIELDS = ("registered_at", "region_id", "region_path", *CASE_DIMS, "tags", "deadline",
               "result__outcome", "result__submitted_at")


def days_band(days: float) -> str:
    return next(label for bound, label in DAYS_BANDS if bound is None or days <= bound)


def _aggregate(rows, cases: dict, tags: Counter) -> None:
    """Fold live case rows (CASE_FIELDS) into CaseDaily keys and tag counts."""
    for when, region_id, path, ctype, mtype, source, status, level, ts, deadline, outcome, submitted in rows:
        day = local_day(when)
        days, band, on_time = 0.0, "", 0
        if outcome is not None and submitted is not None:
            days = max((submitted - when).total_seconds() / 86400.0, 0.0)
            band = days_band(days)
            on_time = int(deadline is None or submitted <= deadline)
        key = (day, region_id, path, ctype, mtype or "", source, status, level, outcome or "", band)
        agg = cases.get(key)
        if agg is None:
            cases[key] = [1, days, on_time]
        else:
            agg[0] += 1
            agg[1] += days
            agg[2] += on_time
        for t in ts or []:
            if isinstance(t, str):
                tags[(day, region_id, path, t[:64])] += 1


def _write(cases: dict, tags: Counter, parties) -> tuple[int, int, int]:
    CaseDaily.objects.bulk_create(
        (CaseDaily(day=d, region_id=r, region_path=p, case_type=ct, mediation_type=mt, source=so, status=st,
                   level=lv, outcome=oc, days_band=db, n=n, days_sum=ds, on_time=ot)
         for (d, r, p, ct, mt, so, st, lv, oc, db), (n, ds, ot) in cases.items()), batch_size=5000)
    TagDaily.objects.bulk_create((TagDaily(day=d, region_id=r, region_path=p, tag=t, n=n)
                                  for (d, r, p, t), n in tags.items()), batch_size=5000)
    groups = Counter()
    for day, region_id, path, kind, birth, sex, n in parties:
        groups[(day, region_id, path, kind, age_band(birth, day.year), sex)] += n
    PartyDaily.objects.bulk_create(
        (PartyDaily(day=d, region_id=r, region_path=p, party_kind=k, age_band=a, sex=s, n=n)
         for (d, r, p, k, a, s), n in groups.items()), batch_size=5000)
    return len(cases), len(tags), len(groups)


REVIEW_OF_HELP = {"escalate": "escalation", "dispatch": "dispatch"}  # HelpRequest.kind → Review.kind


def _write_help(cases_qs) -> None:
    """HelpDaily rows of the help requests of ``cases_qs``; each case's reviews of a kind are
    counted once, on its latest request of that kind."""
    from cases.models import HelpRequest, Review

    reqs = list(HelpRequest.objects.filter(case__in=cases_qs).order_by("requested_at", "pk").values_list(
        "case_id", "kind", "requested_at", "case__registered_at", "case__region_id", "case__region_path",
        "case__case_type", "case__result__outcome"))
    if not reqs:
        return
    decisions = {}  # (case_id, review kind) → [decided, approved, waited, hours]
    for case_id, kind, status, submitted, decided in Review.objects.filter(
            case__in=cases_qs, kind__in=REVIEW_OF_HELP.values()).exclude(status="pending").values_list(
            "case_id", "kind", "status", "submitted_at", "decided_at"):
        d = decisions.setdefault((case_id, kind), [0, 0, 0, 0.0])
        d[0] += 1
        d[1] += status == "approve"
        if decided:
            d[2] += 1
            d[3] += (decided - submitted).total_seconds() / 3600
    latest = {(r[0], r[1]): i for i, r in enumerate(reqs)}  # ordered by time: the last one wins
    rows: dict[tuple, list] = {}
    for i, (case_id, kind, at, registered, region_id, path, ctype, outcome) in enumerate(reqs):
        key = (local_day(at), local_day(registered), region_id, path, kind, ctype, outcome or "")
        acc = rows.setdefault(key, [0, 0, 0, 0, 0.0])
        acc[0] += 1
        if latest[(case_id, kind)] == i:
            for j, v in enumerate(decisions.get((case_id, REVIEW_OF_HELP.get(kind, kind)), ())):
                acc[j + 1] += v
    HelpDaily.objects.bulk_create(
        (HelpDaily(day=d, case_day=cd, region_id=r, region_path=p, kind=k, case_type=ct, outcome=oc, n=n,
                   decided=dc, approved=ap, waited=w, wait_hours=h)
         for (d, cd, r, p, k, ct, oc), (n, dc, ap, w, h) in rows.items()), batch_size=5000)


def _write_refs(cases_qs) -> None:
    from cases.models import Party

    refs = Party.objects.filter(case__in=cases_qs).exclude(id_number_bidx="").order_by().values_list(
        "id_number_bidx", "case_id", "case__registered_at", "case__region_id", "case__region_path")
    PartyRef.objects.bulk_create((PartyRef(bidx=b, case_id=c, day=local_day(at), region_id=r, region_path=p)
                                  for b, c, at, r, p in refs.iterator(chunk_size=5000)), batch_size=5000)


def _party_rows(cases_qs, day=None):
    from cases.models import Party

    qs = Party.objects.filter(case__in=cases_qs).order_by()
    if day is not None:
        return [(day, r, p, k, b, s, n) for r, p, k, b, s, n in qs.values_list(
            "case__region_id", "case__region_path", "party_kind", "birth_year", "sex").annotate(n=Count("id"))]
    return list(qs.annotate(day=TruncDate("case__registered_at")).values_list(
        "day", "case__region_id", "case__region_path", "party_kind", "birth_year", "sex").annotate(n=Count("id")))


def _refresh_one(day: dt.date, region_id: int) -> None:
    from cases.models import Case

    start, end = day_bounds(day)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:  # one writer per bucket at a time
                cur.execute("SELECT pg_advisory_xact_lock(%s, %s)", [day.toordinal(), region_id])
        for model in (CaseDaily, TagDaily, PartyDaily, PartyRef):
            model.objects.filter(region_id=region_id, day=day).delete()
        HelpDaily.objects.filter(region_id=region_id, case_day=day).delete()
        cases_qs = Case.objects.filter(region_id=region_id, registered_at__gte=start, registered_at__lt=end)
        cases, tags = {}, Counter()
        _aggregate(cases_qs.order_by().values_list(*CASE_FIELDS), cases, tags)
        _write(cases, tags, _party_rows(cases_qs, day) if cases else [])
        if cases:
            _write_help(cases_qs)
            _write_refs(cases_qs)


def rebuild(progress=None) -> dict:
    """Recount every rollup from the live tables, one month at a time."""
    from cases.models import Case

    counts = {"case_rows": 0, "tag_rows": 0, "party_rows": 0}
    span = Case.objects.order_by().values_list("registered_at", flat=True)
    first, last = span.order_by("registered_at").first(), span.order_by("-registered_at").first()
    with transaction.atomic():
        for model in (CaseDaily, TagDaily, PartyDaily, CaseMonthly, TagMonthly, PartyMonthly, HelpDaily, PartyRef):
            model.objects.all().delete()
    if first is None:
        return counts
    month = local_day(first).replace(day=1)
    end_month = local_day(last).replace(day=1)
    while month <= end_month:
        nxt = (month + dt.timedelta(days=32)).replace(day=1)
        start, stop = day_bounds(month)[0], day_bounds(nxt)[0]
        cases_qs = Case.objects.filter(registered_at__gte=start, registered_at__lt=stop)
        cases, tags = {}, Counter()
        _aggregate(cases_qs.order_by().values_list(*CASE_FIELDS).iterator(chunk_size=5000), cases, tags)
        with transaction.atomic():
            c, t, p = _write(cases, tags, _party_rows(cases_qs))
            _write_help(cases_qs)
            _write_refs(cases_qs)
        refresh_months([(month, None)])
        counts["case_rows"] += c
        counts["tag_rows"] += t
        counts["party_rows"] += p
        if progress:
            progress(month, counts)
        month = nxt
    return counts


# --- derived columns for rows written without save() (ingest COPY, bulk loads) ---------------
def derive_missing(case_ids=None, batch: int = 2000) -> dict:
    """Fill Party.birth_year/sex and Case coordinates where bulk writes left them empty."""
    from cases.models import Case, Party

    from analysis.derive import fill_coordinates, fill_party

    done = {"parties": 0, "cases": 0}
    parties = Party.objects.filter(party_kind="person", birth_year__isnull=True).exclude(id_number="")
    cases = Case.objects.filter(geo_source="")
    if case_ids is not None:
        ids = list(case_ids)
        parties, cases = parties.filter(case_id__in=ids), cases.filter(pk__in=ids)
    while True:
        chunk = list(parties.filter(sex="").order_by("pk")[:batch].only("pk", "party_kind", "id_number"))
        if not chunk:
            break
        for p in chunk:
            fill_party(p)
            p.sex = p.sex or "-"  # examined: never picked again
        Party.objects.bulk_update(chunk, ["birth_year", "sex"])
        done["parties"] += len(chunk)
        if len(chunk) < batch:
            break
    last = 0
    while True:
        chunk = list(cases.filter(pk__gt=last).order_by("pk").select_related("region__parent__parent")[:batch])
        if not chunk:
            break
        for c in chunk:
            fill_coordinates(c)
            c.geo_source = c.geo_source or "none"
        Case.objects.bulk_update(chunk, ["lng", "lat", "geo_source"])
        done["cases"] += len(chunk)
        last = chunk[-1].pk
    return done
