"""The voucher's printable page (logged-in, scoped) and the public verification page (anyone:
it says 有效/无效 and shows only the voucher's own facts — never a party or the case text)."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from dispatch import voucher as voucher_mod
from dispatch.forms import VerifyForm
from dispatch.scope import visible_vouchers


@login_required(login_url="admin:login")
@require_GET
def voucher_page(request, pk: int):
    v = visible_vouchers(request.user).select_related("order__case", "organization", "mediator", "bid",
                                                       "issued_by", "confirmed_by").filter(pk=pk).first()
    if v is None:
        raise Http404("凭证不存在或无权查看")
    valid, reason, _ = voucher_mod.verify(v.number)
    return TemplateResponse(request, "dispatch/voucher.html", {
        "v": v, "order": v.order, "valid": valid, "reason": reason,
        "verify_url": request.build_absolute_uri(reverse("verify_voucher", args=[v.number]))})


@require_GET
def verify(request, number: str | None = None):
    form = VerifyForm(request.GET or None)
    if number is None and request.GET and form.is_valid():
        params = f"?code={form.cleaned_data['code']}" if form.cleaned_data["code"] else ""
        return redirect(reverse("verify_voucher", args=[form.cleaned_data["number"].strip()]) + params)
    result = None
    if number is not None:
        valid, reason, v = voucher_mod.verify(number[:32], (request.GET.get("code") or "")[:64])
        result = {"valid": valid, "reason": reason, "number": number[:32],
                  # only what the voucher itself certifies, and only when it is genuine
                  "facts": {"发单编号": v.order.number, "调解组织": v.organization.name,
                            "出具日期": v.issued_at, "调解期限": v.order.mediation_deadline} if valid else None}
    return TemplateResponse(request, "dispatch/verify.html", {"form": form, "result": result})
