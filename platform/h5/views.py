"""H5 基层调解端 views: thin — reads come from h5.queries, writes go through cases.actions (and
h5.services for the few writes it has no function for). Every case is fetched through the
user's scope: a case outside it is 404 on every URL."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import LoginForm
from accounts.scope import scope_queryset
from cases import actions, handling_forms, states, summary
from cases.actions import ActionRefused
from cases.admin import can_see_sensitive
from cases.models import Attachment, Case
from h5 import forms as h5_forms
from h5 import queries, services
from lowcode import registry
from lowcode.modeladmin import display_sections, format_display
from notices.actions import mark_read, readable, unread_by_kind, unread_count
from notices.models import Notice

VIEW = "cases.view_case"
CHANGE = "cases.change_case"
ADD = "cases.add_case"
FORM_VIEWS = {"result": "h5:result", "escalate": "h5:help", "dispatch": "h5:help"}


# --- plumbing ----------------------------------------------------------------------------------
def h5_view(*perms: str):
    """Login on the H5 login page; without the permissions a Chinese 403 page."""
    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path(), reverse("h5:login"))
            if not request.user.has_perms(perms):
                return render_h5(request, "h5/denied.html", {}, status=403)
            return view(request, *args, **kwargs)
        return wrapper
    return decorate


def render_h5(request, template: str, context: dict, status: int = 200):
    context.setdefault("unread", unread_count(request.user) if request.user.is_authenticated else 0)
    return render(request, template, context, status=status)


def scoped_case(request, pk: int) -> Case:
    return get_object_or_404(scope_queryset(request.user, Case.objects.select_related(
        "region", "registrant", "organization")), pk=pk)


def page_number(request) -> int:
    try:
        return max(int(request.GET.get("page", 1)), 1)
    except ValueError:
        return 1


def roles(request) -> tuple[str, ...]:
    return actions.roles_of(request.user)


def to_case(case: Case, anchor: str = ""):
    return redirect(reverse("h5:case", args=[case.pk]) + (f"#{anchor}" if anchor else ""))


def form_url(case: Case, t) -> str:
    return reverse(FORM_VIEWS[t.form], args=[case.pk]) + "?" + urlencode({"action": t.action})


# --- login -------------------------------------------------------------------------------------
class LoginView(auth_views.LoginView):
    template_name = "h5/login.html"
    authentication_form = LoginForm  # one message for unknown user and wrong password
    redirect_authenticated_user = True
    next_page = "h5:home"

    def get_form(self, form_class=None):
        return h5_forms.login_form_styled(super().get_form(form_class))


class LogoutView(auth_views.LogoutView):
    next_page = "h5:login"


# --- home: tabs and search ---------------------------------------------------------------------
@require_GET
@h5_view(VIEW)
def home(request):
    tab = request.GET.get("tab") or "registered"
    if tab not in dict(queries.TABS):
        tab = "registered"
    term = request.GET.get("q", "").strip()
    listing = queries.case_page(request.user, tab, term, page_number(request))
    context = {"tab": tab, "tabs": queries.TABS, "q": term, "listing": listing,
               "can_add": request.user.has_perm(ADD), "active_tab": "" if term else tab}
    if request.GET.get("partial"):
        return render(request, "h5/_case_items.html", context)
    return render_h5(request, "h5/home.html", context)


# --- add a case --------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
@h5_view(VIEW, ADD)
def case_new(request):
    case_type = request.POST.get("case_type") or request.GET.get("type") or ""
    types = registry.get_dictionary("case_type")
    if case_type not in types or not types[case_type].is_active:
        return render_h5(request, "h5/case_type.html", {"tree": queries.case_type_tree()})
    form_class = h5_forms.case_form_class(request.user, case_type, roles(request))
    formset_class = h5_forms.party_formset_class(can_see_sensitive(request))
    if request.method == "POST":
        form = form_class(request.POST, request.FILES, instance=Case(case_type=case_type))
        formset = formset_class(request.POST, instance=form.instance, prefix="parties",
                                initial=h5_forms.PARTY_INITIAL)  # as on GET: untouched rows stay empty
        if form.is_valid() and formset.is_valid():
            case = services.register_case(form, formset, request.user)
            messages.success(request, f"案件已登记，编号 {case.exchange_id}")
            return to_case(case)
        messages.error(request, "请按提示修改后再提交")
    else:
        form = form_class(instance=Case(case_type=case_type))
        formset = formset_class(instance=form.instance, prefix="parties", initial=h5_forms.PARTY_INITIAL)
    sections = [(title, [form[c] for c in codes if c in form.fields])
                for title, codes in h5_forms.visible_sections(registry.get_meta("case"), case_type,
                                                              h5_forms.SCREEN, roles(request))]
    placed = {bf.name for _, bfs in sections for bf in bfs}
    hidden = [form[name] for name in form.fields if name not in placed]
    return render_h5(request, "h5/case_form.html", {
        "form": form, "formset": formset, "sections": sections, "hidden_fields": hidden,
        "case_type": case_type, "type_label": types[case_type].path_label,
    })


# --- the case page -----------------------------------------------------------------------------
def case_context(request, case: Case, *, log_form=None, item_form=None) -> dict:
    user, meta = request.user, registry.get_meta("case")
    see = can_see_sensitive(request)
    closed = states.is_closed(case)
    buttons, elsewhere = [], []
    try:
        available = actions.available_actions(case, user)
    except ActionRefused as refused:  # e.g. no workflow configured for the case type
        available, elsewhere = [], [str(refused)]
    for t in available:
        if t.decision:
            continue  # reviews are decided on PC
        if t.form in FORM_VIEWS:
            buttons.append({"t": t, "url": form_url(case, t)})
        elif t.form:
            elsewhere.append(f"“{t.action}”请在电脑端办理")
        else:
            buttons.append({"t": t, "url": ""})
    can_handle = user.has_perm(CHANGE)
    result = getattr(case, "result", None)
    return {
        "case": case,
        "status_label": queries.label("case_status", case.status),
        "type_label": queries.label("case_type", case.case_type),
        "overdue": states.is_overdue(case),
        "closed": closed,
        "sections": display_sections("case", case, case.case_type, "detail", roles(request),
                                     lambda spec, obj, value: format_display(meta, spec, value, see, obj)),
        "parties": queries.party_rows(case, see),
        "buttons": buttons,
        "elsewhere": elsewhere,
        "can_handle": can_handle and not closed,
        "can_visit": can_handle and actions.may_visit(case),
        "items": list(case.items.all()),
        "item_form": item_form or h5_forms.style_form(handling_forms.ItemForm()),
        "logs": list(case.logs.select_related("created_by").prefetch_related("attachments")),
        "log_form": log_form or h5_forms.style_form(handling_forms.LogForm()),
        "result": result,
        "result_label": queries.label("mediation_outcome", result.outcome) if result else "",
        "result_files": list(case.attachments.filter(purpose="result")),
        "help_requests": list(case.help_requests.select_related("requested_by")),
        "reviews": queries.review_rows(case),
        "events": list(case.events.select_related("actor")[:100]),
        "visits": queries.visit_rows(case),
        "similar": queries.similar_cases(case, user),
        "summary_flags": summary.flags_for(request, case),  # warning colour, same-case verdicts (extensions)
    }


@require_GET
@h5_view(VIEW)
def case_detail(request, pk: int):
    case = scoped_case(request, pk)
    return render_h5(request, "h5/case_detail.html", case_context(request, case))


@require_POST
@h5_view(VIEW, CHANGE)
def case_log(request, pk: int):
    case = scoped_case(request, pk)
    form = h5_forms.style_form(handling_forms.LogForm(request.POST, request.FILES))
    if form.is_valid():
        try:
            services.add_log(case, request.user, form.cleaned_data)
        except ActionRefused as refused:
            messages.error(request, str(refused))
            return to_case(case, "logs")
        except ValidationError as error:
            handling_forms.add_errors(form, error)
        else:
            messages.success(request, "已记录调解日志")
            return to_case(case, "logs")
    messages.error(request, "调解日志未保存，请按提示修改")
    return render_h5(request, "h5/case_detail.html", case_context(request, case, log_form=form))


@require_POST
@h5_view(VIEW, CHANGE)
def case_item_add(request, pk: int):
    case = scoped_case(request, pk)
    form = h5_forms.style_form(handling_forms.ItemForm(request.POST))
    if form.is_valid():
        try:
            services.add_item(case, request.user, form)
        except ActionRefused as refused:
            messages.error(request, str(refused))
        else:
            messages.success(request, "已添加调解事项")
        return to_case(case, "items")
    messages.error(request, "调解事项未保存，请按提示修改")
    return render_h5(request, "h5/case_detail.html", case_context(request, case, item_form=form))


@require_POST
@h5_view(VIEW, CHANGE)
def case_item_delete(request, pk: int, item_pk: int):
    case = scoped_case(request, pk)
    try:
        services.remove_item(case, request.user, item_pk)
    except ActionRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, "已删除调解事项")
    return to_case(case, "items")


@require_POST
@h5_view(VIEW)
def case_transition(request, pk: int):
    """A transition without a form (开始调解, 归档…). One that collects a form goes to it;
    review decisions are made on PC; anything else refused is told with its reason."""
    case = scoped_case(request, pk)
    action = request.POST.get("action", "")
    try:
        t = next((t for t in actions.available_actions(case, request.user) if t.action == action), None)
        if t is None:
            raise ActionRefused(actions.refusal_reason(case, request.user, action))
        if t.decision:
            raise ActionRefused("审核请在电脑端（管理分析端）办理")
        if t.form in FORM_VIEWS:
            return redirect(form_url(case, t))
        if t.form:
            raise ActionRefused(f"“{action}”需要在电脑端办理")
        done = actions.do_transition(case, action, request.user)
    except ActionRefused as refused:
        messages.error(request, f"未能{action}：{refused}")
    else:
        messages.success(request, f"已{action}，案件状态：{actions.state_label(done.case.status)}")
    return to_case(case)


def _form_transition(request, case: Case, forms: tuple[str, ...]):
    """The transition named by ?action= that collects one of ``forms``; else ActionRefused."""
    action = request.POST.get("action") or request.GET.get("action", "")
    t = next((t for t in actions.available_actions(case, request.user)
              if t.action == action and t.form in forms and not t.decision), None)
    if t is None:
        raise ActionRefused(actions.refusal_reason(case, request.user, action) if action
                            else "请从案件页面选择要办理的操作")
    return t


@require_http_methods(["GET", "POST"])
@h5_view(VIEW, CHANGE)
def case_result(request, pk: int):
    case = scoped_case(request, pk)
    try:
        t = _form_transition(request, case, ("result",))
    except ActionRefused as refused:
        messages.error(request, str(refused))
        return to_case(case)
    if request.method == "POST":
        form = h5_forms.style_form(handling_forms.ResultForm(request.POST, request.FILES))
        if form.is_valid():
            data = form.cleaned_data
            try:
                done = actions.submit_result(case, request.user, action=t.action, outcome=data["outcome"],
                                             agreement=data["agreement"], amount=data["amount"],
                                             uploads=data["files"])
            except ActionRefused as refused:
                messages.error(request, f"未能{t.action}：{refused}")
                return to_case(case)
            except ValidationError as error:
                handling_forms.add_errors(form, error)
            else:
                messages.success(request, f"调解结果已提交，案件状态：{actions.state_label(done.case.status)}")
                return to_case(case)
    else:
        form = h5_forms.style_form(handling_forms.ResultForm(
            initial=handling_forms.ResultForm.initial_from(getattr(case, "result", None))))
    return render_h5(request, "h5/result_form.html", {"case": case, "form": form, "t": t})


@require_http_methods(["GET", "POST"])
@h5_view(VIEW, CHANGE)
def case_help(request, pk: int):
    case = scoped_case(request, pk)
    try:
        t = _form_transition(request, case, ("escalate", "dispatch"))
    except ActionRefused as refused:
        messages.error(request, str(refused))
        return to_case(case)
    form = h5_forms.style_form(handling_forms.HelpForm(request.POST if request.method == "POST" else None,
                                                       kind=t.form))
    if request.method == "POST" and form.is_valid():
        try:
            done = actions.request_help(case, request.user, action=t.action, kind=t.form,
                                        reason=form.cleaned_data["reason"],
                                        expected_fee=form.cleaned_data.get("expected_fee"))
        except ActionRefused as refused:
            messages.error(request, f"未能{t.action}：{refused}")
            return to_case(case)
        except ValidationError as error:
            handling_forms.add_errors(form, error)
        else:
            messages.success(request, f"已{t.action}，案件状态：{actions.state_label(done.case.status)}")
            return to_case(case)
    return render_h5(request, "h5/help_form.html", {"case": case, "form": form, "t": t})


@require_http_methods(["GET", "POST"])
@h5_view(VIEW, CHANGE)
def visit_new(request, pk: int):
    case = scoped_case(request, pk)
    if not actions.may_visit(case):
        messages.error(request, f"案件尚未办结（{actions.state_label(case.status)}），办结后才能回访")
        return to_case(case)
    form = h5_forms.style_form(handling_forms.VisitForm(request.POST if request.method == "POST" else None))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            actions.add_visit(case, request.user, way=data["way"], satisfaction=data["satisfaction"],
                              notes=data["notes"], visited_at=data["visited_at"])
        except ActionRefused as refused:
            messages.error(request, str(refused))
            return to_case(case)
        except ValidationError as error:
            handling_forms.add_errors(form, error)
        else:
            messages.success(request, "已记录回访")
            return to_case(case, "visits")
    return render_h5(request, "h5/visit_form.html", {"case": case, "form": form})


@require_GET
@h5_view(VIEW)
def attachment(request, pk: int):
    """Attachments are served only to users who can see their case."""
    att = get_object_or_404(scope_queryset(request.user, Attachment.objects.all(), "case__region_path"), pk=pk)
    try:
        handle = att.file.open("rb")
    except FileNotFoundError:
        raise Http404("附件文件不存在") from None
    inline = (att.content_type or "").startswith("image/") or att.name.lower().endswith(".pdf")
    return FileResponse(handle, as_attachment=not inline, filename=att.name)


# --- messages ----------------------------------------------------------------------------------
@require_GET
@h5_view()
def inbox(request):
    kind = request.GET.get("kind", "")
    kind = kind if kind in dict(Notice.KINDS) else ""  # an unknown kind: all messages
    listing = queries.notice_page(request.user, page_number(request), kind)
    return render_h5(request, "h5/messages.html", {"listing": listing, "kinds": dict(Notice.KINDS),
                                                    "kind": kind, "kind_tabs": unread_by_kind(request.user),
                                                    "active_tab": "messages"})


@require_GET
@h5_view()
def notice_open(request, pk: int):
    notice = get_object_or_404(readable(request.user), pk=pk)  # own, and its case still in scope
    mark_read(request.user, [notice.pk])
    return render_h5(request, "h5/notice.html", {
        "notice": notice, "kind": dict(Notice.KINDS).get(notice.kind, notice.kind),
        "case_visible": queries.case_visible(request.user, notice.case_id)})


@require_POST
@h5_view()
def inbox_read_all(request):
    kind = request.POST.get("kind", "")
    kind = kind if kind in dict(Notice.KINDS) else ""
    count = mark_read(request.user, kind=kind or None)
    messages.success(request, f"已将 {count} 条消息标为已读" if count else "没有未读消息")
    return redirect(f"{reverse('h5:messages')}?kind={kind}" if kind else reverse("h5:messages"))


# --- personal centre ---------------------------------------------------------------------------
@require_GET
@h5_view()
def me(request):
    user = request.user
    return render_h5(request, "h5/me.html", {
        "profile": user, "role_names": "、".join(user.role_names) or "—",
        "region": user.region.full_name if user.region_id else "—",
        "figures": queries.my_figures(user), "charts": queries.my_charts(user), "active_tab": "me"})
