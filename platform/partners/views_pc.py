"""第三方调解端 PC (org admin; the org's mediators see the bidding and case screens too): plain
views in the admin's frame (admin/base_site.html, jazzmin menu). Thin: reads from
partners.queries, writes through dispatch.actions / dispatch.accounts / cases.actions /
partners.services. An id outside what the scope functions return is a 404 on every URL."""
from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import roles
from cases import actions as case_actions
from cases.actions import ActionRefused
from cases.admin import can_see_sensitive
from dispatch import accounts as tp_accounts
from dispatch import actions as dispatch_actions
from dispatch import scope
from dispatch.models import phase_q
from h5.queries import party_rows
from partners import access, forms, queries, services
from partners.access import pc_context


def render(request, template: str, status: int = 200, **context):
    return TemplateResponse(request, f"thirdparty/pc/{template}", pc_context(request, **context), status=status)


def to_order(order_pk: int, anchor: str = ""):
    return redirect(reverse("thirdparty:order", args=[order_pk]) + (f"#{anchor}" if anchor else ""))


def to_case(order_pk: int, anchor: str = ""):
    return redirect(reverse("thirdparty:case", args=[order_pk]) + (f"#{anchor}" if anchor else ""))


# --- 工作台 ------------------------------------------------------------------------------------------
@require_GET
@access.pc
def home(request):
    user, orders = request.user, scope.awarded_orders(request.user)
    figures = [
        ("竞单中心（可报名）", scope.open_orders(user).filter(phase_q("bidding")).count(), "thirdparty:pool",
         "phase=bidding"),
        ("我的报名（报名中）", scope.own_bids(user).filter(status="active").count(), "thirdparty:bids", "status=active"),
        ("待确认凭证", orders.filter(state="awarded").count(), "thirdparty:cases", "phase=awarded"),
        ("调解中", orders.filter(state="mediating").count(), "thirdparty:cases", "phase=mediating"),
        ("已完成", orders.filter(state="completed").count(), "thirdparty:cases", "phase=completed"),
    ]
    return render(request, "home.html", title="第三方调解工作台",
                  figures=[(text, n, f"{reverse(name)}?{query}") for text, n, name, query in figures])


# --- 组织信息 / 调解员 -----------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@access.pc
def org_info(request):
    org, may_edit = request.tp_org, request.tp_admin
    profile = services.profile_of(org)
    form = None
    if may_edit:
        form = forms.bootstrap(forms.OrgInfoForm(request.POST if request.method == "POST" else None,
                                                 instance=profile, initial={"contact": org.contact}))
        if request.method == "POST" and form.is_valid():
            try:
                services.save_org_info(request.user, form)
            except ActionRefused as refused:
                form.add_error(None, str(refused))
            else:
                messages.success(request, "组织信息已保存")
                return redirect("thirdparty:org")
    elif request.method == "POST":
        return render(request, "denied.html", status=403, title="无权访问", reason="只有组织管理员可以修改组织信息")
    return render(request, "org.html", title="组织信息", org=org, profile=profile, form=form,
                  region=org.region.full_name if org.region_id else "—")


@require_http_methods(["GET", "POST"])
@access.pc(admin_only=True)
def mediators(request):
    """本组织调解员: list; add (账号 created active or not); enable / disable (POST user=<id>)."""
    user, org = request.user, request.tp_org
    form = forms.bootstrap(forms.MediatorForm(request.POST if request.POST.get("op") == "add" else None))
    if request.method == "POST":
        op = request.POST.get("op")
        try:
            if op == "add":
                if form.is_valid():
                    d = form.cleaned_data
                    account = tp_accounts.create_account(
                        user, org=org, username=d["username"], display_name=d["display_name"],
                        mobile=d["mobile"], role=roles.TP_MEDIATOR, password=d["password"], request=request)
                    if not d["active"] and account.is_active:
                        tp_accounts.set_account_active(user, account, False, request=request)
                    messages.success(request, f"已添加调解员 {account}（{'已启用' if account.is_active else '未启用'}）")
                    return redirect("thirdparty:mediators")
            elif op in ("enable", "disable"):
                account = tp_accounts.org_accounts(user, org).filter(pk=_int(request.POST.get("user"))).first()
                if account is None:
                    raise ActionRefused("该账号不存在或不属于本组织")
                tp_accounts.set_account_active(user, account, op == "enable", request=request)
                messages.success(request, f"已{'启用' if op == 'enable' else '停用'}账号 {account}")
                return redirect("thirdparty:mediators")
            else:
                raise ActionRefused("未知操作")
        except ActionRefused as refused:
            if op == "add":
                form.add_error(None, str(refused))
            else:
                messages.error(request, str(refused))
                return redirect("thirdparty:mediators")
    people = tp_accounts.org_accounts(user, org).prefetch_related("groups")
    return render(request, "mediators.html", title="调解员管理", people=people, form=form)


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


