"""考核评价 screens (PC, inside the admin's frame): ranking per dimension with rank change,
drill into a unit (the cases behind each number), Excel export, computing a period (closed
periods only explicitly, with a reason — audited), 考核分析 trends. Every row goes through
``assessment.access`` (accounts.scope); every case list through ``accounts.scope``."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from accounts.scope import scope_queryset
from assessment import access, compute, periods
from assessment import facts as facts_mod
from assessment.models import DIMENSION_LABELS, DIMENSIONS, Snapshot, SnapshotRow

MAX_DRILL_ROWS = 200
PAGE_SIZE = 100  # ranking rows per page (1,000 mediators: ten pages)
TREND_UNITS = 10  # units drawn in 考核分析


def _context(request, title: str, **extra) -> dict:
    return {**admin.site.each_context(request), "title": title, **extra}


def _require_view(request):
    if not access.can_view(request.user):
        raise PermissionDenied


def _dimension(request, dimension: str) -> str:
    if dimension not in DIMENSION_LABELS or dimension not in access.visible_dimensions(request.user):
        raise Http404("没有该考核对象或无权查看")
    return dimension


def _period(request) -> periods.Period:
    raw = request.GET.get("period", "")
    if not raw:
        return periods.last_month()
    try:
        return periods.parse_checked(raw[:20])
    except periods.PeriodError as exc:
        messages.error(request, str(exc))
        return periods.last_month()


def index(request):
    _require_view(request)
    dims = access.visible_dimensions(request.user)
    if not dims:
        raise PermissionDenied
    return HttpResponseRedirect(reverse("assessment:ranking", args=[dims[0]]))


def ranking_view(request, dimension):
    _require_view(request)
    dimension = _dimension(request, dimension)
    period = _period(request)
    snap = Snapshot.objects.filter(dimension=dimension, period_kind=period.kind, period_key=period.key).first()
    rows, specs, total_rows = None, [], 0
    if snap is not None:
        rows = access.visible(request.user, dimension, compute.ranked_rows(snap))
        specs = compute.current_specs(snap)
        total_rows = rows.count()
    page_no = request.GET.get("page", "1")
    page_no = int(page_no) if page_no.isdigit() and 0 < len(page_no) < 6 else 1
    pages = max(1, (total_rows + PAGE_SIZE - 1) // PAGE_SIZE)
    page_no = min(page_no, pages)
    if request.GET.get("export") == "xlsx":
        if snap is None:
            messages.error(request, "该期间尚未计算，无法导出")
        else:
            from assessment.export import export_response

            return export_response(request, snap, period, compute.as_ranked(rows), specs)
    history = Snapshot.objects.filter(dimension=dimension).order_by("-start")[:12]
    shown = compute.as_ranked(rows[(page_no - 1) * PAGE_SIZE: page_no * PAGE_SIZE]) if rows is not None else []
    table = [(r, [r.values.get(s["code"]) or {} for s in specs]) for r in shown]
    return TemplateResponse(request, "assessment/ranking.html", _context(
        request, f"考核排名：{DIMENSION_LABELS[dimension]}", dimension=dimension, dimensions=[
            (d, DIMENSION_LABELS[d]) for d in access.visible_dimensions(request.user)],
        period=period, prev_key=period.previous().key, snap=snap, rows=shown, table=table, specs=specs,
        total_rows=total_rows, page_no=page_no, pages=pages,
        can_compute=access.can_compute(request.user), history=history,
        export_query=urlencode({"period": period.key, "export": "xlsx"}),
        fact_help=facts_mod.for_dimension(dimension)))


def _unit_row(request, dimension, key, snap):
    found = compute.as_ranked(access.visible(request.user, dimension, compute.ranked_rows(snap)).filter(unit_key=key))
    if not found:
        raise Http404("没有该考核对象或无权查看")
    return found[0]


def unit_cases(user, dimension: str, key: str, period: periods.Period, fact_code: str, region_path: str):
    """The cases behind one number of one unit (in the viewer's scope), or None when the fact is
    not about cases."""
    from cases.models import Case

    start, end = period.bounds()
    qs = scope_queryset(user, Case.objects.all())
    src = facts_mod.SOURCE_OF[dimension]
    if src == "case":
        q = facts_mod.drill_q(fact_code)
        if q is None:
            return None
        qs = qs.filter(registered_at__gte=start, registered_at__lt=end).exclude(padding_flag__status="flagged")
        if dimension == "mediator":
            qs = qs.filter(registrant_id=int(key))
        else:
            qs = qs.filter(region_path__startswith=region_path)
        qs = qs.filter(q)
    elif src == "referral":
        qs = qs.filter(referrals__department_id=int(key), referrals__referred_at__gte=start,
                       referrals__referred_at__lt=end)
    else:
        qs = qs.filter(dispatch_orders__awarded_org_id=int(key), dispatch_orders__awarded_at__gte=start,
                       dispatch_orders__awarded_at__lt=end)
    return qs.distinct().order_by("-registered_at")


def unit_view(request, dimension):
    _require_view(request)
    dimension = _dimension(request, dimension)
    period = _period(request)
    key = request.GET.get("unit", "")
    if not key:  # no unit chosen: the ranking to choose one from
        return HttpResponseRedirect(reverse("assessment:ranking", args=[dimension]) + "?" + urlencode(
            {"period": period.key}))
    if not key.isdigit() or len(key) > 18:
        raise Http404("没有该考核对象或无权查看")
    snap = Snapshot.objects.filter(dimension=dimension, period_kind=period.kind, period_key=period.key).first()
    if snap is None:
        raise Http404("该期间尚未计算")
    row = _unit_row(request, dimension, key, snap)
    fact_list = facts_mod.for_dimension(dimension)
    codes = {f.code for f in fact_list}
    fact_code = request.GET.get("fact", "registered" if "registered" in codes else "")
    if fact_code and fact_code not in codes:
        messages.error(request, "没有该事实，显示全部相关案件")
        fact_code = "registered" if "registered" in codes else ""
    cases = unit_cases(request.user, dimension, key, period, fact_code, row.region_path)
    case_rows, more = [], False
    if cases is not None:
        found = list(cases.select_related("region")[:MAX_DRILL_ROWS + 1])
        case_rows, more = found[:MAX_DRILL_ROWS], len(found) > MAX_DRILL_ROWS
    specs = compute.current_specs(snap)
    return TemplateResponse(request, "assessment/unit.html", _context(
        request, f"{row.name}：{period.label}考核明细", dimension=dimension, dimension_label=DIMENSION_LABELS[dimension],
        period=period, row=row, specs=specs, snap=snap,
        facts=[(f, row.facts.get(f.code), facts_mod.drill_q(f.code) is not None or facts_mod.SOURCE_OF[dimension] != "case")
               for f in fact_list],
        fact_code=fact_code, fact_label=getattr(facts_mod.get(fact_code), "label", ""), cases=case_rows, more=more))


class ComputeForm(forms.Form):
    dimension = forms.ChoiceField(label="考核对象", choices=[("all", "全部")] + DIMENSIONS)
    period = forms.CharField(label="期间", max_length=20, help_text="月如 2026-11，季如 2026-Q4，年如 2026")
    recompute = forms.BooleanField(label="重算已关闭期间", required=False)
    reason = forms.CharField(label="重算原因", max_length=300, required=False)

    def clean_period(self):
        try:
            return periods.parse_checked(self.cleaned_data["period"])
        except periods.PeriodError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        if data.get("recompute") and not (data.get("reason") or "").strip():
            self.add_error("reason", "重算已关闭期间须填写原因")
        return data


@require_POST
def compute_view(request):
    if not access.can_compute(request.user):
        raise PermissionDenied
    form = ComputeForm(request.POST)
    back = request.POST.get("dimension", "mediator")
    if back not in DIMENSION_LABELS:
        back = "mediator"
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, e)
        return HttpResponseRedirect(reverse("assessment:ranking", args=[back]))
    d = form.cleaned_data
    dims = None if d["dimension"] == "all" else [d["dimension"]]
    try:
        snaps = compute.compute_period(d["period"], dims, user=request.user, recompute=d["recompute"],
                                       reason=d["reason"], request=request)
    except compute.SnapshotClosed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"已计算{d['period'].label}：" + "、".join(
            f"{s.get_dimension_display()} {s.unit_count} 个对象" for s in snaps))
    dim = back if back != "all" else "mediator"
    if dim not in access.visible_dimensions(request.user):
        dim = (access.visible_dimensions(request.user) or ["mediator"])[0]
    return HttpResponseRedirect(reverse("assessment:ranking", args=[dim]) + "?" + urlencode({"period": d["period"].key}))


def trend_view(request, dimension):
    """考核分析: per unit over the last snapshots of this dimension — score, and the main figures."""
    _require_view(request)
    dimension = _dimension(request, dimension)
    snaps = list(Snapshot.objects.filter(dimension=dimension, period_kind="month").order_by("-start")[:12])[::-1]
    keys = [s.period_key for s in snaps]
    for snap in snaps:
        compute.ensure_scored(snap)
    # the ten best units of the latest period (then of earlier ones, when it has fewer): only their
    # rows are read, whatever the number of units in scope
    chosen: list[str] = []
    for snap in reversed(snaps):
        visible = access.visible(request.user, dimension, compute.ranked_rows(snap)).exclude(unit_key__in=chosen)
        chosen += list(visible.values_list("unit_key", flat=True)[:TREND_UNITS - len(chosen)])
        if len(chosen) >= TREND_UNITS:
            break
    series: dict[str, dict] = {k: {"name": "", "points": {}} for k in chosen}
    by_snap = {snap.pk: snap.period_key for snap in snaps}
    rows = access.visible(request.user, dimension, SnapshotRow.objects.filter(snapshot__in=snaps, unit_key__in=chosen))
    for snap_id, key, name, score, facts in rows.order_by("snapshot__start").values_list(
            "snapshot_id", "unit_key", "unit_name", "score", "facts"):
        series[key]["name"] = name
        series[key]["points"][by_snap[snap_id]] = {"score": score, **{
            k: facts.get(k) for k in ("registered", "success_rate", "avg_days", "referrals",
                                      "answer_rate", "completed", "tp_success_rate")}}
    top = list(series.values())
    chart = {"periods": keys, "series": [{"name": s["name"], "data": [
        (s["points"].get(k) or {}).get("score") for k in keys]} for s in top]}
    figures = [f for f in ("registered", "success_rate", "avg_days", "referrals", "answer_rate", "completed",
                           "tp_success_rate") if facts_mod.get(f) and facts_mod.get(f).applies(dimension)]
    table = [{"name": s["name"], "cells": [[(s["points"].get(k) or {}).get(f) for f in ["score"] + figures]
                                           for k in keys]} for s in top]
    return TemplateResponse(request, "assessment/trend.html", _context(
        request, f"考核分析：{DIMENSION_LABELS[dimension]}", dimension=dimension,
        dimensions=[(d, DIMENSION_LABELS[d]) for d in access.visible_dimensions(request.user)],
        chart=chart, keys=keys, table=table,
        figure_labels=["总分"] + [facts_mod.get(f).label for f in figures]))
