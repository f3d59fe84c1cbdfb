"""Past figures of third-party organisations (compare bidders, 调解分析) and the statement of
account (调解对账单). Aggregates in SQL, one query per figure kind, whatever the number of orgs."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Avg, Count, Q, Sum
from django.utils import timezone

from cases.states import success_outcomes
from dispatch.models import Bid, DispatchOrder

AWARDED_STATES = ["awarded", "mediating", "completed"]


@dataclass
class OrgFigures:
    bids: int = 0
    awards: int = 0
    completed: int = 0
    successes: int = 0
    avg_score: float | None = None

    @property
    def success_rate(self) -> float | None:
        return round(self.successes * 100.0 / self.completed, 1) if self.completed else None


def org_figures(org_ids) -> dict[int, OrgFigures]:
    org_ids = list(set(org_ids))
    out = {pk: OrgFigures() for pk in org_ids}
    if not org_ids:
        return out
    for row in (Bid.objects.filter(organization_id__in=org_ids).exclude(status="cancelled")
                .values("organization_id").annotate(n=Count("id"))):
        out[row["organization_id"]].bids = row["n"]
    ok = success_outcomes()
    for row in (DispatchOrder.objects.filter(awarded_org_id__in=org_ids, state__in=AWARDED_STATES)
                .values("awarded_org_id")
                .annotate(awards=Count("id"), completed=Count("id", filter=Q(state="completed")),
                          successes=Count("id", filter=Q(state="completed", case__result__outcome__in=ok)),
                          avg_score=Avg("evaluation__score"))):
        f = out[row["awarded_org_id"]]
        f.awards, f.completed, f.successes = row["awards"], row["completed"], row["successes"]
        f.avg_score = round(row["avg_score"], 1) if row["avg_score"] is not None else None
    return out


@dataclass
class Statement:
    rows: list
    count: int
    total_fee: Decimal
    avg_score: float | None


def statement(orders, start: dt.date, end: dt.date) -> Statement:
    """Completed orders of one organisation whose completion falls in [start, end] (local dates).
    ``orders``: an already scoped queryset (``dispatch.scope.staff_orders``)."""
    tz = timezone.get_current_timezone()
    lo = dt.datetime.combine(start, dt.time.min, tzinfo=tz)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    qs = (orders.filter(state="completed", completed_at__gte=lo, completed_at__lt=hi)
          .select_related("case", "awarded_org", "awarded_bid__mediator", "voucher", "evaluation", "case__result")
          .order_by("completed_at", "pk"))
    rows = list(qs)
    totals = qs.aggregate(fee=Sum("expected_fee"), score=Avg("evaluation__score"))
    return Statement(rows, len(rows), totals["fee"] or Decimal("0"),
                     round(totals["score"], 1) if totals["score"] is not None else None)
