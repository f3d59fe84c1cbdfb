"""Ticket single sign-on: the platform sends the user back with a one-time ticket and our back end
validates it server to server.

- CAS (统一身份认证, CAS 3 ``p3/serviceValidate``): python-cas builds the login URL and parses the
  XML answer; the validation call itself goes through ``integrations.http`` (time limit, retries,
  status counts) like every other outside call.
- 浙里办 / 政务服务网 simpleauth: ``method=ticketValidation`` (ticket → token), then
  ``method=getUserInfo`` (token → user), each signed ``md5(servicecode + servicepwd + time)``
  (shared/notes/integrations.md §3; confirm the fields with the platform's operator).

Each returns the stable user id the system's ``user_id_field`` names; ``sso.complete`` does the rest."""
from __future__ import annotations

import hashlib
from xml.etree.ElementTree import ParseError

from django.utils import timezone

from integrations import http
from integrations.http import IntegrationError
from integrations.models import ExternalSystem


# --- CAS ------------------------------------------------------------------------------------------
def _cas(system: ExternalSystem, service_url: str):
    from cas import CASClientV3

    server = (system.login_url or system.base_url).rstrip("/") + "/"
    return CASClientV3(service_url=service_url, server_url=server)


def cas_login_url(system: ExternalSystem, service_url: str) -> str:
    return _cas(system, service_url).get_login_url()


def cas_identity(system: ExternalSystem, service_url: str, ticket: str) -> str:
    client = _cas(system, service_url)
    url = system.base_url.rstrip("/") + "/" + client.url_suffix
    resp = http.request(system, "GET", url, params={"ticket": ticket, "service": service_url})
    if resp.status_code != 200:
        http.mark_error(system, f"票据校验应答 HTTP {resp.status_code}")
        raise IntegrationError(f"票据校验失败（HTTP {resp.status_code}）")
    try:
        user, attributes, _ = client.verify_response(resp.content)
    except (ParseError, IndexError, AttributeError):
        http.mark_error(system, "票据校验应答不是 CAS 格式")
        raise IntegrationError("票据校验应答无法识别") from None
    if not user:  # authenticationFailure: a used, expired or foreign ticket
        raise IntegrationError("票据无效或已使用，请重新登录")
    http.mark_ok(system)
    if system.user_id_field:
        return str((attributes or {}).get(system.user_id_field) or "")
    return str(user)


# --- 浙里办 / 政务服务网 simpleauth ----------------------------------------------------------------
def _signed(system: ExternalSystem, **params) -> dict:
    now = timezone.localtime().strftime("%Y%m%d%H%M%S")
    sign = hashlib.md5((system.app_key + system.secret() + now).encode()).hexdigest()  # the platform's scheme
    return {"servicecode": system.app_key, "time": now, "sign": sign, "datatype": "json", **params}


def _call(system: ExternalSystem, **params) -> dict:
    resp = http.request(system, "POST", system.base_url, data=_signed(system, **params))
    try:
        body = resp.json() if resp.status_code == 200 else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        http.mark_error(system, f"应答异常（HTTP {resp.status_code}）")
        raise IntegrationError(f"{system.name}应答异常（HTTP {resp.status_code}）")
    if str(body.get("result")) != "0":
        raise IntegrationError(str(body.get("errmsg") or "票据无效或已过期")[:100])
    return body


def zwfw_login_url(system: ExternalSystem, service_url: str) -> str:
    from urllib.parse import urlencode

    sep = "&" if "?" in system.login_url else "?"
    return f"{system.login_url}{sep}{urlencode({'servicecode': system.app_key, 'goto': service_url})}"


def zwfw_identity(system: ExternalSystem, ticket: str) -> str:
    if not system.secret_configured:
        raise IntegrationError(f"密钥环境变量（{system.secret_env or '未填写'}）未设置")
    token = _call(system, method="ticketValidation", st=ticket).get("token")
    if not token:
        raise IntegrationError("票据校验未返回令牌")
    info = _call(system, method="getUserInfo", token=token)
    http.mark_ok(system)
    return str(info.get(system.user_id_field) or "")
