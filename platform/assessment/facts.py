"""The one registry of assessment facts: the numbers indicator formulas are written over.

A fact is an additive number per unit and period (a count or a sum), computed in SQL as one
GROUP BY; a derived fact (a rate, an average) is computed from additive ones after they are
added up per unit, so the same figures serve the mediator, the community and the street.

Sources (which units a fact is about):
    case      cases registered in the period (cohort) — grouped by registrant and region, folded
              into 调解员 (registrant), 社区 and 街道 (the region's ancestor at that level)
    referral  cases referred to a 职能部门 in the period — 部门
    third     bids, awards, completions and evaluations of a third-party organisation — 第三方

Extensions add facts from their ``AppConfig.ready`` (``facts.register(Fact(...))``), e.g.
escalation's 预警化解数; a formula names a fact by its label (Chinese) or its code.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum

SOURCES = {"case": ("mediator", "community", "street"), "referral": ("dept",), "third": ("third",)}
SOURCE_OF = {dim: src for src, dims in SOURCES.items() for dim in dims}


@dataclass(frozen=True)
class Fact:
    code: str
    label: str
    source: str                                  # case | referral | third
    model: str                                   # "cases.Case"
    aggregate: Callable[[], Any]                 # → a Django aggregate (built at compute time)
    case_path: str = ""                          # case source: path from model to Case ("" = Case)
    date_field: str = ""                         # other sources: the date that puts a row in a period
    key: str = ""                                # other sources: path to the unit's id
    drill: Callable[[], Q] | None = None         # case source: Q over Case — the cases behind the number
    days: bool = False                           # the aggregate is a duration → days
    help: str = ""
    dimensions: tuple[str, ...] = ()             # limit to some dimensions of the source (default all)

    def applies(self, dimension: str) -> bool:
        return SOURCE_OF.get(dimension) == self.source and (not self.dimensions or dimension in self.dimensions)


@dataclass(frozen=True)
class Derived:
    code: str
    label: str
    source: str
    compute: Callable[[Mapping[str, float]], float | None]   # over additive facts by code
    drill_from: str = ""                                       # the fact whose cases it shows
    help: str = ""
    dimensions: tuple[str, ...] = ()

    def applies(self, dimension: str) -> bool:
        return SOURCE_OF.get(dimension) == self.source and (not self.dimensions or dimension in self.dimensions)


_facts: dict[str, Fact] = {}
_derived: dict[str, Derived] = {}


@dataclass(frozen=True)
class UnitFact:
    """A fact known per unit directly rather than by grouping rows (training hours of a mediator)."""
    code: str
    label: str
    source: str
    compute: Callable[[Any, str], dict[str, float]]   # (period, dimension) → {unit_key: value}
    help: str = ""
    dimensions: tuple[str, ...] = ()

    def applies(self, dimension: str) -> bool:
        return SOURCE_OF.get(dimension) == self.source and (not self.dimensions or dimension in self.dimensions)


_unit: dict[str, UnitFact] = {}


def register(fact: Fact | Derived | UnitFact) -> None:
    """Add a fact (idempotent per code). Labels must be unique within a source."""
    if fact.source not in SOURCES:
        raise ValueError(f"unknown fact source {fact.source!r}")
    for table in (_facts, _derived, _unit):
        for other in table.values():
            if other.code != fact.code and other.source == fact.source and other.label == fact.label:
                raise ValueError(f"fact label {fact.label!r} already used by {other.code!r}")
    for table in (_facts, _derived, _unit):
        table.pop(fact.code, None)
    {Fact: _facts, Derived: _derived, UnitFact: _unit}[type(fact)][fact.code] = fact


def unregister(code: str) -> None:
    for table in (_facts, _derived, _unit):
        table.pop(code, None)


def additive(dimension: str) -> list[Fact]:
    return [f for f in _facts.values() if f.applies(dimension)]


def derived(dimension: str) -> list[Derived]:
    return [f for f in _derived.values() if f.applies(dimension)]


def unit_facts(dimension: str) -> list[UnitFact]:
    return [f for f in _unit.values() if f.applies(dimension)]


def for_dimension(dimension: str) -> list:
    """Every fact usable in a formula of this dimension, in registration order."""
    return additive(dimension) + unit_facts(dimension) + derived(dimension)


def names(dimension: str) -> dict[str, str]:
    """Name usable in a formula → fact code (labels and codes both work)."""
    out = {}
    for f in for_dimension(dimension):
        out[f.label] = f.code
        out[f.code] = f.code
    return out


def get(code: str):
    return _facts.get(code) or _derived.get(code) or _unit.get(code)


def drill_q(code: str) -> Q | None:
    """Q over Case rows: the cases behind a case-source fact (a derived fact shows its numerator's)."""
    fact = get(code)
    if isinstance(fact, Derived):
        fact = _facts.get(fact.drill_from)
    if isinstance(fact, Fact) and fact.source == "case":
        return fact.drill() if fact.drill else Q()
    return None


# --- computing additive facts (one GROUP BY per model) -------------------------------------------
def case_keys(case_path: str) -> tuple[str, str]:
    prefix = f"{case_path}__" if case_path else ""
    return f"{prefix}registrant_id", f"{prefix}region_id"


def compute_source(source: str, period, *, exclude_flagged: bool = True) -> dict[tuple, dict[str, float]]:
    """Additive facts of ``source`` for the period: {group key: {fact code: value}}. Case source
    groups by (registrant id, region id); the others by the unit id (as a 1-tuple)."""
    start, end = period.bounds()
    groups: dict[tuple, list[Fact]] = {}
    for fact in _facts.values():
        if fact.source == source:
            groups.setdefault((fact.model, fact.case_path, fact.date_field, fact.key), []).append(fact)
    out: dict[tuple, dict[str, float]] = {}
    for (model_label, case_path, date_field, key), members in groups.items():
        model = apps.get_model(model_label)
        if source == "case":
            prefix = f"{case_path}__" if case_path else ""
            qs = model.objects.filter(**{f"{prefix}registered_at__gte": start, f"{prefix}registered_at__lt": end})
            if exclude_flagged:
                qs = qs.exclude(**{f"{prefix}padding_flag__status": "flagged"})
            keys = case_keys(case_path)
        else:
            qs = model.objects.filter(**{f"{date_field}__gte": start, f"{date_field}__lt": end})
            keys = (key,)
        rows = qs.order_by().values(*keys).annotate(**{f.code: f.aggregate() for f in members})
        for row in rows:
            group = tuple(row[k] for k in keys)
            bucket = out.setdefault(group, {})
            for f in members:
                value = row[f.code]
                if value is None:
                    value = 0
                elif isinstance(value, dt.timedelta):
                    value = value.total_seconds() / 86400
                elif f.days and isinstance(value, (int, float)) and not isinstance(value, bool):
                    value = value / 86_400_000_000  # a backend returning microseconds
                bucket[f.code] = bucket.get(f.code, 0) + float(value)
    return out


def complete(dimension: str, values: dict[str, float]) -> dict[str, float | None]:
    """Additive facts (missing ones = 0) plus the derived ones, by code."""
    out: dict[str, float | None] = {f.code: float(values.get(f.code, 0) or 0) for f in additive(dimension)}
    for f in unit_facts(dimension):
        out[f.code] = float(values.get(f.code, 0) or 0)
    for f in derived(dimension):
        try:
            v = f.compute(out)
        except ZeroDivisionError:
            v = None
        out[f.code] = None if v is None else round(float(v), 4)
    return out


# --- built-in facts ---------------------------------------------------------------------------------
def ratio(num: str, den: str, scale: float = 100.0):
    def compute(f):
        return f[num] * scale / f[den] if f.get(den) else None
    return compute


def _closed():
    from cases import states
    return list(states.closed_states())


def _success():
    from cases import states
    return states.success_outcomes()


def _failure():
    from lowcode import registry
    return [c for c, e in registry.get_dictionary("mediation_outcome").items() if e.attrs.get("counts_as_failure")]


def _satisfied():
    from lowcode import registry
    items = registry.get_dictionary("satisfaction").items()
    marked = [c for c, e in items if e.attrs.get("counts_as_satisfied")]
    return marked or ["satisfied"]


def _result_reviews():
    from cases import states
    return states.review_states("result")


def _now_or_end():
    from django.utils import timezone
    return timezone.now()


def _training_hours(period, dimension) -> dict[str, float]:
    from assessment.models import TrainingRecord

    rows = (TrainingRecord.objects.filter(held_on__gte=period.start, held_on__lt=period.end)
            .values("user_id").annotate(total=Sum("hours")))
    return {str(r["user_id"]): float(r["total"] or 0) for r in rows}


def install_builtin() -> None:
    C = "cases.Case"
    case_facts = [
        Fact("registered", "登记数", "case", C, lambda: Count("pk"), drill=lambda: Q(),
             help="本期登记的案件（不含待复核的疑似凑数案件）"),
        Fact("closed", "办结数", "case", C, lambda: Count("pk", filter=Q(status__in=_closed())),
             drill=lambda: Q(status__in=_closed()), help="其中已办结（已调解、已归档等办结状态）"),
        Fact("with_result", "结果数", "case", C, lambda: Count("pk", filter=Q(result__isnull=False)),
             drill=lambda: Q(result__isnull=False), help="已提交调解结果的案件"),
        Fact("success", "成功数", "case", C, lambda: Count("pk", filter=Q(result__outcome__in=_success())),
             drill=lambda: Q(result__outcome__in=_success()), help="调解结果为“调解成功”"),
        Fact("failed", "失败数", "case", C, lambda: Count("pk", filter=Q(result__outcome__in=_failure())),
             drill=lambda: Q(result__outcome__in=_failure()), help="调解结果计为失败"),
        Fact("overdue", "超期数", "case", C,
             lambda: Count("pk", filter=Q(deadline__lt=_now_or_end()) & ~Q(status__in=_closed())),
             drill=lambda: Q(deadline__lt=_now_or_end()) & ~Q(status__in=_closed()), help="超过办理期限仍未办结"),
        Fact("escalated", "提级数", "case", "cases.HelpRequest",
             lambda: Count("case", distinct=True, filter=Q(kind="escalate")), case_path="case",
             drill=lambda: Q(help_requests__kind="escalate"), help="申请提级的案件数"),
        Fact("logs", "日志数", "case", "cases.MediationLog", lambda: Count("pk"), case_path="case",
             drill=lambda: Q(logs__isnull=False), help="本期登记案件的调解日志条数"),
        Fact("visits", "回访数", "case", "cases.Visit", lambda: Count("pk"), case_path="case",
             drill=lambda: Q(visits__isnull=False), help="回访/走访次数"),
        Fact("satisfied", "满意回访数", "case", "cases.Visit",
             lambda: Count("pk", filter=Q(satisfaction__in=_satisfied())), case_path="case",
             drill=lambda: Q(visits__satisfaction__in=_satisfied()), help="回访满意度为“满意”"),
        Fact("handled", "审结数", "case", "cases.Review",
             lambda: Count("case", distinct=True, filter=Q(state__in=_result_reviews(), status="approve")),
             case_path="case", drill=lambda: Q(reviews__state__in=_result_reviews(), reviews__status="approve"),
             help="调解结果审核通过的案件"),
        Fact("handle_days", "办理天数合计", "case", "cases.Review",
             lambda: Sum(ExpressionWrapper(F("decided_at") - F("case__registered_at"), output_field=DurationField()),
                         filter=Q(state__in=_result_reviews(), status="approve", decided_at__isnull=False)),
             case_path="case", days=True, drill=lambda: Q(reviews__state__in=_result_reviews(), reviews__status="approve"),
             help="登记至结果审核通过的天数之和"),
    ]
    for f in case_facts:
        register(f)
    for d in [
        Derived("success_rate", "成功率", "case", ratio("success", "with_result"), "success", "成功数 ÷ 结果数 × 100"),
        Derived("close_rate", "办结率", "case", ratio("closed", "registered"), "closed", "办结数 ÷ 登记数 × 100"),
        Derived("ontime_rate", "按期率", "case",
                lambda f: (f["registered"] - f["overdue"]) * 100 / f["registered"] if f["registered"] else None,
                "overdue", "(登记数 − 超期数) ÷ 登记数 × 100"),
        Derived("avg_days", "平均办理天数", "case", ratio("handle_days", "handled", 1), "handled",
                "办理天数合计 ÷ 审结数"),
        Derived("logs_per_case", "件均日志数", "case", ratio("logs", "registered", 1), "logs", "日志数 ÷ 登记数"),
        Derived("visit_rate", "回访率", "case", ratio("visits", "closed"), "visits", "回访数 ÷ 办结数 × 100"),
        Derived("satisfaction_rate", "满意率", "case", ratio("satisfied", "visits"), "satisfied",
                "满意回访数 ÷ 回访数 × 100"),
    ]:
        register(d)

    register(UnitFact("training_hours", "培训学时", "case", _training_hours, "本期参加培训的学时（调解员名册 › 培训记录）",
                      dimensions=("mediator",)))

    R = "cases.CaseReferral"
    for f in [
        Fact("referrals", "转办数", "referral", R, lambda: Count("pk", filter=~Q(state="withdrawn")),
             date_field="referred_at", key="department_id", help="本期转办/交办给本部门（不含撤回）"),
        Fact("answered", "已反馈数", "referral", R, lambda: Count("pk", filter=Q(state="answered")),
             date_field="referred_at", key="department_id", help="已办理反馈"),
        Fact("answer_days", "反馈天数合计", "referral", R,
             lambda: Sum(ExpressionWrapper(F("answered_at") - F("referred_at"), output_field=DurationField()),
                         filter=Q(state="answered", answered_at__isnull=False)),
             date_field="referred_at", key="department_id", days=True, help="转办至反馈的天数之和"),
    ]:
        register(f)
    register(Derived("answer_rate", "反馈率", "referral", ratio("answered", "referrals"), help="已反馈数 ÷ 转办数 × 100"))
    register(Derived("avg_answer_days", "平均反馈天数", "referral", ratio("answer_days", "answered", 1),
                     help="反馈天数合计 ÷ 已反馈数"))

    for f in [
        Fact("bids", "报名数", "third", "dispatch.Bid", lambda: Count("pk", filter=~Q(status="cancelled")),
             date_field="created_at", key="organization_id", help="本期报名（不含取消）"),
        Fact("awards", "中选数", "third", "dispatch.Bid", lambda: Count("pk", filter=Q(status="won")),
             date_field="created_at", key="organization_id", help="本期报名中中选的"),
        Fact("completed", "完成数", "third", "dispatch.DispatchOrder", lambda: Count("pk"),
             date_field="completed_at", key="awarded_org_id", help="本期完成的发单"),
        Fact("completed_ontime", "按期完成数", "third", "dispatch.DispatchOrder",
             lambda: Count("pk", filter=Q(completed_at__date__lte=F("mediation_deadline"))),
             date_field="completed_at", key="awarded_org_id", help="在调解期限内完成"),
        Fact("completed_success", "成功完成数", "third", "dispatch.DispatchOrder",
             lambda: Count("pk", filter=Q(case__result__outcome__in=_success())),
             date_field="completed_at", key="awarded_org_id", help="完成且调解成功"),
        Fact("evaluations", "评价数", "third", "dispatch.Evaluation", lambda: Count("pk"),
             date_field="evaluated_at", key="order__awarded_org_id", help="区级评价次数"),
        Fact("evaluation_sum", "评分合计", "third", "dispatch.Evaluation", lambda: Sum("score"),
             date_field="evaluated_at", key="order__awarded_org_id", help="评价分数之和（1–5 分）"),
    ]:
        register(f)
    register(Derived("award_rate", "中选率", "third", ratio("awards", "bids"), help="中选数 ÷ 报名数 × 100"))
    register(Derived("tp_success_rate", "调解成功率", "third", ratio("completed_success", "completed"),
                     help="成功完成数 ÷ 完成数 × 100"))
    register(Derived("tp_ontime_rate", "按期完成率", "third", ratio("completed_ontime", "completed"),
                     help="按期完成数 ÷ 完成数 × 100"))
    register(Derived("avg_evaluation", "平均评价", "third", ratio("evaluation_sum", "evaluations", 1),
                     help="评分合计 ÷ 评价数"))
