"""The voucher's printable page (logged-in, scoped) and the public verification page (anyone
holding the voucher: number + check code; it says 有效/无效 and shows only the voucher's own
facts — never a party or the case text)."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.policy import client_ip
from dispatch import voucher as voucher_mod
from dispatch.forms import VerifyForm
from dispatch.scope import visible_vouchers
from secure import ratelimit


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


@never_cache  # a verification answer is not for a proxy or the browser cache to keep
@require_GET
def verify(request, number: str | None = None):
    """Public voucher check. It needs the number and the check code; the number alone (also
    /verify/<number>/, the link printed on the voucher) only fills in the form. Attempts are
    counted per client IP (VERIFY_RATE_LIMIT per VERIFY_RATE_WINDOW seconds)."""
    data = request.GET.copy()
    if number is not None and not data.get("number"):
        data["number"] = number[:32]
    submitted = "number" in request.GET or "code" in request.GET
    form = VerifyForm(data if submitted else None, initial={"number": data.get("number", "")[:32]})
    context = {"form": form, "result": None}
    # only a complete request (number + code) is looked up, and counted
    if submitted and form.is_valid():
        allowed, retry = ratelimit.hit("verify", client_ip(request), settings.VERIFY_RATE_LIMIT,
                                       settings.VERIFY_RATE_WINDOW)
        if not allowed:
            context["limited"] = f"核验次数过多，请 {max(1, (retry + 59) // 60)} 分钟后再试。"
            response = TemplateResponse(request, "dispatch/verify.html", context, status=429)
            response["Retry-After"] = str(retry)
            return response
        valid, reason, v = voucher_mod.check(form.cleaned_data["number"], form.cleaned_data["code"])
        context["result"] = {
            "valid": valid, "reason": reason, "number": form.cleaned_data["number"].strip().upper(),
            # only what the voucher itself certifies, and only when it is genuine
            "facts": {"发单编号": v.order.number, "调解组织": v.organization.name,
                      "出具日期": v.issued_at, "调解期限": v.order.mediation_deadline} if valid else None}
    return TemplateResponse(request, "dispatch/verify.html", context)
