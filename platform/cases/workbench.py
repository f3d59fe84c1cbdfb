"""工作台 figures and to-do lists, always within the user's region scope.

Every figure is an aggregate query (conditional counts), never a loop over rows in Python:
the workbench must stay fast with hundreds of thousands of cases. Which states are "open"
(not closed) and which are review steps come from the workflow metadata (cases.states), so a
review step a business admin adds shows up here without code."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.scope import scope_q
from cases.actions import roles_of, user_level
from cases.models import Case, MediationResult, Review
from cases.states import mediating_states, open_states, success_outcomes, vocabulary
from cases.states import workflows as all_workflows
from lowcode import registry

PERIODS = {"month": ("本月", "上月"), "quarter": ("本季", "上季"), "year": ("本年", "上年")}
DEFAULT_PERIOD = "month"


def review_kind_label(kind: str) -> str:
    """A review kind's label, from the ``review_kind`` dictionary (the one wording on every end;
    a kind a workflow adds gets its label there, without code)."""
    item = registry.get_dictionary("review_kind").get(kind)
    return item.label if item is not None else f"{kind}审核"


# --- periods -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Period:
    code: str
    label: str
    previous_label: str
    start: dt.datetime
    end: dt.datetime            # exclusive: the start of the next period
    previous_start: dt.datetime


def _shift_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def period_for(code: str | None, now: dt.datetime | None = None) -> Period:
    code = code if code in PERIODS else DEFAULT_PERIOD
    now = timezone.localtime(now or timezone.now())
    months = {"month": 1, "quarter": 3, "year": 12}[code]
    if code == "month":
        first = dt.date(now.year, now.month, 1)
    elif code == "quarter":
        first = dt.date(now.year, (now.month - 1) // 3 * 3 + 1, 1)
    else:
        first = dt.date(now.year, 1, 1)

    def aware(day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time.min), timezone.get_current_timezone())

    label, previous_label = PERIODS[code]
    return Period(code, label, previous_label, aware(first), aware(_shift_months(first, months)),
                  aware(_shift_months(first, -months)))


# --- workflow facts across case types (the states themselves: cases.states) -------------------------
def review_kinds() -> list[tuple[str, str]]:
    """(kind, label) of every review step any workflow has, for filters."""
    kinds = dict.fromkeys(vocabulary().review_kinds.values())
    return [(kind, review_kind_label(kind)) for kind in kinds]


def _types_by_workflow() -> dict[str, list[str]]:
    """Case type codes grouped by the workflow scope they follow (most specific ancestor)."""
    meta = registry.get_meta("case")
    scopes = set(meta.workflows)
    out: dict[str, list[str]] = {}
    for code in registry.get_dictionary("case_type"):
        scope = next((s for s in meta.scope_chain(code) if s in scopes), "")
        out.setdefault(scope, []).append(code)
    return out


def waiting_q(user, prefix: str = "") -> Q:
    """Q on Review (``prefix`` = path to it) for the reviews waiting for ``user``: pending, the case
    still in that review state, in the user's scope, handled one level below the user (or escalated
    to the user's level by the chasing job), and the state's reviewer roles include one of the user's roles — per the
    workflow each case type follows. One SQL condition; no per-row Python."""
    roles = set(roles_of(user))
    workflows = all_workflows()
    specific = any(scope for scope, _ in workflows)
    by_type = _types_by_workflow() if specific else {}
    states_q = Q(pk__in=[])
    for scope, wf in workflows:
        states = [s for s in wf.review_states() if wf.reviewer_roles(s) & roles]
        if not states:
            continue
        # case__status repeats the state (the F() check below) so the case status index serves the join
        q = Q(**{f"{prefix}state__in": states, f"{prefix}case__status__in": states})
        if scope:
            q &= Q(**{f"{prefix}case__case_type__in": by_type.get(scope, [])})
        elif specific:
            q &= ~Q(**{f"{prefix}case__case_type__in": [c for s, codes in by_type.items() if s for c in codes]})
        states_q |= q
    # The level just above the handling level reviews; higher levels see a review once it has
    # waited too long and was escalated to them (cases.chasing), like the notifications.
    level = user_level(user)
    if user.is_superuser:
        level_q = Q(**{f"{prefix}case__level__gt": level})
    else:
        level_q = Q(**{f"{prefix}case__level": level + 1}) | Q(
            **{f"{prefix}case__level__gt": level + 1, f"{prefix}escalated_at__isnull": False})
    q = Q(**{f"{prefix}status": "pending", f"{prefix}case__status": F(f"{prefix}state")}) & level_q & states_q
    scoped = scope_q(user, f"{prefix}case__region_path")
    return q if scoped is None else q & scoped


def reviews_waiting_for(user):
    return Review.objects.filter(waiting_q(user))


def scoped_cases(user):
    q = scope_q(user)
    return Case.objects.all() if q is None else Case.objects.filter(q)


def overdue_q(now: dt.datetime | None = None) -> Q:
    return Q(deadline__lt=now or timezone.now()) & Q(status__in=open_states())


# --- the figures -------------------------------------------------------------------------------
@dataclass
class Indicator:
    label: str
    value: str
    previous: str
    note: str = ""
    trend: int = 0            # +1 up, -1 down, 0 flat
    key: str = ""
    now_value: int | None = None  # the stock right now (调解中, 超期)


def _trend(current, previous) -> int:
    if current is None or previous is None:
        return 0
    return (current > previous) - (current < previous)


def _rate(success: int, total: int) -> float | None:
    return round(success * 100.0 / total, 1) if total else None


def indicators(user, period: Period, now: dt.datetime | None = None) -> list[Indicator]:
    """新登记, 调解中, 超期, 成功率 — this period vs the previous one. Two aggregate queries.

    新登记: cases registered in the period. 调解中: of those, the ones now being mediated (and all
    now being mediated, as a note). 超期: open cases whose deadline fell in the period and passed
    (and all overdue now). 成功率: successful results among the results submitted in the period."""
    now = now or timezone.now()
    this = Q(registered_at__gte=period.start, registered_at__lt=period.end)
    last = Q(registered_at__gte=period.previous_start, registered_at__lt=period.start)
    open_ = Q(status__in=open_states())
    mediating = Q(status__in=mediating_states())
    overdue_now = Q(deadline__lt=now) & open_
    due_this = Q(deadline__gte=period.start, deadline__lt=min(period.end, now)) & open_
    due_last = Q(deadline__gte=period.previous_start, deadline__lt=period.start) & open_
    relevant = Q(registered_at__gte=period.previous_start) | open_
    c = scoped_cases(user).filter(relevant).aggregate(
        new_this=Count("pk", filter=this), new_last=Count("pk", filter=last),
        med_this=Count("pk", filter=this & mediating), med_last=Count("pk", filter=last & mediating),
        med_now=Count("pk", filter=mediating),
        over_this=Count("pk", filter=due_this), over_last=Count("pk", filter=due_last),
        over_now=Count("pk", filter=overdue_now))
    results = MediationResult.objects.filter(submitted_at__gte=period.previous_start, submitted_at__lt=period.end)
    scoped = scope_q(user, "case__region_path")
    if scoped is not None:
        results = results.filter(scoped)
    r_this = Q(submitted_at__gte=period.start)
    r_last = Q(submitted_at__lt=period.start)
    ok = Q(outcome__in=success_outcomes())
    r = results.aggregate(total_this=Count("pk", filter=r_this), total_last=Count("pk", filter=r_last),
                          ok_this=Count("pk", filter=r_this & ok), ok_last=Count("pk", filter=r_last & ok))
    rate_this, rate_last = _rate(r["ok_this"], r["total_this"]), _rate(r["ok_last"], r["total_last"])

    def pct(v):
        return "—" if v is None else f"{v:g}%"

    return [
        Indicator("新登记", str(c["new_this"]), str(c["new_last"]), note="本期登记的案件",
                  trend=_trend(c["new_this"], c["new_last"]), key="new"),
        Indicator("调解中", str(c["med_this"]), str(c["med_last"]), note=f"当前在调解 {c['med_now']} 件",
                  trend=_trend(c["med_this"], c["med_last"]), key="mediating", now_value=c["med_now"]),
        Indicator("超期", str(c["over_this"]), str(c["over_last"]), note=f"当前超期未办结 {c['over_now']} 件",
                  trend=_trend(c["over_this"], c["over_last"]), key="overdue", now_value=c["over_now"]),
        Indicator("成功率", pct(rate_this), pct(rate_last),
                  note=f"{r['ok_this']}/{r['total_this']} 件调解成功", trend=_trend(rate_this, rate_last),
                  key="success"),
    ]
