"""Fake 浙政钉 open platform gateway (and login host): HMAC-SHA256 header signature checked
(±5 min), app token (7200 s; can be expired on demand), single-use auth codes (5 min), the
double success/content envelope, pageNo/pageSize/totalSize paging, repeated form keys, and
bizMsgId dedupe on 工作通知 (a duplicate is refused)."""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import time
from urllib.parse import urlencode

from tests.fakes.base import FakeServer


def ok(data=None, **extra):
    content = {"success": True, "responseCode": "0", "responseMessage": "成功", "data": data, **extra}
    return 200, {"success": True, "_RequestId": secrets.token_hex(6), "bizErrorCode": None, "Message": None,
                 "content": content}, {}


def err(code: str, message: str, status: int = 200):
    return status, {"success": False, "errorCode": code, "errorMsg": message}, {}


def biz_err(code: str, message: str):
    return 200, {"success": True, "content": {"success": False, "responseCode": code, "responseMessage": message}}, {}


class FakeZzd(FakeServer):
    def __init__(self, app_key="fake-app", secret="fake-secret", tenant="1001", orgs=None, employees=None, port=0):
        self.app_key, self.secret, self.tenant = app_key, secret, tenant
        # code → {"organizationCode","organizationName","parentCode"}
        self.orgs = orgs if orgs is not None else {}
        # employeeCode → {"employeeName", "org", "accountId"}
        self.employees = employees if employees is not None else {}
        self.tokens: dict[str, float] = {}
        self.codes: dict[str, tuple[str, float]] = {}   # auth/qr code → (accountId, expires)
        self.sent: dict[str, dict] = {}                  # bizMsgId → message
        self.token_calls = 0
        super().__init__(port)

    # -- helpers for tests ----------------------------------------------------------------
    def issue_code(self, account_id: str, ttl: int = 300) -> str:
        code = secrets.token_hex(8)
        self.codes[code] = (str(account_id), time.time() + ttl)
        return code

    def expire_tokens(self):
        for t in self.tokens:
            self.tokens[t] = 0

    # -- protocol -------------------------------------------------------------------------
    def check_signature(self, method, path, params, headers) -> str:
        ts, nonce = headers.get("X-Hmac-Auth-Timestamp", ""), headers.get("X-Hmac-Auth-Nonce", "")
        given = headers.get("X-Hmac-Auth-Signature", "")
        if headers.get("apiKey") != self.app_key:
            return "apiKey 不存在"
        try:
            when = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z")
        except ValueError:
            return "时间戳格式错误"
        if abs(time.time() - when.timestamp()) > 300:
            return "时间戳过期"
        lines = [method, ts, nonce, path]
        pairs = sorted((k, v) for k, vs in params.items() for v in vs)
        if pairs:
            lines.append("&".join(f"{k}={v}" for k, v in pairs))
        expected = base64.b64encode(hmac.new(self.secret.encode(), "\n".join(lines).encode(), hashlib.sha256)
                                    .digest()).decode()
        return "" if hmac.compare_digest(expected, given) else "签名不匹配"

    def handle(self, method, path, params, headers, body):
        if path == "/oauth2/auth.htm":  # the login host: the user "scans" as the first employee
            account = next(iter(self.employees.values()))["accountId"] if self.employees else "0"
            code = self.issue_code(account)
            target = params["redirect_uri"][0] + "?" + urlencode({"code": code, "state": params.get("state", [""])[0]})
            return 302, b"", {"Location": target}
        problem = self.check_signature(method, path, params, headers)
        if problem:
            return err("InvalidSignature", problem, 401)
        one = {k: v[0] for k, v in params.items()}
        if path == "/gettoken.json":
            if one.get("appkey") != self.app_key or one.get("appsecret") != self.secret:
                return err("InvalidAppKey", "appkey 或 appsecret 错误")
            self.token_calls += 1
            token = secrets.token_hex(12)
            self.tokens[token] = time.time() + 7200
            return ok({"accessToken": token, "expiresIn": 7200})
        token = one.get("access_token", "")
        if self.tokens.get(token, 0) < time.time():
            return err("token_expired", "access_token 无效或已过期")
        if path in ("/rpc/oauth2/dingtalk_app_user.json", "/rpc/oauth2/getuserinfo_bycode.json"):
            code = one.get("auth_code") or one.get("code") or ""
            account, expires = self.codes.pop(code, (None, 0))
            if account is None or expires < time.time():
                return biz_err("40078", "授权码无效或已使用")
            emp = next((e for e in self.employees.values() if str(e["accountId"]) == account), {})
            return ok({"accountId": int(account) if account.isdigit() else account, "lastName": emp.get("employeeName", ""),
                       "realmId": int(self.tenant), "tenantUserId": f"{self.tenant}${account}", "namespace": "local",
                       "employeeCode": next((c for c, e in self.employees.items() if str(e["accountId"]) == account), "")})
        if one.get("tenantId") != self.tenant:
            return biz_err("400", "tenantId 不正确")
        if path == "/auth/scopesV2":
            roots = [c for c, o in self.orgs.items() if not o.get("parentCode")]
            return 200, {"success": True, "content": {"success": True, "deptVisibleScopes": roots,
                                                      "employeeVisibleScopes": []}}, {}
        if path == "/mozi/organization/listOrganizationsByCodes":
            codes = params.get("organizationCodes", [])
            if len(codes) > 100:
                return biz_err("400", "organizationCodes 超过 100 个")
            return ok([{**self.orgs[c], "organizationCode": c, "status": "A"} for c in codes if c in self.orgs])
        if path == "/mozi/organization/pageSubOrganizationCodes":
            kids = [c for c, o in sorted(self.orgs.items()) if o.get("parentCode") == one.get("organizationCode")]
            return self.page(kids, one)
        if path == "/mozi/organization/pageOrganizationEmployeePositions":
            emps = [{"employeeCode": c, "employeeName": e["employeeName"], "status": "A",
                     "govEmployeePositions": [{"organizationCode": e["org"], "mainJob": True}]}
                    for c, e in sorted(self.employees.items()) if e["org"] == one.get("organizationCode")]
            return self.page(emps, one)
        if path == "/mozi/employee/listEmployeeAccountIds":
            codes = params.get("employeeCodes", [])
            if len(codes) > 100:
                return biz_err("400", "employeeCodes 超过 100 个")
            return ok([{"employeeCode": c, "accountId": self.employees[c]["accountId"]}
                       for c in codes if c in self.employees])
        if path == "/message/workNotification":
            biz = one.get("bizMsgId", "")
            if not biz or not one.get("receiverIds") or not one.get("msg"):
                return biz_err("400", "参数缺失")
            if biz in self.sent:
                return biz_err("400", "bizMsgId 重复")
            self.sent[biz] = one
            return ok(f"msg-{len(self.sent)}")
        return err("NotFound", f"未知接口 {path}", 404)

    def page(self, items, one):
        try:
            no, size = int(one.get("pageNo", "1")), int(one.get("pageSize", "20"))
        except ValueError:
            return biz_err("400", "分页参数错误")
        if size > 100:
            return biz_err("400", "pageSize 最大 100")
        start = (no - 1) * size
        return ok(items[start:start + size], totalSize=len(items), currentPage=no, pageSize=size)
