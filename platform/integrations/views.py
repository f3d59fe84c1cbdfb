"""Single sign-on entry points (public: they are the way in).

- 政钉 H5 免登: the page inside the 政钉 app gets an auth code (``dd.getAuthCode``) and sends it
  here (``/integrations/zzd/h5/?code=…`` or POST ``code``) → /h5/.
- 政钉 PC 扫码: ``/integrations/zzd/qr/`` redirects to the 政钉 login page (QR code) with a
  one-time ``state``; it comes back to ``/integrations/zzd/callback/`` → /admin/.
- 一网通管 PC / 未来社区 H5 / any platform, by the kind its district admin configured:
  ``/integrations/sso/<code>/`` → the platform's login → ``/integrations/sso/<code>/callback/``.
  OAuth2 (Authlib does the code exchange and ``state``), CAS (``ticket``, python-cas) or
  浙里办 simpleauth (``ticket``) — ``integrations.tickets``."""
from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from integrations import sso
from integrations.http import IntegrationError, Unavailable
from integrations.models import ExternalSystem

STATE_KEY = "sso_state"
MAX_CODE = 256


def _system(kind: str, code: str | None = None):
    qs = ExternalSystem.objects.filter(kind=kind, enabled=True)
    if code is not None:
        qs = qs.filter(code=code[:32])
    return qs.order_by("pk").first()


def _code(request) -> str:
    code = (request.POST.get("code") or request.GET.get("code") or "").strip()
    return code if 0 < len(code) <= MAX_CODE else ""


@never_cache
@csrf_exempt  # the code itself is the single-use proof; there is no session yet to protect
@require_http_methods(["GET", "POST"])
def zzd_h5(request):
    system = _system(ExternalSystem.ZZD)
    if system is None:
        return sso.refuse(request, None, "政钉单点登录未启用。", status=403, end="h5")
    code = _code(request)
    if not code and request.method == "GET" and "code" not in request.GET:
        # opened inside the 政钉 app: the page asks the app for an auth code (gdt-jsapi) and comes back
        return render(request, "integrations/zzd_h5.html", {"system": system})
    if not code:
        return sso.refuse(request, system, "缺少政钉免登授权码（code）。", status=403, end="h5")
    return _zzd_exchange(request, system, code, "h5", qr=False)


@never_cache
@require_GET
def zzd_qr(request):
    system = _system(ExternalSystem.ZZD)
    if system is None or not system.login_url:
        return sso.refuse(request, system, "政钉扫码登录未启用。", status=403)
    state = secrets.token_urlsafe(16)
    request.session[STATE_KEY] = state
    query = urlencode({"response_type": "code", "client_id": system.app_key, "scope": "get_user_info",
                       "authType": "QRCODE", "state": state,
                       "redirect_uri": request.build_absolute_uri(reverse("integrations:zzd_callback"))})
    return redirect(system.login_url.rstrip("/") + "/oauth2/auth.htm?" + query)


@never_cache
@require_GET
def zzd_callback(request):
    system = _system(ExternalSystem.ZZD)
    if system is None:
        return sso.refuse(request, None, "政钉扫码登录未启用。", status=403)
    state = request.session.pop(STATE_KEY, None)
    if not state or request.GET.get("state") != state:
        return sso.refuse(request, system, "登录请求已失效，请重新扫码。", status=403)
    code = _code(request)
    if not code:
        return sso.refuse(request, system, "缺少政钉扫码授权码（code）。", status=403)
    return _zzd_exchange(request, system, code, "pc", qr=True)


def _zzd_exchange(request, system, code: str, end: str, qr: bool):
    from integrations.zzd import Client

    try:
        client = Client(system)
        user = client.user_by_qr_code(code) if qr else client.user_by_auth_code(code)
    except Unavailable as exc:  # an outage: the password login still works
        return sso.refuse(request, system, f"政钉暂时无法访问（{exc}），请稍后再试或改用账号密码登录。", status=502, end=end)
    except IntegrationError as exc:  # refused: a used or expired code, a wrong configuration
        return sso.refuse(request, system, f"政钉登录未成功：{exc}", end=end)
    return sso.complete(request, system, str(user.get("accountId") or ""), end)


