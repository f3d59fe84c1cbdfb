"""The steps between the password and a usable session, on every end (PC, H5, third-party H5):
the second factor (verify or enrol), the forced password change, the idle keep-alive, and the
page shown while django-axes locks a login out. The pages are standalone and phone-friendly,
like the login pages; ``next`` brings the user back to where the gate stopped them."""
from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods
from django_otp import login as otp_login

from accounts import factors, policy
from accounts.forms import ChangePasswordForm, TokenForm
from secure import audit


def next_url(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return "/admin/"


def login_url_for(path: str) -> str:
    if path.startswith("/tp/m/"):
        return "/tp/m/login/"
    if path.startswith("/h5/"):
        return "/h5/login/"
    return "/admin/login/"


def logout_url_for(path: str) -> str:
    return {"/tp/m/login/": "/tp/m/logout/", "/h5/login/": "/h5/logout/"}.get(login_url_for(path),
                                                                             "/admin/logout/")


def step_redirect(name: str, nxt: str):
    return redirect(f"{reverse(name)}?{urlencode({'next': nxt})}")


def step_page(request, template: str, context: dict, status: int = 200):
    nxt = next_url(request)
    return render(request, f"accounts/{template}", {"next": nxt, "logout_url": logout_url_for(nxt),
                                                    **context}, status=status)


# --- second factor -----------------------------------------------------------------------------
@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_verify(request):
    factor, device = factors.first_confirmed_device(request.user)
    if device is None:
        return step_redirect("accounts:otp_setup", next_url(request))
    if request.user.is_verified() or policy.sso_is_factor(request):  # the factor is already there
        return redirect(next_url(request))
    form = TokenForm(request.POST or None)
    blocked = factor.blocked(device)
    if request.method == "POST" and form.is_valid() and not blocked:
        if factor.verify(device, form.cleaned_data["token"]):
            otp_login(request, device)
            audit.record("otp_verified", request=request, obj=device, factor=factor.code)
            return redirect(next_url(request))
        audit.record("otp_failed", request=request, outcome="failure", obj=device, factor=factor.code)
        form.add_error("token", factor.blocked(device) or "动态口令错误或已过期，请重新输入。")
    elif request.method == "POST" and blocked:
        form.add_error(None, blocked)
    return step_page(request, "otp_verify.html", {"form": form, "factor": factor,
                                                  "challenge": factor.challenge(device)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def otp_setup(request):
    """Bind an authenticator app: scan the QR code (or type the key), confirm with one code."""
    if factors.has_confirmed_device(request.user):
        # a second device only through the security admin (reset, then enrol again)
        return step_redirect("accounts:otp_verify", next_url(request))
    factor = factors.TOTP
    device = factor.new_device(request.user)
    form = TokenForm(request.POST or None)
    blocked = factor.blocked(device)
    if request.method == "POST" and blocked:
        form.add_error(None, blocked)
    elif request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"]):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            otp_login(request, device)
            audit.record("otp_enrolled", request=request, obj=device, factor=factor.code)
            messages.success(request, "动态口令已绑定，以后登录时请输入手机验证器显示的 6 位数字。")
            return redirect(next_url(request))
        audit.record("otp_failed", request=request, outcome="failure", obj=device, factor=factor.code,
                     step="enrol")
        form.add_error("token", "动态口令不正确，请确认手机时间准确后重新输入。")
    return step_page(request, "otp_setup.html", {
        "form": form, "factor": factor, "qr_svg": factor.qr_svg(device),
        "secret": factor.secret_b32(device)})


# --- password ----------------------------------------------------------------------------------
@never_cache
@sensitive_post_parameters()
@login_required
@require_http_methods(["GET", "POST"])
def password_change(request):
    user = request.user
    form = ChangePasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, user)
        audit.record("password_change", request=request, obj=user)
        messages.success(request, "密码已修改。")
        return redirect(next_url(request))
    if user.must_change_password:
        reason = "首次登录或密码已被管理员重置，请先修改密码。"
    elif policy.password_expired(user):
        reason = f"密码已超过 {policy.current().password_expiry_days} 天未修改，请先修改密码。"
    else:
        reason = ""
    return step_page(request, "password_change.html", {"form": form, "reason": reason})


# --- idle timeout ------------------------------------------------------------------------------
@never_cache
@login_required
@require_GET
def keepalive(request):
    """“继续使用” in the idle warning: this request itself pushes the session's expiry forward."""
    return JsonResponse({"idle_seconds": policy.idle_seconds()})


# --- lockout (settings.AXES_LOCKOUT_CALLABLE) ---------------------------------------------------
def lockout_response(request, original_response=None, credentials=None):
    p = policy.current()
    return render(request, "accounts/locked.html", {
        "minutes": p.lockout_cooloff_minutes, "limit": p.lockout_failure_limit,
        "login_url": login_url_for(request.path)}, status=429)
