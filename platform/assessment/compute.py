"""Computing a period: facts per unit → scores → a stored snapshot (rankings stay reproducible
after the data changes). Recomputing a closed period is explicit (``recompute=True`` with a
reason) and audited; an open period (still running) is recomputed at will, and its ranking pages
re-score the stored facts with the current indicators, so an indicator added or re-weighted in
the admin shows on the next request."""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from assessment import facts as facts_mod
from assessment import scoring
from assessment.models import DIMENSION_LABELS, Adjustment, Indicator, RecomputeLog, Snapshot, SnapshotRow
from assessment.periods import Period


class SnapshotClosed(Exception):
    """A closed period's snapshot exists: recompute only explicitly, with a reason (Chinese message)."""


@dataclass
class Unit:
    key: str
    name: str
    region_path: str


# --- units -----------------------------------------------------------------------------------------
def units(dimension: str, extra_keys=()) -> dict[str, Unit]:
    from accounts.models import User
    from accounts.roles import holders
    from orgs.models import Organization, Region

    out: dict[str, Unit] = {}
    if dimension == "mediator":
        qs = User.objects.filter(is_active=True).filter(holders("mediator")).distinct()
        extra = [k for k in extra_keys if k]
        if extra:
            qs = User.objects.filter(pk__in=qs.values("pk")) | User.objects.filter(pk__in=extra)
        for u in qs.select_related("region").only("pk", "username", "display_name", "region__path"):
            out[str(u.pk)] = Unit(str(u.pk), u.display_name or u.username, u.region.path if u.region_id else "")
    elif dimension in ("community", "street"):
        level = Region.Level.COMMUNITY if dimension == "community" else Region.Level.STREET
        for r in Region.objects.filter(level=level).only("pk", "name", "path"):
            out[str(r.pk)] = Unit(str(r.pk), r.name, r.path)
    else:
        kind = Organization.Kind.DEPARTMENT if dimension == "dept" else Organization.Kind.THIRD_PARTY
        for o in Organization.objects.filter(kind=kind, is_active=True).select_related("region"):
            out[str(o.pk)] = Unit(str(o.pk), o.name, o.region.path)
    return out


def _ancestors() -> dict[int, dict[int, int]]:
    """region id → {level: ancestor id at that level (itself included)}."""
    from orgs.models import Region

    rows = {r["pk"]: r for r in Region.objects.values("pk", "parent_id", "level")}
    out: dict[int, dict[int, int]] = {}
    for pk in rows:
        chain, node = {}, rows.get(pk)
        while node is not None:
            chain[node["level"]] = node["pk"]
            node = rows.get(node["parent_id"])
        out[pk] = chain
    return out


def fold(source_rows: dict[tuple, dict[str, float]], dimension: str) -> dict[str, dict[str, float]]:
    """Group facts ({(registrant, region) | (unit,): facts}) into the dimension's units."""
    from orgs.models import Region

    out: dict[str, dict[str, float]] = {}
    if dimension in ("community", "street"):
        level = Region.Level.COMMUNITY if dimension == "community" else Region.Level.STREET
        anc = _ancestors()
    for group, values in source_rows.items():
        if dimension == "mediator":
            key = group[0]
        elif dimension in ("community", "street"):
            key = anc.get(group[1], {}).get(level)
        else:
            key = group[0]
        if key is None:
            continue
        bucket = out.setdefault(str(key), {})
        for code, v in values.items():
            bucket[code] = bucket.get(code, 0.0) + v
    return out


def unit_facts(dimension: str, period: Period, source_rows=None) -> tuple[dict[str, Unit], dict[str, dict]]:
    """The units of the dimension and their complete facts (additive + per-unit + derived)."""
    if source_rows is None:
        source_rows = facts_mod.compute_source(facts_mod.SOURCE_OF[dimension], period)
    folded = fold(source_rows, dimension)
    all_units = units(dimension, extra_keys=folded.keys() if dimension == "mediator" else ())
    for f in facts_mod.unit_facts(dimension):
        for key, v in f.compute(period, dimension).items():
            if str(key) in all_units:
                folded.setdefault(str(key), {})[f.code] = float(v or 0)
    return all_units, {k: facts_mod.complete(dimension, folded.get(k, {})) for k in all_units}


