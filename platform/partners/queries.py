"""Read side of the third-party ends. Every query starts from a ``dispatch.scope`` function
(bid pool, own bids, own organisation's awarded orders and vouchers) or ``accounts.scope`` (the
granted case) — never from a bare ``objects.all()``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from accounts.scope import scope_queryset
from cases.models import Case
from cases.states import success_outcomes
from dispatch import scope
from dispatch.models import PHASE_LABELS, Bid, DispatchOrder, Voucher, phase_q
from lowcode import registry

PAGE_SIZE = 20
POOL_PHASES = ("not_started", "bidding")
CASE_PHASES = ("awarded", "mediating", "completed")


def label(dictionary: str, code: str) -> str:
    entry = registry.get_dictionary(dictionary).get(code)
    return entry.label if entry else (code or "")


def page_of(qs, number) -> object:
    """A page of ``qs`` (bad or out-of-range page numbers give the nearest page, never an error)."""
    return Paginator(qs, PAGE_SIZE).get_page(number)


def _text_q(term: str, prefix: str = "") -> Q:
    """Combined text query on what a third party may read of an order (its masked text)."""
    q = Q()
    for word in term.split()[:5]:
        q &= (Q(**{f"{prefix}title__icontains": word}) | Q(**{f"{prefix}description__icontains": word})
              | Q(**{f"{prefix}requirements__icontains": word}) | Q(**{f"{prefix}number__iexact": word}))
    return q


def _order_filters(qs, data: dict, prefix: str = ""):
    if data.get("q"):
        qs = qs.filter(_text_q(data["q"], prefix))
    if data.get("case_type"):
        qs = qs.filter(**{f"{prefix}case_type": data["case_type"]})
    if data.get("fee_min") is not None:
        qs = qs.filter(**{f"{prefix}expected_fee__gte": data["fee_min"]})
    if data.get("fee_max") is not None:
        qs = qs.filter(**{f"{prefix}expected_fee__lte": data["fee_max"]})
    return qs


# --- 竞单中心 -----------------------------------------------------------------------------------
def pool(user, data: dict, now=None):
    """Open orders (未开始/报名中), filtered; each annotated with the organisation's live bid."""
    now = now or timezone.now()
    qs = scope.open_orders(user, now=now)
    phase = data.get("phase")
    if phase in POOL_PHASES:
        qs = qs.filter(phase_q(phase, now))
    qs = _order_filters(qs, data)
    # the organisation's sign-up status only (one live sign-up per organisation)
    mine = Bid.objects.filter(order=OuterRef("pk"), organization_id=user.organization_id).exclude(status="cancelled")
    return (qs.annotate(my_bid_status=Subquery(mine.values("status")[:1]),
                        bid_count=Count("bids", filter=~Q(bids__status="cancelled")))
            .order_by("signup_end", "pk"))


def bid_records(user, data: dict):
    """Own sign-ups (mediator: own; org admin: the organisation's) by order content and status."""
    qs = scope.own_bids(user).select_related("order", "mediator")
    if data.get("status"):
        qs = qs.filter(status=data["status"])
    qs = _order_filters(qs, data, "order__")
    return qs.order_by("-created_at", "-pk")


# --- 调解中心 -----------------------------------------------------------------------------------
def awarded(user, data: dict):
    qs = scope.awarded_orders(user).select_related("case", "awarded_bid__mediator", "voucher")
    if data.get("phase") in CASE_PHASES:
        qs = qs.filter(state=data["phase"])
    if data.get("q"):
        term = data["q"].strip()
        qs = qs.filter(_text_q(term) | Q(case__exchange_id__iexact=term) | Q(case__title__icontains=term))
    qs = _order_filters(qs, {k: v for k, v in data.items() if k != "q"})
    return qs.order_by("-awarded_at", "-pk")


def awarded_order(user, pk: int) -> DispatchOrder | None:
    return scope.awarded_orders(user).select_related("voucher", "awarded_bid__mediator").filter(pk=pk).first()


def granted_case(user, order: DispatchOrder) -> Case | None:
    """The order's case through the case scope (the award's grant) — both must agree."""
    return scope_queryset(user, Case.objects.select_related("region")).filter(pk=order.case_id).first()


def visible_order(user, pk: int) -> DispatchOrder | None:
    return scope.visible_orders(user).filter(pk=pk).first()


def org_signed_up(user, order: DispatchOrder) -> bool:
    """Whether the user's organisation holds a live sign-up on ``order`` (one per organisation) —
    a mediator learns a colleague signed up, never the colleague's sign-up itself."""
    org = scope.third_party_org(user)
    return org is not None and Bid.objects.filter(order=order, organization=org).exclude(status="cancelled").exists()


def my_bid(user, order: DispatchOrder) -> Bid | None:
    """The organisation's live (or latest) sign-up on ``order`` that the user may see."""
    bids = scope.own_bids(user).filter(order=order).select_related("mediator").order_by("-created_at", "-pk")
    return bids.exclude(status="cancelled").first() or bids.first()


# --- 对账中心 / 调解分析 -------------------------------------------------------------------------------
@dataclass
class Period:
    start: dt.date | None
    end: dt.date | None

    def q(self, field: str) -> Q:
        q = Q()
        tz = timezone.get_current_timezone()
        if self.start:
            q &= Q(**{f"{field}__gte": dt.datetime.combine(self.start, dt.time.min, tz)})
        if self.end:
            q &= Q(**{f"{field}__lt": dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time.min, tz)})
        return q