# --- 竞单中心 ----------------------------------------------------------------------------------------
@require_GET
@access.pc
def pool(request):
    form = forms.bootstrap(forms.PoolQuery(request.GET or None))
    page = queries.page_of(queries.pool(request.user, form.values() if request.GET else {}), request.GET.get("page"))
    return render(request, "pool.html", title="竞单中心", form=form, page=page)


@require_GET
@access.pc
def bids(request):
    form = forms.bootstrap(forms.BidQuery(request.GET or None))
    page = queries.page_of(queries.bid_records(request.user, form.values() if request.GET else {}),
                           request.GET.get("page"))
    return render(request, "bids.html", title="报名记录", form=form, page=page)


def _visible_order(request, pk: int):
    order = queries.visible_order(request.user, pk)
    if order is None:
        raise Http404("发单不存在或无权查看")
    return order


@require_GET
@access.pc
def order(request, pk: int):
    """发单 detail as a third party may see it: the order's own (masked) fields, the
    organisation's sign-up, and — only once awarded to this organisation — the way to the case."""
    order = _visible_order(request, pk)
    bid = queries.my_bid(request.user, order)
    taken = queries.org_signed_up(request.user, order)
    can_sign = order.phase == "bidding" and not taken
    form = forms.bootstrap(forms.SignUpForm(org=request.tp_org, choose_mediator=request.tp_admin)) if can_sign else None
    awarded_here = order.awarded_org_id == request.tp_org.pk and order.state in queries.CASE_PHASES
    return render(request, "order.html", title=f"发单 {order.number}", order=order, bid=bid, form=form,
                  awarded_here=awarded_here, colleague=taken and (bid is None or bid.status == "cancelled"),
                  type_label=queries.label("case_type", order.case_type),
                  mediation_type=queries.label("mediation_type", order.mediation_type))


@require_POST
@access.pc
def sign_up(request, pk: int):
    order = _visible_order(request, pk)
    form = forms.bootstrap(forms.SignUpForm(request.POST, org=request.tp_org, choose_mediator=request.tp_admin))
    if form.is_valid():
        d = form.cleaned_data
        try:
            dispatch_actions.sign_up(order, request.user, plan=d["plan"], quoted_fee=d["quoted_fee"],
                                     mediator=d.get("mediator"))
        except ActionRefused as refused:
            messages.error(request, f"报名未成功：{refused}")
        else:
            messages.success(request, f"已报名发单 {order.number}")
        return to_order(order.pk)
    bid = queries.my_bid(request.user, order)
    return render(request, "order.html", status=400, title=f"发单 {order.number}", order=order, bid=bid, form=form,
                  awarded_here=False, type_label=queries.label("case_type", order.case_type),
                  mediation_type=queries.label("mediation_type", order.mediation_type))


@require_POST
@access.pc
def cancel(request, pk: int):
    order = _visible_order(request, pk)
    bid = scope.own_bids(request.user).filter(order=order, status="active").first()
    try:
        if bid is None:
            raise ActionRefused("没有可取消的报名")
        dispatch_actions.cancel_bid(bid, request.user)
    except ActionRefused as refused:
        messages.error(request, f"未能取消报名：{refused}")
    else:
        messages.success(request, "已取消报名")
    return to_order(order.pk)


