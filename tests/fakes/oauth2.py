"""Fake OAuth2 provider (一网通管 / 未来社区 style): /authorize 302s back with a single-use code,
/token checks client id/secret (basic or body), code and redirect_uri, /userinfo checks the
Bearer token."""
from __future__ import annotations

import base64
import secrets
import time
from urllib.parse import urlencode

from tests.fakes.base import FakeServer


class FakeOAuth2(FakeServer):
    def __init__(self, client_id="ywtg-client", secret="ywtg-secret", user=None, port=0):
        self.client_id, self.secret = client_id, secret
        self.user = user if user is not None else {"sub": "u-1001", "name": "测试用户"}
        self.codes: dict[str, tuple[str, float]] = {}
        self.tokens: dict[str, float] = {}
        super().__init__(port)

    def handle(self, method, path, params, headers, body):
        one = {k: v[0] for k, v in params.items()}
        if path == "/authorize":
            if one.get("client_id") != self.client_id:
                return 400, {"error": "invalid_client"}, {}
            code = secrets.token_hex(8)
            self.codes[code] = (one.get("redirect_uri", ""), time.time() + 60)
            target = one["redirect_uri"] + "?" + urlencode({"code": code, "state": one.get("state", "")})
            return 302, b"", {"Location": target}
        if path == "/token":
            cid, csecret = one.get("client_id"), one.get("client_secret")
            auth = headers.get("Authorization", "")
            if auth.startswith("Basic "):
                cid, _, csecret = base64.b64decode(auth[6:]).decode().partition(":")
            if cid != self.client_id or csecret != self.secret:
                return 401, {"error": "invalid_client"}, {}
            redirect, expires = self.codes.pop(one.get("code", ""), ("", 0))
            if expires < time.time() or redirect != one.get("redirect_uri"):
                return 400, {"error": "invalid_grant"}, {}
            token = secrets.token_hex(12)
            self.tokens[token] = time.time() + 600
            return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 600}, {}
        if path == "/userinfo":
            token = headers.get("Authorization", "")[7:]
            if self.tokens.get(token, 0) < time.time():
                return 401, {"error": "invalid_token"}, {}
            return 200, self.user, {}
        return 404, {"error": "not_found"}, {}
