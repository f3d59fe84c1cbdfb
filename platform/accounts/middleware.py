"""Two session controls, after authentication and django-otp's OTPMiddleware:

- IdleTimeoutMiddleware: an authenticated session expires after the policy's idle minutes
  (every request pushes the expiry forward; SESSION_SAVE_EVERY_REQUEST is on).
- LoginGateMiddleware: until the user has passed every login step, every page of every end
  redirects to the step that is missing — the second factor (verify, or enrol when no device is
  bound), then a forced password change (first login, admin reset, expired)."""
from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from accounts import factors, policy

# Pages a half-logged-in user must still reach: the login steps themselves, logging out, assets.
EXEMPT_PREFIXES = ("/accounts/", "/admin/login/", "/admin/logout/", "/h5/login/", "/h5/logout/",
                   "/tp/m/login/", "/tp/m/logout/", "/verify/", "/admin/jsi18n/")


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            seconds = policy.idle_seconds()
            if request.session.get("_session_expiry") != seconds:
                request.session.set_expiry(seconds)
        return self.get_response(request)


def missing_step(request) -> str | None:
    """URL name of the login step this user still owes, or None."""
    user = request.user
    # a verified session (one device lookup) needs no look at its roles
    need_otp = (not user.is_verified() and policy.otp_required(user, request.path)
                and not policy.sso_is_factor(request))
    has_device = need_otp and factors.has_confirmed_device(user)
    if need_otp and has_device:
        return "accounts:otp_verify"  # the factor first: the password alone proves too little
    if user.must_change_password or policy.password_expired(user):
        return "accounts:password_change"
    if need_otp:
        return "accounts:otp_setup"
    return None


class LoginGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.exempt = EXEMPT_PREFIXES + (settings.STATIC_URL,)

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not request.path.startswith(self.exempt):
            step = missing_step(request)
            if step:
                return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
