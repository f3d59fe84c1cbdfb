"""Read side of the H5 end: tab lists, search, the case page's blocks, similar cases, message
list and personal figures. Every case query starts from ``accounts.scope.scope_queryset``."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, IntegerField, Q, Value, When
from django.db.models import Case as SqlCase
from django.utils import timezone

from accounts.scope import scope_queryset
from cases import states
from cases.admin import identity_lookup
from cases.models import Case, Party, Review
from cases.workbench import review_kind_label
from lowcode import registry
from notices.actions import readable
from secure import audit

PAGE_SIZE = 20


# --- labels and tabs ---------------------------------------------------------------------------
def label(dictionary: str, code: str) -> str:
    entry = registry.get_dictionary(dictionary).get(code)
    return entry.label if entry else (code or "")


def tab_states() -> dict[str, frozenset[str]]:
    """登记 = where a case starts; 已调解 = every closed state (mediated, dispatched, archived…);
    调解中 = every other state, review steps included — so a state a business admin adds or
    renames in the workflow lands in a tab (cases.states reads them from the metadata)."""
    return {"registered": states.initial_states(), "mediating": states.in_progress_states(),
            "mediated": states.closed_states()}


TABS = [("registered", "登记"), ("mediating", "调解中"), ("mediated", "已调解")]


# --- case lists -------------------------------------------------------------------------------
@dataclass
class CaseRow:
    case: Case
    type_label: str
    status_label: str
    overdue: bool


@dataclass
class CasePage:
    rows: list[CaseRow]
    page: int
    has_next: bool


def search(queryset, term: str):
    """Title, description or case number contains the term; a complete ID number or phone is an
    exact match on the parties' blind index (encrypted values cannot be searched by substring)."""
    term = (term or "").strip()
    if not term:
        return queryset
    found = identity_lookup(term, "parties__")
    if found is not None:
        return queryset.filter(**found).distinct()
    return queryset.filter(Q(title__icontains=term) | Q(description__icontains=term)
                           | Q(exchange_id__icontains=term))


def rows_for(cases) -> list[CaseRow]:
    now = timezone.now()
    return [CaseRow(c, label("case_type", c.case_type), label("case_status", c.status), states.is_overdue(c, now))
            for c in cases]


def case_page(user, tab: str, term: str = "", page: int = 1) -> CasePage:
    """One page of the tab (or of the search over all tabs when ``term`` is given). No COUNT:
    one row more than the page tells whether there is a next page."""
    qs = scope_queryset(user, Case.objects.all())
    if term:
        qs = search(qs, term)
    else:
        tabs = tab_states()
        qs = qs.filter(status__in=tabs.get(tab, tabs["registered"]))
    qs = qs.only("pk", "title", "case_type", "status", "registered_at", "deadline", "exchange_id")
    page = max(page, 1)
    start = (page - 1) * PAGE_SIZE
    cases = list(qs.order_by("-registered_at", "-pk")[start:start + PAGE_SIZE + 1])
    return CasePage(rows_for(cases[:PAGE_SIZE]), page, len(cases) > PAGE_SIZE)


def case_type_tree() -> list[tuple[int, object]]:
    """Active case types in tree order with their depth, for the "choose a type" screen."""
    items = [e for e in registry.get_dictionary("case_type").values() if e.is_active]
    children: dict[str | None, list] = {}
    for e in items:
        children.setdefault(e.parent if e.parent in {i.code for i in items} else None, []).append(e)
    out: list[tuple[int, object]] = []

    def walk(parent, depth):
        for e in children.get(parent, []):
            out.append((depth, e))
            walk(e.code, depth + 1)

    walk(None, 0)
    return out


# --- similar cases -----------------------------------------------------------------------------
@dataclass
class Similar:
    case: Case
    type_label: str
    status_label: str
    reasons: list[str] = field(default_factory=list)


def similar_cases(case: Case, user, limit: int = 20) -> list[Similar]:
    """Cases in the user's scope sharing a party's ID number or phone (blind index) or the
    address, newest first, each with why: 同当事人 / 同电话 / 同地址."""
    keys = list(case.parties.values_list("id_number_bidx", "phone_bidx"))
    ids = {i for i, _ in keys if i}
    phones = {p for _, p in keys if p}
    address = (case.address or "").strip()
    q = Q()
    if ids:
        q |= Q(parties__id_number_bidx__in=ids)
    if phones:
        q |= Q(parties__phone_bidx__in=phones)
    if address:
        q |= Q(address=address)
    if not q.children:
        return []
    found = list(scope_queryset(user, Case.objects.exclude(pk=case.pk)).filter(q).distinct()
                 .order_by("-registered_at", "-pk")
                 .only("pk", "title", "case_type", "status", "registered_at", "address", "exchange_id")[:limit])
    out = {c.pk: Similar(c, label("case_type", c.case_type), label("case_status", c.status)) for c in found}
    matches = Party.objects.filter(case_id__in=list(out)).filter(
        Q(id_number_bidx__in=ids) | Q(phone_bidx__in=phones)).values_list("case_id", "name", "id_number_bidx",
                                                                           "phone_bidx")
    for case_id, name, id_bidx, phone_bidx in matches:
        reasons = out[case_id].reasons
        if id_bidx and id_bidx in ids and f"同当事人（{name}）" not in reasons:
            reasons.append(f"同当事人（{name}）")
        if phone_bidx and phone_bidx in phones and "同电话" not in reasons:
            reasons.append("同电话")
    for s in out.values():
        if address and (s.case.address or "").strip() == address:
            s.reasons.append("同地址")
    return list(out.values())


# --- the case page -----------------------------------------------------------------------------
def review_rows(case: Case) -> list[dict]:
    return [{"kind": review_kind_label(r.kind), "review": r}
            for r in case.reviews.select_related("submitted_by", "decided_by").order_by("-submitted_at", "-pk")]


