"""研判 screens: 总体分析 (cockpit), 案件分析, 求助分析, 案件地图, the drill-through case list,
the figures as JSON / Excel, and the 数字档案 of a dispute and of a person. Every figure is
limited to the user's region scope (analysis.filters.user_prefix → accounts.scope)."""
from __future__ import annotations

import io
import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from analysis import figures, saved
from analysis.filters import RANGES, FilterError, NoScope, parse, region_choices

CHARTS = {
    "overview": figures.overview, "trend": figures.trend, "region": figures.region, "tags": figures.tags,
    "people": figures.people, "effect": figures.effect, "communities": figures.communities,
    "help": figures.help_requests,
}
PAGES = {
    "cockpit": ("总体分析", ["overview", "trend", "dim:case_type", "region", "tags", "people", "effect"]),
    "cases": ("案件分析", ["dim:mediation_type", "dim:case_type", "dim:source", "dim:status", "communities", "effect"]),
    "help": ("求助分析", ["help", "trend"]),
}


def _refuse(request, exc, status, as_json=False):
    if as_json:
        return JsonResponse({"error": str(exc)}, status=status, json_dumps_params={"ensure_ascii": False})
    return render(request, "analysis/refused.html", {"message": str(exc), "title": "研判分析"}, status=status)


def _filters(request, as_json=False):
    try:
        return parse(request), None
    except NoScope as exc:
        return None, _refuse(request, exc, 403, as_json)
    except FilterError as exc:
        return None, _refuse(request, exc, 400, as_json)


def _page(request, page: str, template: str = "analysis/dashboard.html", extra=None):
    f, err = _filters(request)
    if err:
        return err
    title, charts = PAGES.get(page, (None, []))
    dims = figures.dimensions()
    ctx = {
        "title": title, "page": page, "f": f, "ranges": RANGES, "regions": region_choices(request.user),
        "charts": [{"key": c, "url": _data_url(c)} for c in charts],
        "extra_dims": [(code, label) for code, (label, _d, in_rollup) in dims.items() if not in_rollup],
        "query": f.query(), "fullscreen": request.GET.get("screen") == "1",
        "nav": [("cockpit", "总体分析", reverse("analysis:cockpit")), ("cases", "案件分析", reverse("analysis:cases")),
                ("help", "求助分析", reverse("analysis:help")), ("map", "案件地图", reverse("analysis:map"))],
    }
    ctx["saved_views"] = saved.links(f.prefix)
    ctx["can_save_view"] = request.user.has_perm("analysis.add_savedview")
    if page == "cases":
        ctx["charts"] += [{"key": f"dim:{code}", "url": _data_url(f"dim:{code}")} for code, _ in ctx["extra_dims"]]
    ctx.update(extra or {})
    return render(request, template, ctx)


def _data_url(chart: str) -> str:
    if chart.startswith("dim:"):
        return reverse("analysis:dim") + "?dim=" + chart[4:]
    return reverse(f"analysis:data_{chart}")


@login_required
@require_POST
def save_view(request):
    """保存当前视图: the page and filters on screen become a 常用视图 for everyone (metadata)."""
    from django.contrib import messages
    from django.core.exceptions import ValidationError
    from django.http import HttpResponseRedirect, QueryDict

    from analysis.models import SavedView

    if not request.user.has_perm("analysis.add_savedview"):
        return _refuse(request, NoScope("您没有保存常用视图的权限"), 403)
    page = request.POST.get("page", "")
    if page not in saved.PAGE_URLS:
        return _refuse(request, FilterError("页面参数无效"), 400)
    query = QueryDict(request.POST.get("query", "")[:1000])
    back = reverse(saved.PAGE_URLS[page]) + ("?" + query.urlencode() if query else "")
    name = (request.POST.get("name") or "").strip()
    view = SavedView(code=saved.new_code(name), name=name[:64], page=page, params=saved.params_from(query.dict()),
                     sort=100)
    try:
        if not name:
            raise ValidationError({"name": "请填写视图名称"})
        view.full_clean()
    except ValidationError as exc:
        messages.error(request, "常用视图未保存：" + "；".join(m for ms in exc.message_dict.values() for m in ms))
        return HttpResponseRedirect(back)
    view.save()
    messages.success(request, f"已保存常用视图“{view.name}”，所有有研判权限的用户都能在“常用视图”中打开。")
    return HttpResponseRedirect(back)


