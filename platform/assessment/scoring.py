"""Indicator values, normalisation and totals — pure functions over facts, no database.

For each indicator of a dimension and each unit:
1. raw = the formula (lowcode.expressions) over the unit's facts; an error or a missing rate
   (no cases to divide by) is "no value" and scores 0;
2. capped = min(raw, cap) when a cap is set (a volume never counts beyond it);
3. score 0–100 by the normalisation, in the indicator's direction:
   - target: linear between the worst value (0 points; default 0) and the target (100 points),
     clamped — higher is better when target > worst, lower is better when target < worst;
   - minmax: (v − min) ÷ (max − min) over the units ranked (reversed when lower is better);
     every unit equal → 100;
   - rank: percentile of the unit's rank, 100 × (n − rank) ÷ (n − 1) (ties share the better rank);
   - saturating: 100 × v ÷ (v + target) — diminishing returns, never reaches 100 (lower is
     better: 100 × target ÷ (v + target));
4. total = Σ weight × score ÷ Σ weight, plus approved 加减分; ranks by total (ties share a rank).
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from lowcode import expressions

from assessment import facts as facts_mod


def spec_of(ind) -> dict:
    return {"code": ind.code, "name": ind.name, "dimension": ind.dimension, "formula": ind.formula,
            "weight": float(ind.weight or 0), "direction": ind.direction, "normalisation": ind.normalisation,
            "target": ind.target, "worst": ind.worst, "cap": ind.cap, "period": ind.period,
            "description": ind.description}


def validate_indicator(ind) -> dict[str, str]:
    """Chinese messages by field for an indicator that cannot be computed."""
    errors: dict[str, str] = {}
    if ind.dimension not in facts_mod.SOURCE_OF:
        errors["dimension"] = "请选择考核对象"
        return errors
    try:
        expressions.validate(ind.formula or "", facts_mod.names(ind.dimension))
    except expressions.ExpressionError as exc:
        errors["formula"] = str(exc)
    if not (ind.formula or "").strip():
        errors["formula"] = "请填写计算公式"
    if ind.weight is None or not math.isfinite(ind.weight) or ind.weight < 0 or ind.weight > 1000:
        errors["weight"] = "权重须在 0 至 1000 之间"
    for name in ("target", "worst", "cap"):
        v = getattr(ind, name)
        if v is not None and not math.isfinite(v):
            errors[name] = "请填写有效的数字"
    if ind.normalisation in ("target", "saturating") and ind.target is None:
        errors["target"] = "目标值法和饱和法须填写目标值"
    if ind.normalisation == "saturating" and ind.target is not None and ind.target <= 0:
        errors["target"] = "饱和法的目标值须大于 0"
    if ind.normalisation == "target" and ind.target is not None:
        worst = ind.worst if ind.worst is not None else 0
        if ind.direction == "lower" and ind.worst is None:
            errors["worst"] = "越低越好的目标值法须填写最差值（得 0 分的值）"
        elif worst == ind.target:
            errors["worst"] = "最差值不能等于目标值"
        elif (ind.direction == "higher") != (ind.target > worst):
            errors["worst"] = ("越高越好时目标值须大于最差值" if ind.direction == "higher"
                               else "越低越好时目标值须小于最差值")
    return errors


def values_for_formula(dimension: str, unit_facts: Mapping[str, float | None]) -> dict:
    out = {}
    for f in facts_mod.for_dimension(dimension):
        v = unit_facts.get(f.code)
        out[f.label] = v
        out[f.code] = v
    return out


def raw_value(spec: Mapping, names: Mapping) -> float | None:
    try:
        v = expressions.evaluate(spec["formula"], names)
    except expressions.ExpressionError:
        return None
    if v is None or isinstance(v, str):
        return None
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(v):
        return None
    if spec.get("cap") is not None:
        v = min(v, float(spec["cap"]))
    return v


def _clamp(x: float) -> float:
    return max(0.0, min(100.0, x))


def normalise(spec: Mapping, raws: Mapping[str, float | None]) -> dict[str, float]:
    """0–100 per unit; a unit without a value gets 0."""
    kind, lower = spec["normalisation"], spec["direction"] == "lower"
    present = {k: v for k, v in raws.items() if v is not None}
    out = {k: 0.0 for k in raws}
    if not present:
        return out
    if kind == "target":
        target = float(spec["target"])
        worst = float(spec["worst"]) if spec.get("worst") is not None else 0.0
        for k, v in present.items():
            out[k] = 100.0 if target == worst else _clamp(100 * (v - worst) / (target - worst))
    elif kind == "saturating":
        half = float(spec["target"])
        for k, v in present.items():
            v = max(v, 0.0)
            out[k] = 100 * half / (v + half) if lower else 100 * v / (v + half)
    elif kind == "minmax":
        lo, hi = min(present.values()), max(present.values())
        for k, v in present.items():
            out[k] = 100.0 if hi == lo else 100 * ((hi - v) if lower else (v - lo)) / (hi - lo)
    elif kind == "rank":
        n = len(present)
        ordered = sorted(present.values(), reverse=not lower)
        first = {}
        for i, v in enumerate(ordered, 1):
            first.setdefault(v, i)
        for k, v in present.items():
            out[k] = 100.0 if n == 1 else 100 * (n - first[v]) / (n - 1)
    return out


@dataclass
class Scored:
    key: str
    values: dict = field(default_factory=dict)   # code → {"raw": v|None, "score": s}
    manual: float = 0.0
    score: float = 0.0
    rank: int = 0


def score_units(specs: Iterable[Mapping], dimension: str, unit_facts: Mapping[str, Mapping],
                manual: Mapping[str, float] | None = None) -> dict[str, Scored]:
    """Score every unit with the indicators ``specs``; returns {unit key: Scored} with ranks."""
    specs = [s for s in specs if s["dimension"] == dimension]
    manual = manual or {}
    names = {k: values_for_formula(dimension, f) for k, f in unit_facts.items()}
    result = {k: Scored(k, manual=float(manual.get(k, 0) or 0)) for k in unit_facts}
    total_weight = sum(float(s["weight"]) for s in specs)
    weighted = {k: 0.0 for k in unit_facts}
    for spec in specs:
        raws = {k: raw_value(spec, names[k]) for k in unit_facts}
        scores = normalise(spec, raws)
        for k in unit_facts:
            r = raws[k]
            result[k].values[spec["code"]] = {"raw": None if r is None else round(r, 4), "score": round(scores[k], 2)}
            weighted[k] += float(spec["weight"]) * scores[k]
    for k, s in result.items():
        base = weighted[k] / total_weight if total_weight else 0.0
        s.score = round(base + s.manual, 2)
    assign_ranks(result.values())
    return result


def assign_ranks(rows) -> None:
    """Competition ranking by score, ties share the better rank (1, 1, 3)."""
    ordered = sorted(rows, key=lambda r: -r.score)
    prev, rank = None, 0
    for i, r in enumerate(ordered, 1):
        if r.score != prev:
            rank, prev = i, r.score
        r.rank = rank