def statement_rows(user, period: Period, term: str = ""):
    """已调解案件: the organisation's completed orders in the period (by completion time)."""
    qs = scope.awarded_orders(user).filter(state="completed").filter(period.q("completed_at"))
    if term:
        qs = qs.filter(_text_q(term) | Q(case__exchange_id__iexact=term.strip()))
    return qs.select_related("case", "voucher", "awarded_bid__mediator", "evaluation").order_by("-completed_at", "-pk")


def vouchers(user, period: Period):
    return (scope.visible_vouchers(user).filter(period.q("issued_at"))
            .select_related("order", "mediator").order_by("-issued_at", "-pk"))


@dataclass
class MediatorRow:
    name: str
    bids: int = 0
    awards: int = 0
    completed: int = 0
    succeeded: int = 0

    @property
    def rate(self) -> str:
        return percent(self.succeeded, self.completed)


def percent(part: int, whole: int) -> str:
    return f"{part * 100 / whole:.1f}%" if whole else "—"


def analysis(user, period: Period) -> dict:
    """调解分析 for the user's own organisation: bids, awards, cases, mediation rate, type
    distribution and per-mediator figures (bids by sign-up time, awards by award time, results
    by completion time)."""
    bids = scope.own_bids(user).exclude(status="cancelled").filter(period.q("created_at"))
    orders = scope.awarded_orders(user).filter(period.q("awarded_at"))
    completed = scope.awarded_orders(user).filter(state="completed").filter(period.q("completed_at"))
    good = success_outcomes()
    success = Exists(Case.objects.filter(pk=OuterRef("case_id"), result__outcome__in=good))
    completed = completed.annotate(success=success)
    n_bids, n_awards = bids.count(), orders.count()
    n_completed = completed.count()
    n_success = completed.filter(success=True).count()
    types = [{"label": label("case_type", row["case_type"]), "count": row["n"],
              "share": percent(row["n"], n_awards)}
             for row in orders.values("case_type").annotate(n=Count("pk")).order_by("-n", "case_type")]
    people: dict[int, MediatorRow] = {}

    def row(pk, name):
        return people.setdefault(pk, MediatorRow(name or "—"))

    for r in bids.values("mediator_id", "mediator__display_name", "mediator__username").annotate(n=Count("pk")):
        row(r["mediator_id"], r["mediator__display_name"] or r["mediator__username"]).bids = r["n"]
    for r in orders.values("awarded_bid__mediator_id", "awarded_bid__mediator__display_name",
                           "awarded_bid__mediator__username").annotate(n=Count("pk")):
        row(r["awarded_bid__mediator_id"], r["awarded_bid__mediator__display_name"]
            or r["awarded_bid__mediator__username"]).awards = r["n"]
    for r in completed.values("awarded_bid__mediator_id", "awarded_bid__mediator__display_name",
                              "awarded_bid__mediator__username").annotate(
            n=Count("pk"), ok=Count("pk", filter=Q(success=True))):
        m = row(r["awarded_bid__mediator_id"], r["awarded_bid__mediator__display_name"]
                or r["awarded_bid__mediator__username"])
        m.completed, m.succeeded = r["n"], r["ok"]
    return {
        "bids": n_bids, "awards": n_awards, "win_rate": percent(n_awards, n_bids),
        "in_progress": scope.awarded_orders(user).filter(state__in=["awarded", "mediating"]).count(),
        "completed": n_completed, "succeeded": n_success, "success_rate": percent(n_success, n_completed),
        "types": types, "mediators": sorted(people.values(), key=lambda m: (-m.awards, -m.bids, m.name)),
    }


def phase_label(phase: str) -> str:
    return PHASE_LABELS.get(phase, phase)


def analysis_charts(user, figures: dict, now: dt.datetime | None = None) -> list[dict]:
    """调解分析 as small charts (mdtj/minichart.js): awards and completions per month over six
    months, the type distribution and the mediators of the figures above (own organisation only)."""
    from cases.workbench_charts import chart, top_rows

    now = timezone.localtime(now or timezone.now())
    months = [now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)]
    for _ in range(5):
        months.insert(0, (months[0] - dt.timedelta(days=1)).replace(day=1))
    counts = {(m.year, m.month): [0, 0] for m in months}
    for awarded, completed in (scope.awarded_orders(user).filter(awarded_at__gte=months[0])
                               .values_list("awarded_at", "completed_at")):
        for i, when in enumerate((awarded, completed)):
            if when is not None:
                local = timezone.localtime(when)
                if (local.year, local.month) in counts:
                    counts[(local.year, local.month)][i] += 1
    trend = [[f"{m}月", a, c] for (_, m), (a, c) in counts.items()]
    people = [[m.name, m.awards, m.completed] for m in figures["mediators"][:8]]
    return [chart("tp-trend", "近6个月中选与完成", "line", ["月份", "中选", "完成"], trend if any(r[1] or r[2] for r in trend) else []),
            chart("tp-types", "案件类型分布（中选案件）", "pie", ["案件类型", "件数"],
                  top_rows([(t["label"], t["count"]) for t in figures["types"]], 6)),
            chart("tp-people", "调解员中选与完成", "bar", ["调解员", "中选", "已完成"], people)]