@login_required
def cockpit(request):
    return _page(request, "cockpit")


@login_required
def case_analysis(request):
    return _page(request, "cases")


@login_required
def help_analysis(request):
    return _page(request, "help")


@login_required
def case_map(request):
    tiles = [u for u in getattr(settings, "MAP_TILE_URLS", []) if u]
    return _page(request, "map", "analysis/map.html", {
        "title": "案件地图", "map_config": {
            "tiles": tiles, "attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", ""),
            "center": getattr(settings, "MAP_CENTER", [120.15, 30.27]), "zoom": getattr(settings, "MAP_ZOOM", 12),
            "points": reverse("analysis:map_data"), "cases": reverse("analysis:drill")}})


def _table_response(request, table: dict, name: str):
    if request.GET.get("format") == "xlsx":
        return _xlsx(table, name)
    return JsonResponse(table, json_dumps_params={"ensure_ascii": False})


@login_required
def data(request, chart: str):
    fn = CHARTS.get(chart)
    if fn is None:
        raise Http404("没有这个图表")
    f, err = _filters(request, as_json=True)
    if err:
        return err
    return _table_response(request, fn(f), chart)


@login_required
def dim_data(request):
    f, err = _filters(request, as_json=True)
    if err:
        return err
    try:
        table = figures.dim(f, request.GET.get("dim", "") or "case_type")
    except FilterError as exc:
        return _refuse(request, exc, 400, True)
    return _table_response(request, table, "dim")


@login_required
def map_data(request):
    f, err = _filters(request, as_json=True)
    if err:
        return err
    try:
        payload = figures.map_data(f, request.GET)
    except FilterError as exc:
        return _refuse(request, exc, 400, True)
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


