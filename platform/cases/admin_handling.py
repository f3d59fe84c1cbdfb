"""Case handling on PC, from the case detail page: the workflow's buttons (开始调解, 归档 … —
actions that need no form), and small forms for the actions that collect something (提交结果,
申请提级/申请发单), mediation logs and visits. Every write is a call into cases.actions."""
from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from cases import actions, referrals, states, workbench
from cases.actions import ActionRefused
from cases.handling_forms import HelpForm, LogForm, ResultForm, VisitForm, add_errors, bootstrap
from cases.models import Case

# workflow "form" of a transition → the PC form that collects it
HELP_FORMS = {"escalate": "escalate", "dispatch": "dispatch"}
FORM_ACTIONS = {"result", *HELP_FORMS}
# forms that are not workflow transitions (the case stays where it is)
DATA_FORMS = {"log": "记录调解日志", "visit": "回访"}


# --- what the detail page offers ------------------------------------------------------------------
def detail_handling(request, case: Case) -> dict:
    """Buttons on the case detail page for this user and this case."""
    user = request.user
    try:
        available = actions.available_actions(case, user)
        problem = ""
    except ActionRefused as e:  # e.g. no workflow configured for the case type
        available, problem = [], str(e)
    detail_url = reverse("admin:cases_case_detail", args=[case.pk])
    handle = reverse("admin:cases_case_handle", args=[case.pk])
    may_handle = user.has_perm("cases.change_case") and actions.in_scope(user, case)
    buttons = [{"action": t.action, "opinion": t.opinion} for t in available if not t.decision and not t.form]
    links = [{"label": t.action, "url": f"{handle}?action={t.action}"}
             for t in available if not t.decision and t.form in FORM_ACTIONS]
    if may_handle:
        if not states.is_closed(case):
            links.append({"label": DATA_FORMS["log"], "url": f"{handle}?form=log"})
        if actions.may_visit(case):  # closed, or an open key matter
            links.append({"label": DATA_FORMS["visit"], "url": f"{handle}?form=visit"})
    links += referrals.links(user, case, handle)  # 转办/交办给部门, 办理反馈, 撤回转办
    review = workbench.reviews_waiting_for(user).filter(case=case).first()
    return {
        "handling_buttons": buttons,
        "handling_links": links,
        "handling_review_url": reverse("admin:cases_review_decide", args=[review.pk]) if review else "",
        "handling_needs_opinion": any(b["opinion"] for b in buttons),
        "handling_problem": problem,
        "transition_url": reverse("admin:cases_case_transition", args=[case.pk]),
        "detail_url": detail_url,
    }


# --- views (bound to the CaseAdmin instance by cases.admin) -----------------------------------------
def _case_for(model_admin, request, object_id) -> Case:
    case = model_admin.get_object(request, object_id)
    if case is None:
        raise Http404("记录不存在或无权访问")
    if not model_admin.has_view_or_change_permission(request, case):
        raise PermissionDenied
    return case


def transition_view(model_admin, request, object_id):
    """POST action=<动作>: fire a workflow action that needs no form."""
    case = _case_for(model_admin, request, object_id)
    detail = reverse("admin:cases_case_detail", args=[case.pk])
    if request.method != "POST":
        return HttpResponseRedirect(detail)
    action = request.POST.get("action", "")
    try:
        t = next((t for t in actions.available_actions(case, request.user) if t.action == action), None)
        if t is not None and t.decision:
            raise ActionRefused("审核请在审核界面办理")
        if t is not None and t.form:
            raise ActionRefused(f"“{action}”需要填写表单")
        actions.do_transition(case, action, request.user, opinion=request.POST.get("opinion", ""))
    except ActionRefused as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"已{action}")
    return HttpResponseRedirect(detail)


def handle_view(model_admin, request, object_id):
    """GET/POST ?action=<动作> (a transition with a form) or ?form=log|visit."""
    case = _case_for(model_admin, request, object_id)
    detail = reverse("admin:cases_case_detail", args=[case.pk])
    action = request.GET.get("action", "")
    kind = request.GET.get("form", "")
    if action:
        try:
            t = next((t for t in actions.available_actions(case, request.user)
                      if t.action == action and not t.decision and t.form in FORM_ACTIONS), None)
            if t is None:
                raise ActionRefused(actions.refusal_reason(case, request.user, action)
                                    if actions.workflow(case).find(case.status, action) else f"当前不能执行“{action}”")
        except ActionRefused as e:
            messages.error(request, str(e))
            return HttpResponseRedirect(detail)
        kind, title = t.form, action
    elif kind in referrals.FORMS:
        return referrals.form_view(model_admin, request, case, kind)
    elif kind in DATA_FORMS:
        if not (request.user.has_perm("cases.change_case") and actions.in_scope(request.user, case)):
            raise PermissionDenied
        title = DATA_FORMS[kind]
    else:
        raise Http404("未知表单")

    def make_form(*args, **kwargs):
        if kind in HELP_FORMS:
            return bootstrap(HelpForm(*args, kind=HELP_FORMS[kind], **kwargs))
        return bootstrap({"result": ResultForm, "log": LogForm, "visit": VisitForm}[kind](*args, **kwargs))

    if request.method == "POST":
        form = make_form(request.POST, request.FILES)
        if form.is_valid():
            data, user = form.cleaned_data, request.user
            try:
                if kind == "result":
                    actions.submit_result(case, user, action=action, outcome=data["outcome"],
                                          agreement=data["agreement"], amount=data["amount"],
                                          uploads=data["files"])
                elif kind in HELP_FORMS:
                    actions.request_help(case, user, action=action, kind=HELP_FORMS[kind], reason=data["reason"],
                                         expected_fee=data.get("expected_fee"))
                elif kind == "log":
                    actions.add_log(case, user, content=data["content"], occurred_at=data["occurred_at"],
                                    place=data["place"], participants=data["participants"],
                                    uploads=data["files"])
                else:
                    actions.add_visit(case, user, way=data["way"], satisfaction=data["satisfaction"],
                                      notes=data["notes"], visited_at=data["visited_at"])
            except ValidationError as e:
                add_errors(form, e)
            except ActionRefused as e:
                form.add_error(None, str(e))
            else:
                messages.success(request, f"已{title}")
                return HttpResponseRedirect(detail)
    else:
        form = make_form(initial=ResultForm.initial_from(getattr(case, "result", None)) if kind == "result" else None)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": case,
        "title": f"{title}：{case}",
        "form": form,
        "detail_url": detail,
    }
    return TemplateResponse(request, "cases/handle_form.html", context)
