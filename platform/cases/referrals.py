"""部门转办/交办: street or district staff route a case to a 职能部门 (e.g. 人社局 for a wage
dispute). The referral is what lets the department's users see the case at all (accounts.scope);
they answer it (办理反馈), the referring side may withdraw it (the sight goes away again).
Every step is recorded in the case's trace and notified."""
from __future__ import annotations

from django import forms
from django.db import transaction
from django.utils import timezone

from accounts.scope import department_id
from cases.actions import ActionRefused, in_scope, trace
from cases.models import Case, CaseReferral
from notices.actions import case_label, notify

REFER_PERMISSION = "cases.add_casereferral"      # 区级管理员, 街道管理员 (metadata/roles.yaml)
ANSWER_PERMISSION = "cases.change_casereferral"  # 部门用户
MAX_TEXT = 2000


def departments_for(case: Case):
    """Active 职能部门 whose region covers the case (a district department takes any case of the
    district; a street's department only its street's)."""
    from orgs.models import Organization

    ancestors = [case.region_path[:i + 1] for i, ch in enumerate(case.region_path) if ch == "/"]
    return Organization.objects.filter(kind=Organization.Kind.DEPARTMENT, is_active=True,
                                       region__path__in=ancestors).order_by("name")


def may_refer(user, case: Case) -> bool:
    return user.has_perm(REFER_PERMISSION) and department_id(user) is None and in_scope(user, case)


def open_referral_for(user, case: Case) -> CaseReferral | None:
    """The open referral of ``case`` to the user's department, which the user may answer."""
    dept = department_id(user)
    if dept is None or not user.has_perm(ANSWER_PERMISSION):
        return None
    return CaseReferral.objects.filter(case=case, department_id=dept, state="open").first()


def _text(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ActionRefused(f"请填写{what}")
    if len(value) > MAX_TEXT:
        raise ActionRefused(f"{what}不能超过 {MAX_TEXT} 字")
    return value


def _department_users(org):
    from accounts.models import User

    return list(User.objects.filter(organization=org, is_active=True))


def refer(case: Case, user, *, department, reason: str, kind: str = "transfer") -> CaseReferral:
    if not may_refer(user, case):
        raise ActionRefused("您无权转办该案件")
    reason = _text(reason, "转办事由")
    if kind not in dict(CaseReferral.KINDS):
        raise ActionRefused("请选择转办或交办")
    if department is None or not departments_for(case).filter(pk=department.pk).exists():
        raise ActionRefused("请选择案件所在区域的职能部门")
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()  # one open referral per department
        if CaseReferral.objects.filter(case=case, department=department, state="open").exists():
            raise ActionRefused(f"该案件已转办给“{department}”，尚未反馈")
        referral = CaseReferral.objects.create(case=case, department=department, kind=kind, reason=reason,
                                               referred_by=user)
        label = referral.get_kind_display()
        trace(case, "referral", f"{user}：{label}给 {department}。事由：{reason}", user)
        notify(_department_users(department), "system", f"{label}：{case_label(case)}",
               f"{user} 将案件 {case.exchange_id} {label}给贵部门，请办理并反馈。事由：{reason}", case)
    return referral


def answer(referral: CaseReferral, user, *, text: str) -> CaseReferral:
    text = _text(text, "办理反馈")
    with transaction.atomic():
        referral = CaseReferral.objects.select_for_update().select_related("case", "department").get(pk=referral.pk)
        if open_referral_for(user, referral.case) != referral:
            raise ActionRefused("该转办已反馈或已撤回，或不属于您的部门")
        now = timezone.now()
        CaseReferral.objects.filter(pk=referral.pk).update(state="answered", answer=text, answered_by=user,
                                                           answered_at=now)
        referral.refresh_from_db()
        case = referral.case
        trace(case, "referral", f"{user}（{referral.department}）：办理反馈。{text}", user)
        notify([referral.referred_by], "result", f"部门反馈：{case_label(case)}",
               f"{referral.department} 已反馈：{text}", case)
    return referral


def withdraw(referral: CaseReferral, user, *, reason: str) -> CaseReferral:
    reason = _text(reason, "撤回原因")
    with transaction.atomic():
        referral = CaseReferral.objects.select_for_update().select_related("case", "department").get(pk=referral.pk)
        if not may_refer(user, referral.case):
            raise ActionRefused("您无权撤回该转办")
        if referral.state == "withdrawn":
            raise ActionRefused("该转办已撤回")
        CaseReferral.objects.filter(pk=referral.pk).update(state="withdrawn", closed_at=timezone.now())
        referral.refresh_from_db()
        case = referral.case
        trace(case, "referral", f"{user}：撤回对 {referral.department} 的{referral.get_kind_display()}。"
                                f"原因：{reason}", user)
        # no case link: the department can no longer open the case
        notify(_department_users(referral.department), "system", f"转办已撤回：案件 {case.exchange_id}",
               f"{user} 撤回了转办。原因：{reason}")
    return referral


# --- PC screens (bound in cases.admin_handling) ------------------------------------------------
class ReferForm(forms.Form):
    department = forms.ModelChoiceField(label="承办部门", queryset=None, empty_label="请选择",
                                        error_messages={"required": "请选择承办部门",
                                                        "invalid_choice": "请选择案件所在区域的职能部门"})
    kind = forms.ChoiceField(label="方式", choices=CaseReferral.KINDS, initial="transfer")
    reason = forms.CharField(label="转办事由", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5}),
                             error_messages={"required": "请填写转办事由"})

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments_for(case)


