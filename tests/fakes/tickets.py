"""Fake ticket single sign-on servers on loopback.

- ``FakeCAS``: ``/cas/login`` 302s back to ``service`` with a single-use ``ST-…`` ticket;
  ``/cas/p3/serviceValidate`` answers CAS 3 XML (success with attributes, or
  authenticationFailure INVALID_TICKET / INVALID_SERVICE).
- ``FakeZwfw``: 浙里办 simpleauth — POST ``method=ticketValidation`` / ``getUserInfo``, each checked
  against ``sign = md5(servicecode + servicepwd + time)``; tickets single-use, tokens expire."""
from __future__ import annotations

import hashlib
import secrets
import time
from urllib.parse import urlencode

from tests.fakes.base import FakeServer

CAS_NS = "http://www.yale.edu/tp/cas"


class FakeCAS(FakeServer):
    def __init__(self, user="zhangsan", attributes=None, port=0):
        self.user = user
        self.attributes = attributes if attributes is not None else {"uid": "u-2001", "name": "测试用户"}
        self.tickets: dict[str, tuple[str, float]] = {}
        super().__init__(port)

    def issue(self, service: str) -> str:
        ticket = "ST-" + secrets.token_hex(8)
        self.tickets[ticket] = (service, time.time() + 30)
        return ticket

    def handle(self, method, path, params, headers, body):
        one = {k: v[0] for k, v in params.items()}
        if path == "/cas/login":
            target = one["service"] + ("&" if "?" in one["service"] else "?") + urlencode(
                {"ticket": self.issue(one["service"])})
            return 302, b"", {"Location": target}
        if path == "/cas/p3/serviceValidate":
            service, expires = self.tickets.pop(one.get("ticket", ""), ("", 0))
            if expires < time.time():
                return 200, self._failure("INVALID_TICKET", "票据无效"), {"Content-Type": "application/xml"}
            if service != one.get("service"):
                return 200, self._failure("INVALID_SERVICE", "服务地址不符"), {"Content-Type": "application/xml"}
            attrs = "".join(f"<cas:{k}>{v}</cas:{k}>" for k, v in self.attributes.items())
            xml = (f'<cas:serviceResponse xmlns:cas="{CAS_NS}"><cas:authenticationSuccess>'
                   f"<cas:user>{self.user}</cas:user><cas:attributes>{attrs}</cas:attributes>"
                   "</cas:authenticationSuccess></cas:serviceResponse>")
            return 200, xml.encode(), {"Content-Type": "application/xml"}
        return 404, {"error": "not_found"}, {}

    @staticmethod
    def _failure(code, text) -> bytes:
        return (f'<cas:serviceResponse xmlns:cas="{CAS_NS}"><cas:authenticationFailure code="{code}">'
                f"{text}</cas:authenticationFailure></cas:serviceResponse>").encode()


class FakeZwfw(FakeServer):
    def __init__(self, servicecode="mdtj", servicepwd="zwfw-pwd", user=None, port=0):
        self.servicecode, self.servicepwd = servicecode, servicepwd
        self.user = user if user is not None else {"userid": "zlb-3001", "username": "测试居民"}
        self.tickets: dict[str, float] = {}
        self.tokens: dict[str, float] = {}
        super().__init__(port)

    def issue(self) -> str:
        ticket = secrets.token_hex(8)
        self.tickets[ticket] = time.time() + 30
        return ticket

    def handle(self, method, path, params, headers, body):
        one = {k: v[0] for k, v in params.items()}
        if path == "/login":  # the platform's login page: back to ``goto`` with a ticket
            return 302, b"", {"Location": one["goto"] + "?" + urlencode({"ticket": self.issue()})}
        if path != "/sso/servlet/simpleauth" or method != "POST":
            return 404, {"error": "not_found"}, {}
        expected = hashlib.md5((self.servicecode + self.servicepwd + one.get("time", "")).encode()).hexdigest()
        if one.get("servicecode") != self.servicecode or one.get("sign") != expected:
            return 200, {"result": "6", "errmsg": "签名错误"}, {}
        if one.get("method") == "ticketValidation":
            if self.tickets.pop(one.get("st", ""), 0) < time.time():
                return 200, {"result": "3", "errmsg": "票据无效或已过期"}, {}
            token = secrets.token_hex(12)
            self.tokens[token] = time.time() + 600
            return 200, {"result": "0", "errmsg": "成功", "token": token}, {}
        if one.get("method") == "getUserInfo":
            if self.tokens.get(one.get("token", ""), 0) < time.time():
                return 200, {"result": "7", "errmsg": "令牌无效或已过期"}, {}
            return 200, {"result": "0", "errmsg": "成功", **self.user}, {}
        return 200, {"result": "9", "errmsg": "未知方法"}, {}