def indicator_specs(dimension: str, period_kind: str) -> list[dict]:
    return [i.spec() for i in Indicator.objects.filter(dimension=dimension, enabled=True)
            .filter(period__in=("any", period_kind)).order_by("sort", "code")]


def manual_points(dimension: str, period_key: str) -> dict[str, float]:
    rows = (Adjustment.objects.filter(dimension=dimension, period_key=period_key, status="approved")
            .values("unit_key").annotate(total=Sum("points")))
    return {r["unit_key"]: float(r["total"] or 0) for r in rows}


# --- snapshots --------------------------------------------------------------------------------------
def compute_period(period: Period, dimensions=None, *, user=None, recompute: bool = False, reason: str = "",
                   request=None, today=None, detect_padding: bool = True) -> list[Snapshot]:
    """Compute and store the snapshots of ``period`` for ``dimensions`` (default all five).
    Facts of one source are computed once for all its dimensions."""
    dimensions = list(dimensions or DIMENSION_LABELS)
    for dim in dimensions:
        if dim not in DIMENSION_LABELS:
            raise ValueError(f"未知的考核对象：{dim}")
    existing = {s.dimension: s for s in Snapshot.objects.filter(
        dimension__in=dimensions, period_kind=period.kind, period_key=period.key)}
    closed = [DIMENSION_LABELS[d] for d, s in existing.items() if s.closed]
    if closed and not recompute:
        raise SnapshotClosed(f"{period.label}已关闭（{'、'.join(closed)}），重算已关闭期间须明确确认并填写原因")
    if closed and not (reason or "").strip():
        raise SnapshotClosed("重算已关闭期间须填写原因")
    by_source: dict[str, dict] = {}
    out = []
    for dim in dimensions:
        t0 = time.monotonic()
        src = facts_mod.SOURCE_OF[dim]
        if src not in by_source:
            if src == "case" and detect_padding:
                from assessment import padding

                padding.detect(period)  # near-identical cases of one person: flagged, not counted
            by_source[src] = facts_mod.compute_source(src, period)
        all_units, facts_by_unit = unit_facts(dim, period, by_source[src])
        out.append(_store(dim, period, all_units, facts_by_unit, existing.get(dim), user=user, reason=reason,
                          request=request, today=today, started=t0))
    return out


def _store(dim, period, all_units, facts_by_unit, snap, *, user, reason, request, today, started) -> Snapshot:
    specs = indicator_specs(dim, period.kind)
    manual = manual_points(dim, period.key)
    scored = scoring.score_units(specs, dim, facts_by_unit, manual)
    prev = previous_ranks(dim, period)
    was_closed = snap is not None and snap.closed
    old_scores = dict(snap.rows.values_list("unit_key", "score")) if was_closed else {}
    with transaction.atomic():
        if snap is None:
            snap = Snapshot(dimension=dim, period_kind=period.kind, period_key=period.key)
        else:
            snap.rows.all().delete()
            snap.recomputed += 1 if was_closed else 0
        snap.start, snap.end = period.start, period.end
        snap.status = "closed" if period.has_ended(today) else "open"
        snap.indicators = specs
        snap.unit_count = len(all_units)
        snap.computed_at = timezone.now()
        snap.computed_by = user if (user is not None and user.is_authenticated) else None
        snap.scored_with = _scoring_basis(snap, manual) if snap.status == "open" else ""
        snap.save()
        SnapshotRow.objects.bulk_create([
            SnapshotRow(snapshot=snap, unit_key=k, unit_name=u.name[:200], region_path=u.region_path,
                        facts=facts_by_unit[k], values=scored[k].values, manual=scored[k].manual,
                        score=scored[k].score, rank=scored[k].rank, prev_rank=prev.get(k))
            for k, u in all_units.items()], batch_size=1000)
        snap.seconds = round(time.monotonic() - started, 3)
        Snapshot.objects.filter(pk=snap.pk).update(seconds=snap.seconds)
        if was_closed:
            changed = sum(1 for k, s in scored.items() if old_scores.get(k) != s.score)
            RecomputeLog.objects.create(snapshot=snap, user=snap.computed_by, reason=reason.strip()[:300],
                                        changed_units=changed)
            from secure import audit

            audit.record("assessment_recompute", request=request, user=snap.computed_by, obj=snap,
                         reason=reason.strip()[:300], changed_units=changed)
    return snap