def _xlsx(table: dict, name: str) -> HttpResponse:
    from openpyxl import Workbook

    from secure.spreadsheet import neutralise

    wb = Workbook()
    ws = wb.active
    ws.title = table["title"][:30]
    ws.append([neutralise(c) for c in table["columns"]])
    for row in table["rows"]:
        ws.append([neutralise(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    resp = HttpResponse(out.getvalue(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    stamp = timezone.localtime().strftime("%Y%m%d")
    resp["Content-Disposition"] = f"attachment; filename=analysis-{name}-{stamp}.xlsx"
    return resp


@login_required
def drill(request):
    """The cases behind a figure (same period, region, dimension value), scoped."""
    f, err = _filters(request)
    if err:
        return err
    try:
        qs = figures.drill_cases(f, request.GET)
    except FilterError as exc:
        return _refuse(request, exc, 400)
    page_raw = request.GET.get("page", "1")
    if not (page_raw.isascii() and page_raw.isdigit()) or len(page_raw) > 6:
        return _refuse(request, FilterError("页码无效"), 400)
    pages = Paginator(qs.order_by("-registered_at", "-pk").select_related("region").only(
        "pk", "exchange_id", "title", "case_type", "status", "registered_at", "region__name"), 50)
    page = pages.get_page(int(page_raw))
    names, statuses = figures.labels_for("case_type"), figures.labels_for("status")
    rows = [{"case": c, "type": names.get(c.case_type, c.case_type), "status": statuses.get(c.status, c.status)}
            for c in page.object_list]
    keep = {k: v for k, v in request.GET.items() if k != "page"}
    from urllib.parse import urlencode

    return render(request, "analysis/drill.html", {
        "title": "分析钻取：案件列表", "f": f, "rows": rows, "page": page, "count": pages.count,
        "base": urlencode(keep), "back": request.META.get("HTTP_REFERER", "")[:500] or reverse("analysis:cockpit")})


# --- 数字档案 ------------------------------------------------------------------------------
def _scoped_cases(request):
    from accounts.scope import scope_queryset
    from cases.models import Case

    return scope_queryset(request.user, Case.objects.all())


def _may_see_parties(user) -> bool:
    return user.has_perm("cases.view_sensitive_party")


def _party_rows(user, parties):
    from secure.masking import mask

    full = _may_see_parties(user)
    return [{"party": p, "id_number": p.id_number if full else mask(p.id_number, "id_number"),
             "phone": p.phone if full else mask(p.phone, "phone")} for p in parties]


def timeline(case) -> list[tuple]:
    """(when, kind, text) of everything that happened to the case, oldest first."""
    from analysis import sources

    items = [(case.registered_at, "登记", f"登记案件 {case.exchange_id}")]
    items += [(e.created_at, "轨迹", e.message) for e in case.events.all()[:500]]
    items += [(log.occurred_at, "调解", f"{log.place or ''} {log.content}"[:300]) for log in case.logs.all()[:500]]
    items += [(h.requested_at, "求助", f"{h.get_kind_display()}：{h.reason}"[:300]) for h in case.help_requests.all()]
    items += [(r.submitted_at, "审核", f"{r.kind} {r.get_status_display()} {r.opinion}"[:300]) for r in case.reviews.all()]
    items += [(v.visited_at, "回访", f"{v.way} {v.satisfaction} {v.notes}"[:300]) for v in case.visits.all()]
    result = getattr(case, "result", None) if hasattr(case, "result") else None
    if result is not None:
        items.append((result.submitted_at, "结果", f"{result.outcome} {result.agreement}"[:300]))
    for fn in sources.timelines():
        try:
            items += list(fn(case))
        except Exception:  # noqa: BLE001 — an extension's entries never break the archive
            pass
    return sorted(items, key=lambda x: x[0])


@login_required
def case_archive(request, pk: int):
    from analysis import sources
    from cases.models import MediationResult

    if not request.user.has_perm("cases.view_case"):
        return _refuse(request, NoScope("您没有查看案件的权限"), 403)
    case = _scoped_cases(request).filter(pk=pk).select_related("region").first()
    if case is None:
        raise Http404("案件不存在或无权访问")
    try:
        case.result
    except MediationResult.DoesNotExist:
        pass
    relations = []
    for fn in sources.relations():
        try:
            relations += fn(request.user, case)
        except Exception:  # noqa: BLE001
            pass
    names = figures.labels_for("case_type")
    return render(request, "analysis/archive.html", {
        "title": f"一件事档案：{case.exchange_id}", "case": case, "type_label": names.get(case.case_type, case.case_type),
        "status_label": figures.labels_for("status").get(case.status, case.status),
        "parties": _party_rows(request.user, case.parties.all()), "timeline": timeline(case),
        "relations": relations})


@login_required
def party_archive(request, pk: int):
    """A person's archive: every case (in the user's scope) of the same ID number (blind index)
    or, without one, of this party only."""
    from cases.models import Party

    if not request.user.has_perm("cases.view_case"):
        return _refuse(request, NoScope("您没有查看案件的权限"), 403)
    cases = _scoped_cases(request)
    party = Party.objects.filter(pk=pk, case__in=cases).select_related("case").first()
    if party is None:
        raise Http404("当事人不存在或无权访问")
    same = Party.objects.filter(case__in=cases)
    same = same.filter(id_number_bidx=party.id_number_bidx) if party.id_number_bidx else same.filter(pk=party.pk)
    entries = list(same.select_related("case", "case__region").order_by("-case__registered_at")[:200])
    names = figures.labels_for("case_type")
    return render(request, "analysis/person.html", {
        "title": f"个人档案：{_party_rows(request.user, [party])[0]['party'].name}",
        "person": _party_rows(request.user, [party])[0],
        "entries": [{"party": p, "case": p.case, "type": names.get(p.case.case_type, p.case.case_type),
                     "timeline": timeline(p.case)[-5:]} for p in entries]})


def page_json(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)