class AnswerForm(forms.Form):
    text = forms.CharField(label="办理反馈", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5}),
                           error_messages={"required": "请填写办理反馈"})


class WithdrawForm(forms.Form):
    referral = forms.ModelChoiceField(label="撤回的转办", queryset=None, empty_label="请选择",
                                      error_messages={"required": "请选择要撤回的转办"})
    reason = forms.CharField(label="撤回原因", max_length=MAX_TEXT, widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "请填写撤回原因"})

    def __init__(self, *args, case: Case, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["referral"]
        field.queryset = CaseReferral.objects.filter(case=case).exclude(state="withdrawn").select_related("department")
        field.label_from_instance = lambda r: f"{r.get_kind_display()}给 {r.department}（{r.get_state_display()}）"


FORMS = {"refer": "转办/交办给部门", "answer": "办理反馈", "withdraw_referral": "撤回转办"}


def links(user, case: Case, handle_url: str) -> list[dict]:
    """The referral entries of the case detail page this user may use."""
    out = []
    if may_refer(user, case):
        out.append({"label": FORMS["refer"], "url": f"{handle_url}?form=refer"})
        if case.referrals.exclude(state="withdrawn").exists():
            out.append({"label": FORMS["withdraw_referral"], "url": f"{handle_url}?form=withdraw_referral"})
    if open_referral_for(user, case) is not None:
        out.append({"label": FORMS["answer"], "url": f"{handle_url}?form=answer"})
    return out


def form_view(model_admin, request, case: Case, kind: str):
    """GET/POST one of FORMS on the PC case page (the same page frame as the handling forms)."""
    from django.contrib import messages
    from django.core.exceptions import PermissionDenied
    from django.http import HttpResponseRedirect
    from django.template.response import TemplateResponse
    from django.urls import reverse

    detail = reverse("admin:cases_case_detail", args=[case.pk])
    referral = open_referral_for(request.user, case) if kind == "answer" else None
    if (kind == "answer" and referral is None) or (kind != "answer" and not may_refer(request.user, case)):
        raise PermissionDenied
    form_class = {"refer": ReferForm, "answer": AnswerForm, "withdraw_referral": WithdrawForm}[kind]
    extra = {} if kind == "answer" else {"case": case}
    form = form_class(request.POST if request.method == "POST" else None, **extra)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if kind == "refer":
                refer(case, request.user, department=data["department"], reason=data["reason"], kind=data["kind"])
            elif kind == "answer":
                answer(referral, request.user, text=data["text"])
            else:
                withdraw(data["referral"], request.user, reason=data["reason"])
        except ActionRefused as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, f"已{FORMS[kind]}")
            # after a withdrawal the page may still be visible; after an answer too (answered stays visible)
            return HttpResponseRedirect(detail)
    for field in form.fields.values():
        field.widget.attrs.setdefault("class", "form-select" if isinstance(field.widget, forms.Select)
                                      else "form-control")
    context = {**model_admin.admin_site.each_context(request), "opts": model_admin.opts, "original": case,
               "title": f"{FORMS[kind]}：{case.exchange_id}", "form": form, "detail_url": detail}
    return TemplateResponse(request, "cases/handle_form.html", context)


def referrals_block(case: Case):
    from lowcode.registry import format_when

    rows = [[r.get_kind_display(), str(r.department), r.reason, str(r.referred_by or ""), format_when(r.referred_at),
             r.get_state_display(), r.answer, format_when(r.answered_at) if r.answered_at else ""]
            for r in case.referrals.select_related("department", "referred_by")]
    return ("部门转办", ["方式", "承办部门", "转办事由", "转办人", "转办时间", "状态", "办理反馈", "反馈时间"], rows)


# --- workbench panel (slot cases.workbench_panels) ------------------------------------------------
PANEL_SIZE = 8


def workbench_panel(request) -> str:
    """部门转办 on the workbench: a department sees what waits for its answer; the referring side
    the referrals of its cases and their state. Nothing for users without the referral rights."""
    from django.template.loader import render_to_string
    from django.urls import reverse

    from accounts.scope import scope_q
    from lowcode.registry import format_when

    user = request.user
    if not user.has_perm("cases.view_casereferral"):
        return ""
    dept = department_id(user)
    if dept is not None:
        qs, heading = CaseReferral.objects.filter(department_id=dept, state="open"), "待本部门反馈的转办"
    else:
        q = scope_q(user, "case__region_path", CaseReferral)
        qs = CaseReferral.objects.all() if q is None else CaseReferral.objects.filter(q)
        qs, heading = qs.exclude(state="withdrawn"), "部门转办"
    rows = [{"referral": r, "url": reverse("admin:cases_case_detail", args=[r.case_id]),
             "case": case_label(r.case), "when": format_when(r.referred_at)}
            for r in qs.select_related("case", "department").order_by("-referred_at", "-id")[:PANEL_SIZE]]
    count = len(rows) if len(rows) < PANEL_SIZE else qs.count()  # the workbench stays a few queries
    return render_to_string("cases/referral_panel.html", {"rows": rows, "heading": heading, "count": count},
                            request=request)