def previous_ranks(dim: str, period: Period) -> dict[str, int]:
    prev = period.previous()
    snap = Snapshot.objects.filter(dimension=dim, period_kind=prev.kind, period_key=prev.key).first()
    if snap is None:
        return {}
    return dict(ranked_rows(snap).values_list("unit_key", "rank"))


# --- what a ranking page shows -----------------------------------------------------------------------
RANKED_FIELDS = ("unit_key", "unit_name", "region_path", "facts", "values", "manual", "score", "rank", "prev_rank")


@dataclass
class Ranked:
    key: str
    name: str
    region_path: str
    facts: dict
    values: dict
    manual: float
    score: float
    rank: int
    prev_rank: int | None

    @property
    def change(self) -> int | None:
        return None if self.prev_rank is None else self.prev_rank - self.rank


def _scoring_basis(snap: Snapshot, manual: dict[str, float]) -> str:
    """A stable fingerprint of what an open snapshot's scores depend on besides its facts."""
    from lowcode.registry import current_version

    raw = json.dumps([current_version(), sorted(manual.items())], ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:64]


def ensure_scored(snap: Snapshot) -> None:
    """An open period's rows follow the current indicators and approved 加减分: re-score the stored
    facts when either changed since, and write the scores back (once; concurrent pages wait on the
    snapshot's row lock and then find it done). A closed period stays exactly as computed."""
    if snap.closed:
        return
    manual = manual_points(snap.dimension, snap.period_key)
    basis = _scoring_basis(snap, manual)
    if snap.scored_with == basis:
        return
    with transaction.atomic():
        locked = Snapshot.objects.select_for_update().get(pk=snap.pk)
        if locked.scored_with != basis:
            rows = list(locked.rows.only("pk", "unit_key", "facts"))
            specs = indicator_specs(locked.dimension, locked.period_kind)
            scored = scoring.score_units(specs, locked.dimension, {r.unit_key: r.facts for r in rows}, manual)
            for r in rows:
                s = scored[r.unit_key]
                r.values, r.manual, r.score, r.rank = s.values, s.manual, s.score, s.rank
            SnapshotRow.objects.bulk_update(rows, ["values", "manual", "score", "rank"], batch_size=500)
            Snapshot.objects.filter(pk=locked.pk).update(scored_with=basis)
    snap.scored_with = basis


def ranked_rows(snap: Snapshot):
    """The snapshot's rows in rank order, as a queryset (scope filters and paging stay in the database)."""
    ensure_scored(snap)
    return SnapshotRow.objects.filter(snapshot=snap).order_by("rank", "unit_name")


def as_ranked(rows) -> list[Ranked]:
    return [Ranked(*r) for r in rows.values_list(*RANKED_FIELDS)]


def ranking(snap: Snapshot) -> list[Ranked]:
    """Every row of a snapshot in rank order (exports, tests); screens page ``ranked_rows``."""
    return as_ranked(ranked_rows(snap))


def current_specs(snap: Snapshot) -> list[dict]:
    return snap.indicators if snap.closed else indicator_specs(snap.dimension, snap.period_kind)