# --- 调解中心 ----------------------------------------------------------------------------------------
@require_GET
@access.pc
def cases(request):
    form = forms.bootstrap(forms.CaseQuery(request.GET or None))
    page = queries.page_of(queries.awarded(request.user, form.values() if request.GET else {}), request.GET.get("page"))
    return render(request, "cases.html", title="调解中心", form=form, page=page)


def _awarded(request, pk: int):
    order = queries.awarded_order(request.user, pk)
    case = queries.granted_case(request.user, order) if order is not None else None
    if case is None:
        raise Http404("案件不存在或未选定贵组织")
    return order, case


def case_context(request, order, case, party_form=None) -> dict:
    result = getattr(case, "result", None)
    result_action = next((t.action for t in _available(case, request.user) if t.form == "result" and not t.decision),
                         None)
    handle = reverse("admin:cases_case_handle", args=[case.pk])
    return {
        "title": f"调解案件 {case.exchange_id}", "order": order, "case": case,
        "voucher": getattr(order, "voucher", None),
        "status_label": case_actions.state_label(case.status),
        "type_label": queries.label("case_type", case.case_type),
        "parties": party_rows(case, can_see_sensitive(request)),
        "party_form": party_form or (forms.bootstrap(forms.party_form_class()()) if order.state == "mediating" else None),
        "logs": list(case.logs.select_related("created_by").prefetch_related("attachments")),
        "result": result, "result_label": queries.label("mediation_outcome", result.outcome) if result else "",
        "events": list(case.events.select_related("actor")[:50]),
        "log_url": f"{handle}?form=log" if order.state == "mediating" else "",
        "result_url": f"{handle}?action={result_action}" if result_action and order.state == "mediating" else "",
        "detail_url": reverse("admin:cases_case_detail", args=[case.pk]),
        "evaluation": getattr(order, "evaluation", None) if request.tp_admin else None,
    }


def _available(case, user):
    try:
        return case_actions.available_actions(case, user)
    except ActionRefused:
        return []


@require_GET
@access.pc
def case(request, pk: int):
    order, case = _awarded(request, pk)
    return render(request, "case.html", **case_context(request, order, case))


@require_POST
@access.pc
def confirm(request, pk: int):
    order, case = _awarded(request, pk)
    try:
        v = dispatch_actions.confirm_voucher(order, request.user)
    except ActionRefused as refused:
        messages.error(request, f"未能确认凭证：{refused}")
    else:
        messages.success(request, f"已确认凭证 {v.number}，案件进入调解")
    return to_case(order.pk)


@require_POST
@access.pc
def party_add(request, pk: int):
    order, case = _awarded(request, pk)
    form = forms.bootstrap(forms.party_form_class()(request.POST))
    if form.is_valid():
        try:
            services.add_party(case, request.user, form)
        except ActionRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, "已添加当事人")
        return to_case(order.pk, "parties")
    messages.error(request, "当事人未保存，请按提示修改")
    return render(request, "case.html", status=400, **case_context(request, order, case, party_form=form))


# --- 对账中心 / 调解分析 -------------------------------------------------------------------------------
@require_GET
@access.pc(admin_only=True)
def statements(request):
    form = forms.bootstrap(forms.PeriodForm(request.GET or None))
    period = form.period()
    tab = "vouchers" if request.GET.get("tab") == "vouchers" else "cases"
    term = form.cleaned_data.get("q", "") if form.is_bound and form.is_valid() else ""
    if tab == "vouchers":
        page = queries.page_of(queries.vouchers(request.user, period), request.GET.get("page"))
        total = None
    else:
        rows = queries.statement_rows(request.user, period, term)
        page = queries.page_of(rows, request.GET.get("page"))
        from django.db.models import Count, Sum

        total = rows.aggregate(n=Count("pk"), fee=Sum("expected_fee"))
    return render(request, "statements.html", title="对账中心", form=form, tab=tab, page=page, total=total)


@require_GET
@access.pc(admin_only=True)
def analysis(request):
    form = forms.bootstrap(forms.AnalysisForm(request.GET or None))
    figures = queries.analysis(request.user, form.period())
    return render(request, "analysis.html", title="调解分析", form=form, figures=figures,
                  charts=queries.analysis_charts(request.user, figures))