# --- 一网通管 / 未来社区 / other platforms: OAuth2, CAS or 浙里办 tickets ------------------------------
def _oauth(system, request):
    from authlib.integrations.requests_client import OAuth2Session

    return OAuth2Session(system.app_key, system.secret(), scope="openid profile",
                         redirect_uri=_callback_url(request, system))


def _sso_system(code: str):
    qs = ExternalSystem.objects.filter(kind__in=ExternalSystem.SSO_KINDS, enabled=True, code=code[:32])
    return qs.first()


def _callback_url(request, system) -> str:
    return request.build_absolute_uri(reverse("integrations:sso_callback", args=[system.code]))


@never_cache
@require_GET
def sso_start(request, code: str):
    from integrations import tickets

    system = _sso_system(code)
    if system is None or not (system.login_url or system.kind == ExternalSystem.CAS):
        return sso.refuse(request, None, "该单点登录未启用。", status=403)
    if system.kind == ExternalSystem.OAUTH2:
        url, state = _oauth(system, request).create_authorization_url(system.login_url)
        request.session[STATE_KEY] = state
    elif system.kind == ExternalSystem.CAS:
        url = tickets.cas_login_url(system, _callback_url(request, system))
    else:
        url = tickets.zwfw_login_url(system, _callback_url(request, system))
    return redirect(url)


@never_cache
@require_GET
def sso_callback(request, code: str):
    system = _sso_system(code)
    if system is None:
        return sso.refuse(request, None, "该单点登录未启用。", status=403)
    if system.kind == ExternalSystem.OAUTH2:
        return _oauth_callback(request, system)
    from integrations import tickets

    ticket = (request.GET.get("ticket") or "").strip()
    if not 0 < len(ticket) <= MAX_CODE:
        return sso.refuse(request, system, "登录请求缺少票据（ticket），请重新登录。", status=403, end=system.end)
    try:
        if system.kind == ExternalSystem.CAS:
            external_id = tickets.cas_identity(system, _callback_url(request, system), ticket)
        else:
            external_id = tickets.zwfw_identity(system, ticket)
    except Unavailable as exc:
        return sso.refuse(request, system, f"{system.name}暂时无法访问（{exc}），请稍后再试或改用账号密码登录。",
                          status=502, end=system.end)
    except IntegrationError as exc:
        return sso.refuse(request, system, f"{system.name}登录未成功：{exc}", end=system.end)
    return sso.complete(request, system, external_id, system.end)


def _oauth_callback(request, system):
    import requests
    from authlib.common.errors import AuthlibBaseError

    from integrations import http

    state = request.session.pop(STATE_KEY, None)
    if not state or request.GET.get("state") != state or not _code(request):
        return sso.refuse(request, system, "登录请求已失效或缺少授权码，请重新登录。", status=403, end=system.end)
    session = _oauth(system, request)
    try:
        session.fetch_token(system.token_url, code=_code(request), timeout=system.timeout_seconds)
        resp = session.get(system.userinfo_url, timeout=system.timeout_seconds)
        info = resp.json() if resp.status_code == 200 else None
    except (AuthlibBaseError, requests.RequestException, ValueError) as exc:
        http.mark_error(system, f"令牌或用户信息获取失败：{type(exc).__name__}")
        return sso.refuse(request, system, f"{system.name}登录未成功，请稍后再试。", status=502, end=system.end)
    if not isinstance(info, dict):
        http.mark_error(system, f"用户信息接口应答异常（HTTP {resp.status_code}）")
        return sso.refuse(request, system, f"{system.name}未返回用户信息。", status=502, end=system.end)
    http.mark_ok(system)
    return sso.complete(request, system, str(info.get(system.user_id_field) or ""), system.end)
