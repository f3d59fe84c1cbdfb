"""Single sign-on that ends exactly like a password login: the same ``django.contrib.auth.login``
(so the login audit row, django-axes' reset and the session), the same lockout check before it,
and then the same login gate (accounts.middleware: second factor where the policy asks for it,
forced password change). An outside identity reaches only an account it was bound to (by a
district admin, or by the 政钉 sync); nothing is ever created or granted at login."""
from __future__ import annotations

from django.contrib.auth import login
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts import policy
from integrations.models import ExternalAccount, ExternalSystem
from secure import audit

BACKEND = "django.contrib.auth.backends.ModelBackend"
LANDING = {"pc": "/admin/", "h5": "/h5/"}
PASSWORD_LOGIN = {"pc": "/admin/login/", "h5": "/h5/login/"}


def refuse(request, system: ExternalSystem | None, message: str, status: int = 403, end: str = "pc",
           username: str = ""):
    audit.record("sso_failed", request=request, username=username[:150], outcome="failure",
                 system=getattr(system, "code", ""), reason=message)
    return render(request, "integrations/sso_failed.html", {
        "message": message, "status": status, "login_url": PASSWORD_LOGIN.get(end, "/admin/login/")}, status=status)


def is_locked(request, username: str) -> bool:
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, credentials={"username": username})


def complete(request, system: ExternalSystem, external_id: str, end: str, next_url: str = ""):
    external_id = str(external_id or "").strip()
    who = f"{system.code}:{external_id}"
    if not external_id:
        return refuse(request, system, f"{system.name}未返回用户编号。", end=end, username=who)
    bound = ExternalAccount.objects.select_related("user").filter(system=system, external_id=external_id).first()
    if bound is None:
        return refuse(request, system, f"该{system.name}账号尚未绑定本系统账号，请联系区级管理员绑定并分配角色。",
                      end=end, username=who)
    user = bound.user
    if not user.is_active:
        return refuse(request, system, "本系统账号已停用。", end=end, username=user.get_username())
    if is_locked(request, user.get_username()):
        return refuse(request, system, "账号因多次登录失败已被锁定，请稍后再试或联系安全管理员解锁。", status=429,
                      end=end, username=user.get_username())
    login(request, user, backend=BACKEND)  # user_logged_in → the "login" audit row, axes reset
    request.session["sso_system"] = system.code
    # 政钉 verified the person and the device; the security policy decides whether that is the factor
    request.session[policy.SSO_FACTOR_KEY] = system.kind == ExternalSystem.ZZD
    ExternalAccount.objects.filter(pk=bound.pk).update(last_login_at=timezone.now())
    audit.record("sso_login", request=request, user=user, system=system.code, end=end)
    return redirect(next_url or LANDING.get(end, "/admin/"))


def login_links(request, end: str) -> list[tuple[str, str]]:
    """The enabled single sign-on entries for a login page (slot ``accounts.login_links``)."""
    from django.urls import reverse

    links = []
    for system in ExternalSystem.objects.filter(enabled=True).order_by("code"):
        if system.kind == ExternalSystem.ZZD:
            if end == "pc" and system.login_url:
                links.append((f"{system.name}扫码登录", reverse("integrations:zzd_qr")))
            elif end == "h5":
                links.append((f"{system.name}免登（在政钉中打开）", reverse("integrations:zzd_h5")))
        elif system.kind in ExternalSystem.SSO_KINDS and system.end == end:
            links.append((f"{system.name}登录", reverse("integrations:sso_start", args=[system.code])))
    return links
