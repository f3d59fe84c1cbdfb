"""浙政钉 (专有钉钉 open platform) client: signed gateway calls, the cached app token, the double
success envelope, paging — and on top of it the organisation/user sync, the login code exchange
and the 工作通知. Protocol notes: ../shared/notes/integrations.md §1 (hosts, signing, envelope)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import urlencode

from django.core.cache import cache

from integrations import http
from integrations.http import IntegrationError
from integrations.models import ExternalSystem

TOKEN_MARGIN = 300  # refresh the 7200 s token five minutes early
PAGE_SIZE = 100
TOKEN_ERRORS = {"token_expired", "invalid_token", "InvalidToken", "TokenExpired", "40014", "42001"}


class TokenExpired(IntegrationError):
    pass


def sign_headers(app_key: str, secret: str, method: str, path: str, params: dict | list) -> dict:
    """The X-Hmac-Auth-* headers: HMAC-SHA256 over METHOD, timestamp, nonce, path and the sorted
    decoded parameters (a list value as repeated pairs)."""
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8)))
    ts = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+08:00"
    nonce = f"{int(time.time() * 1000)}{secrets.randbelow(9000) + 1000}"
    lines = [method.upper(), ts, nonce, path]
    pairs = _pairs(params)
    if pairs:
        lines.append("&".join(f"{k}={v}" for k, v in sorted(pairs, key=lambda kv: (kv[0], kv[1]))))
    digest = hmac.new(secret.encode(), "\n".join(lines).encode(), hashlib.sha256).digest()
    return {"X-Hmac-Auth-Timestamp": ts, "X-Hmac-Auth-Version": "1.0", "X-Hmac-Auth-Nonce": nonce,
            "apiKey": app_key, "X-Hmac-Auth-Signature": base64.b64encode(digest).decode(),
            "X-Hmac-Auth-IP": "127.0.0.1", "X-Hmac-Auth-MAC": "00:00:00:00:00:00"}


def _pairs(params) -> list[tuple[str, str]]:
    items = params.items() if isinstance(params, dict) else params
    out = []
    for k, v in items:
        for one in (v if isinstance(v, (list, tuple)) else [v]):
            out.append((str(k), str(one)))
    return out


class Client:
    def __init__(self, system: ExternalSystem):
        self.system = system
        self.secret = system.secret()
        if not system.app_key or not self.secret:
            raise IntegrationError(f"{system.name}未配置 AppKey 或密钥环境变量（{system.secret_env or '未填写'}）")

    # -- transport ------------------------------------------------------------------------
    def call(self, method: str, path: str, params: dict | None = None, *, token: bool = True):
        """One gateway call → ``content`` (data parsed when it is a JSON string). A token the
        gateway says is expired is dropped and fetched again once."""
        for again in (False, True):
            pairs = dict(params or {})
            if token:
                pairs["access_token"] = self.token(refresh=again)
            try:
                return self._call(method, path, pairs)
            except TokenExpired:
                if again or not token:
                    raise
        raise AssertionError("unreachable")

    def _call(self, method: str, path: str, params: dict):
        url = self.system.base_url.rstrip("/") + path
        pairs = _pairs(params)
        sign = lambda: sign_headers(self.system.app_key, self.secret, method, path, pairs)  # noqa: E731
        if method.upper() == "GET":
            resp = http.request(self.system, "GET", url + "?" + urlencode(pairs), sign=sign)
        else:
            resp = http.request(self.system, "POST", url, sign=sign, data=pairs)
        try:
            body = resp.json()
        except ValueError:
            http.mark_error(self.system, f"应答不是 JSON（HTTP {resp.status_code}）")
            raise IntegrationError(f"{self.system.name}应答格式不正确（HTTP {resp.status_code}）") from None
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(body, dict) or not body.get("success") or not isinstance(content, dict) \
                or not content.get("success", True):
            code = str((body or {}).get("errorCode") or (content or {}).get("responseCode") or "")
            text = (body or {}).get("errorMsg") or (body or {}).get("Message") or (content or {}).get("responseMessage") \
                or f"HTTP {resp.status_code}"
            if code in TOKEN_ERRORS:
                raise TokenExpired(text)
            http.mark_error(self.system, f"{path}：{code} {text}")
            raise IntegrationError(f"{self.system.name}拒绝了请求：{text}")
        http.mark_ok(self.system)
        data = content.get("data")
        if isinstance(data, str):
            try:
                content["data"] = json.loads(data)
            except ValueError:
                pass
        return content

    def token(self, refresh: bool = False) -> str:
        key = f"zzd:token:{self.system.pk}:{self.system.app_key}"
        if not refresh:
            cached = cache.get(key)
            if cached:
                return cached
        content = self._call("GET", "/gettoken.json", {"appkey": self.system.app_key, "appsecret": self.secret})
        data = content.get("data") or {}
        value, expires = data.get("accessToken"), int(data.get("expiresIn") or 7200)
        if not value:
            raise IntegrationError(f"{self.system.name}未返回 access_token")
        cache.set(key, value, max(60, expires - TOKEN_MARGIN))
        return value

    def pages(self, path: str, params: dict):
        """Every item of a paged list (pageNo from 1, pageSize PAGE_SIZE, until totalSize)."""
        page = 1
        while True:
            content = self.call("POST", path, {**params, "pageNo": page, "pageSize": PAGE_SIZE,
                                                "returnTotalSize": "true"})
            items = content.get("data") or []
            yield from items
            total = int(content.get("totalSize") or 0)
            if not items or page * PAGE_SIZE >= total:
                return
            page += 1

    # -- API ------------------------------------------------------------------------------
    def user_by_auth_code(self, code: str) -> dict:
        return self.call("POST", "/rpc/oauth2/dingtalk_app_user.json", {"auth_code": code}).get("data") or {}

    def user_by_qr_code(self, code: str) -> dict:
        return self.call("POST", "/rpc/oauth2/getuserinfo_bycode.json", {"code": code}).get("data") or {}

    def work_notice(self, receiver: str, biz_msg_id: str, title: str, text: str) -> str:
        msg = json.dumps({"msgtype": "text", "text": {"content": f"{title}\n{text}"[:600]}}, ensure_ascii=False)
        content = self.call("POST", "/message/workNotification", {"tenantId": self.system.tenant_id,
                                                                  "receiverIds": receiver, "bizMsgId": biz_msg_id,
                                                                  "msg": msg})
        return str(content.get("data") or content.get("msgId") or "")
