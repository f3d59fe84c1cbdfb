"""「预览（不保存）」 of an indicator: last month's ranking with the edited indicator beside the
ranking with the indicators as they are saved now. Scores the facts stored in last month's
snapshot (no case query); without a snapshot the facts are computed once, live."""
from __future__ import annotations

from assessment import compute, periods, scoring
from assessment.models import DIMENSION_LABELS, Snapshot

TOP = 20


def preview(user, instance, today=None) -> dict:
    dim = instance.dimension
    period = periods.last_month(today)
    snap = Snapshot.objects.filter(dimension=dim, period_kind=period.kind, period_key=period.key).first()
    if snap is not None:
        rows = list(snap.rows.values_list("unit_key", "unit_name", "facts"))
        names = {k: n for k, n, _ in rows}
        facts = {k: f for k, _, f in rows}
    else:
        units, facts = compute.unit_facts(dim, period)
        names = {k: u.name for k, u in units.items()}
    manual = compute.manual_points(dim, period.key)
    current = compute.indicator_specs(dim, period.kind)
    edited = [s for s in current if s["code"] != instance.code and (not instance.pk or s["code"] != _saved_code(instance))]
    if instance.enabled and instance.period in ("any", period.kind):
        edited.append(scoring.spec_of(instance))
    before = scoring.score_units(current, dim, facts, manual)
    after = scoring.score_units(edited, dim, facts, manual)
    order = sorted(after.values(), key=lambda s: (s.rank, names.get(s.key, "")))
    table = [{"name": names.get(s.key, s.key), "before_rank": before[s.key].rank, "before_score": before[s.key].score,
              "after_rank": s.rank, "after_score": s.score, "change": before[s.key].rank - s.rank} for s in order[:TOP]]
    moved = sum(1 for k in after if after[k].rank != before[k].rank)
    return {"period": period.label, "dimension": DIMENSION_LABELS.get(dim, dim), "rows": table, "units": len(after),
            "moved": moved, "from_snapshot": snap is not None}


def _saved_code(instance) -> str:
    from assessment.models import Indicator

    return Indicator.objects.filter(pk=instance.pk).values_list("code", flat=True).first() or ""
