"""第三方调解端 H5 (third-party mediator on a phone; weui, the grassroots H5's base template,
forms and attachment view). Thin: reads from partners.queries, writes through dispatch.actions,
cases.actions (via h5.services for logs) and partners.services. Ids outside the scope → 404."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import actions as case_actions
from cases import handling_forms
from cases.actions import ActionRefused
from cases.admin import can_see_sensitive
from dispatch import actions as dispatch_actions
from dispatch import scope
from h5 import forms as h5_forms
from h5 import queries as h5_queries
from h5 import services as h5_services
from h5 import views as h5_views
from notices.actions import unread_count
from partners import access, forms, queries, services


def render_m(request, template: str, context: dict, status: int = 200):
    context.setdefault("unread", unread_count(request.user))
    return render(request, f"thirdparty/m/{template}", context, status=status)


class LoginView(h5_views.LoginView):
    template_name = "thirdparty/m/login.html"
    next_page = "thirdparty:m_home"


class LogoutView(h5_views.LogoutView):
    next_page = "thirdparty:m_login"


def _query(request, form_class):
    form = h5_forms.style_form(form_class(request.GET or None))
    return form, (form.values() if request.GET else {})


# --- 竞单中心 -----------------------------------------------------------------------------------------
@require_GET
@access.m
def home(request):
    """Orders 未开始 / 报名中 (tabs) with the combined query."""
    form, values = _query(request, forms.PoolQuery)
    values.setdefault("phase", "bidding")
    page = queries.page_of(queries.pool(request.user, values), request.GET.get("page"))
    return render_m(request, "pool.html", {"form": form, "page": page, "phase": values["phase"],
                                           "active_tab": "pool", "q": values.get("q", ""),
                                           "keep": ("phase", values["phase"])})


@require_GET
@access.m
def bids(request):
    """我的报名."""
    form, values = _query(request, forms.BidQuery)
    page = queries.page_of(queries.bid_records(request.user, values), request.GET.get("page"))
    return render_m(request, "bids.html", {"form": form, "page": page, "active_tab": "bids",
                                           "status": values.get("status", "")})


def _visible(request, pk: int):
    order = queries.visible_order(request.user, pk)
    if order is None:
        raise Http404("发单不存在或无权查看")
    return order


def order_context(request, order, form=None) -> dict:
    bid = queries.my_bid(request.user, order)
    taken = queries.org_signed_up(request.user, order)
    can_sign = order.phase == "bidding" and not taken
    if can_sign and form is None:
        form = forms.SignUpForm(org=request.tp_org, choose_mediator=request.tp_admin)
    return {"order": order, "bid": bid, "form": h5_forms.style_form(form) if can_sign else None,
            "colleague": taken and (bid is None or bid.status == "cancelled"),
            "awarded_here": order.awarded_org_id == request.tp_org.pk and order.state in queries.CASE_PHASES,
            "type_label": queries.label("case_type", order.case_type),
            "mediation_type": queries.label("mediation_type", order.mediation_type)}


@require_GET
@access.m
def order(request, pk: int):
    """发单 / 报名详情."""
    return render_m(request, "order.html", order_context(request, _visible(request, pk)))


@require_POST
@access.m
def sign_up(request, pk: int):
    order = _visible(request, pk)
    form = forms.SignUpForm(request.POST, org=request.tp_org, choose_mediator=request.tp_admin)
    if form.is_valid():
        d = form.cleaned_data
        try:
            dispatch_actions.sign_up(order, request.user, plan=d["plan"], quoted_fee=d["quoted_fee"],
                                     mediator=d.get("mediator"))
        except ActionRefused as refused:
            messages.error(request, f"报名未成功：{refused}")
        else:
            messages.success(request, f"报名成功：{order.number}")
        return redirect("thirdparty:m_order", pk=order.pk)
    messages.error(request, "报名未提交，请按提示修改")
    return render_m(request, "order.html", order_context(request, order, form), status=400)


@require_POST
@access.m
def cancel(request, pk: int):
    order = _visible(request, pk)
    bid = scope.own_bids(request.user).filter(order=order, status="active").first()
    try:
        if bid is None:
            raise ActionRefused("没有可取消的报名")
        dispatch_actions.cancel_bid(bid, request.user)
    except ActionRefused as refused:
        messages.error(request, f"未能取消报名：{refused}")
    else:
        messages.success(request, "已取消报名")
    return redirect("thirdparty:m_order", pk=order.pk)


# --- 调解中心 -----------------------------------------------------------------------------------------
@require_GET
@access.m
def cases(request):
    form, values = _query(request, forms.CaseQuery)
    page = queries.page_of(queries.awarded(request.user, values), request.GET.get("page"))
    return render_m(request, "cases.html", {"form": form, "page": page, "active_tab": "cases",
                                            "phase": values.get("phase", "")})


def _awarded(request, pk: int):
    order = queries.awarded_order(request.user, pk)
    case = queries.granted_case(request.user, order) if order is not None else None
    if case is None:
        raise Http404("案件不存在或未选定贵组织")
    return order, case


def case_context(request, order, case, *, log_form=None, party_form=None) -> dict:
    handling = order.state == "mediating"
    result = getattr(case, "result", None)
    result_action = next((t.action for t in _available(case, request.user)
                          if t.form == "result" and not t.decision), None) if handling else None
    return {
        "order": order, "case": case, "voucher": getattr(order, "voucher", None),
        "status_label": case_actions.state_label(case.status),
        "type_label": queries.label("case_type", case.case_type),
        "parties": h5_queries.party_rows(case, can_see_sensitive(request)),
        "handling": handling,
        "party_form": h5_forms.style_form(party_form or forms.party_form_class()()) if handling else None,
        "log_form": log_form or h5_forms.style_form(handling_forms.LogForm()) if handling else None,
        "logs": list(case.logs.select_related("created_by").prefetch_related("attachments")),
        "result": result, "result_label": queries.label("mediation_outcome", result.outcome) if result else "",
        "result_files": list(case.attachments.filter(purpose="result")),
        "result_action": result_action,
        "events": list(case.events.select_related("actor")[:50]),
        "active_tab": "cases",
    }


def _available(case, user):
    try:
        return case_actions.available_actions(case, user)
    except ActionRefused:
        return []


@require_GET
@access.m
def case(request, pk: int):
    order, case = _awarded(request, pk)
    return render_m(request, "case.html", case_context(request, order, case))


@require_GET
@access.m
def voucher(request, pk: int):
    order, case = _awarded(request, pk)
    v = scope.visible_vouchers(request.user).filter(order=order).select_related("organization", "mediator").first()
    if v is None:
        raise Http404("凭证不存在")
    return render_m(request, "voucher.html", {"order": order, "case": case, "voucher": v,
                                              "verify_url": _verify_url(v)})


def _verify_url(v) -> str:
    try:
        return reverse("verify_voucher", args=[v.number])
    except Exception:  # noqa: BLE001 - the verification page is dispatch's; absent, no link
        return ""


@require_POST
@access.m
def confirm(request, pk: int):
    order, case = _awarded(request, pk)
    try:
        v = dispatch_actions.confirm_voucher(order, request.user)
    except ActionRefused as refused:
        messages.error(request, f"未能确认凭证：{refused}")
    else:
        messages.success(request, f"已确认凭证 {v.number}，请开始调解")
    return redirect("thirdparty:m_case", pk=order.pk)


@require_POST
@access.m
def party_add(request, pk: int):
    order, case = _awarded(request, pk)
    form = forms.party_form_class()(request.POST)
    if form.is_valid():
        try:
            services.add_party(case, request.user, form)
        except ActionRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, "已添加当事人")
        return redirect(reverse("thirdparty:m_case", args=[order.pk]) + "#parties")
    messages.error(request, "当事人未保存，请按提示修改")
    return render_m(request, "case.html", case_context(request, order, case, party_form=form), status=400)


@require_POST
@access.m
def log_add(request, pk: int):
    order, case = _awarded(request, pk)
    form = h5_forms.style_form(handling_forms.LogForm(request.POST, request.FILES))
    if form.is_valid():
        try:
            if order.state != "mediating":
                raise ActionRefused("请先确认凭证，调解中的案件才能记录日志")
            h5_services.add_log(case, request.user, form.cleaned_data)
        except ActionRefused as refused:
            messages.error(request, str(refused))
            return redirect("thirdparty:m_case", pk=order.pk)
        except ValidationError as error:
            handling_forms.add_errors(form, error)
        else:
            messages.success(request, "已记录调解日志")
            return redirect(reverse("thirdparty:m_case", args=[order.pk]) + "#logs")
    messages.error(request, "调解日志未保存，请按提示修改")
    return render_m(request, "case.html", case_context(request, order, case, log_form=form), status=400)


@require_http_methods(["GET", "POST"])
@access.m
def result(request, pk: int):
    """提交调解结果 for review (the case workflow's result transition, e.g. 提交结果)."""
    order, case = _awarded(request, pk)
    action = next((t.action for t in _available(case, request.user) if t.form == "result" and not t.decision), None)
    if order.state != "mediating" or action is None:
        messages.error(request, "当前不能提交调解结果" + ("（请先确认凭证）" if order.state == "awarded" else
                                                  f"（案件状态：{case_actions.state_label(case.status)}）"))
        return redirect("thirdparty:m_case", pk=order.pk)
    existing = getattr(case, "result", None)
    if request.method == "POST":
        form = h5_forms.style_form(handling_forms.ResultForm(request.POST, request.FILES))
        if form.is_valid():
            d = form.cleaned_data
            try:
                done = case_actions.submit_result(case, request.user, action=action, outcome=d["outcome"],
                                                  agreement=d["agreement"], amount=d["amount"], uploads=d["files"])
            except ActionRefused as refused:
                messages.error(request, f"未能提交：{refused}")
                return redirect("thirdparty:m_case", pk=order.pk)
            except ValidationError as error:
                handling_forms.add_errors(form, error)
            else:
                messages.success(request, f"调解结果已提交审核，案件状态：{case_actions.state_label(done.case.status)}")
                return redirect("thirdparty:m_case", pk=order.pk)
    else:
        form = h5_forms.style_form(handling_forms.ResultForm(initial=handling_forms.ResultForm.initial_from(existing)))
    return render_m(request, "result.html", {"order": order, "case": case, "form": form, "action": action})


# --- 消息 ------------------------------------------------------------------------------------------
@require_GET
@access.m
def inbox(request):
    from notices.models import Notice

    listing = h5_queries.notice_page(request.user, h5_views.page_number(request))
    return render_m(request, "messages.html", {"listing": listing, "kinds": dict(Notice.KINDS),
                                               "active_tab": "messages"})