def visit_rows(case: Case) -> list[dict]:
    return [{"visit": v, "way": label("visit_way", v.way), "satisfaction": label("satisfaction", v.satisfaction)}
            for v in case.visits.select_related("visitor")]


# --- messages ----------------------------------------------------------------------------------
@dataclass
class NoticePage:
    notices: list
    page: int
    has_next: bool
    visible_cases: set


def notice_page(user, page: int = 1, kind: str = "") -> NoticePage:
    """The user's notices (of one kind, if given), unread first, newest first; which linked cases
    the user may open."""
    page = max(page, 1)
    start = (page - 1) * PAGE_SIZE
    qs = readable(user)
    if kind:
        qs = qs.filter(kind=kind)
    qs = (qs.select_related("case")
          .annotate(read_rank=SqlCase(When(read_at__isnull=True, then=Value(0)), default=Value(1),
                                 output_field=IntegerField()))
          .order_by("read_rank", "-created_at", "-id"))
    notices = list(qs[start:start + PAGE_SIZE + 1])
    case_ids = {n.case_id for n in notices if n.case_id}
    visible = set(scope_queryset(user, Case.objects.filter(pk__in=case_ids)).values_list("pk", flat=True)) \
        if case_ids and user.has_perm("cases.view_case") else set()
    return NoticePage(notices[:PAGE_SIZE], page, len(notices) > PAGE_SIZE, visible)


def case_visible(user, case_id: int | None) -> bool:
    return bool(case_id) and user.has_perm("cases.view_case") and \
        scope_queryset(user, Case.objects.filter(pk=case_id)).exists()


# --- personal figures --------------------------------------------------------------------------
@dataclass
class Figures:
    total: int
    open: int
    closed: int
    with_result: int
    success: int
    success_rate: float | None   # percent, one decimal
    avg_days: float | None       # registration → approval of the result review
    this_month: int
    last_month: int


def month_starts(now: dt.datetime | None = None) -> tuple[dt.datetime, dt.datetime]:
    now = timezone.localtime(now or timezone.now())
    this = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    last = (this - dt.timedelta(days=1)).replace(day=1)
    return this, last


def my_figures(user, now: dt.datetime | None = None) -> Figures:
    """The user's own cases (registrant = user, within scope): two aggregate queries, no loop."""
    own = scope_queryset(user, Case.objects.filter(registrant=user))
    this, last = month_starts(now)
    closed = states.closed_states()
    agg = own.aggregate(
        total=Count("pk"),
        closed=Count("pk", filter=Q(status__in=closed)),
        with_result=Count("result"),
        success=Count("result", filter=Q(result__outcome__in=states.success_outcomes())),
        this_month=Count("pk", filter=Q(registered_at__gte=this)),
        last_month=Count("pk", filter=Q(registered_at__gte=last, registered_at__lt=this)),
    )
    duration = ExpressionWrapper(F("decided_at") - F("case__registered_at"), output_field=DurationField())
    # handling ends when the result review (the review step of kind "result") approves
    avg = Review.objects.filter(case__in=own.values("pk"), state__in=states.review_states("result"),
                                status="approve", decided_at__isnull=False).aggregate(avg=Avg(duration))["avg"]
    rate = round(agg["success"] * 100 / agg["with_result"], 1) if agg["with_result"] else None
    days = round(avg.total_seconds() / 86400, 1) if avg is not None else None
    return Figures(total=agg["total"], open=agg["total"] - agg["closed"], closed=agg["closed"],
                   with_result=agg["with_result"], success=agg["success"], success_rate=rate, avg_days=days,
                   this_month=agg["this_month"], last_month=agg["last_month"])


def party_rows(case: Case, can_see_sensitive: bool) -> list[dict]:
    """Parties as the PC detail shows them: identity masked unless the user may see it."""
    pm = registry.get_meta("party")
    out = []
    for p in case.parties.all():
        out.append({
            "role": pm.display_value(pm.fields["role"], p.role) if "role" in pm.fields else p.role,
            "kind": pm.display_value(pm.fields["party_kind"], p.party_kind) if "party_kind" in pm.fields else "",
            "name": p.name,
            "id_number": audit.shown(p, p.id_number, "id_number", can_see_sensitive),
            "phone": audit.shown(p, p.phone, "phone", can_see_sensitive),
            "address": p.address,
        })
    return out


def my_charts(user, now: dt.datetime | None = None) -> list[dict]:
    """Two small charts for the personal centre: my cases registered per month (6 months, with
    how many of them are closed) and their types — tables drawn by mdtj/minichart.js."""
    from cases.workbench_charts import chart, top_rows

    own = scope_queryset(user, Case.objects.filter(registrant=user))
    this, _ = month_starts(now)
    months = [this]
    for _ in range(5):
        months.insert(0, (months[0] - dt.timedelta(days=1)).replace(day=1))
    closed = states.closed_states()
    counts = {m: [0, 0] for m in months}
    for when, status in own.filter(registered_at__gte=months[0]).values_list("registered_at", "status"):
        local = timezone.localtime(when)
        key = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        if key in counts:
            counts[key][0] += 1
            counts[key][1] += status in closed
    rows = [[f"{m.month}月", n, done] for m, (n, done) in counts.items()]
    types = own.values_list("case_type").annotate(n=Count("pk")).order_by()
    return [chart("my-trend", "近6个月登记", "bar", ["月份", "登记", "已办结"], rows if any(r[1] for r in rows) else []),
            chart("my-types", "我的案件类型", "pie", ["案件类型", "件数"],
                  top_rows([(label("case_type", code), n) for code, n in types], 5))]
