"""「测试连接」: one harmless call per kind of system, its outcome on the system's status and in
the security audit log (who tested what, when, with which result)."""
from __future__ import annotations

from integrations import http
from integrations.http import IntegrationError
from integrations.models import ExternalSystem
from secure import audit


def test(system: ExternalSystem, request=None) -> tuple[bool, str]:
    try:
        if system.kind == ExternalSystem.ZZD:
            from integrations.zzd import Client

            Client(system).token(refresh=True)
            text = "连接正常（已取得 access_token）"
        elif system.kind == ExternalSystem.TIANDITU:
            if not system.secret_configured:
                raise IntegrationError(f"密钥环境变量（{system.secret_env or '未填写'}）未设置")
            resp = http.request(system, "GET", system.base_url.rstrip("/") + "/geocoder?ds=%7B%22keyWord%22%3A%22%E6%B5%8B%E8%AF%95%22%7D&tk="
                                + system.secret())
            if resp.status_code != 200:
                http.mark_error(system, f"HTTP {resp.status_code}")
                raise IntegrationError(f"应答 HTTP {resp.status_code}")
            http.mark_ok(system)
            text = "连接正常"
        else:
            url = system.login_url or system.base_url
            resp = http.request(system, "GET", url, allow_redirects=False)
            if resp.status_code >= 400 and resp.status_code != 405:
                http.mark_error(system, f"授权地址应答 HTTP {resp.status_code}")
                raise IntegrationError(f"授权地址应答 HTTP {resp.status_code}")
            http.mark_ok(system)
            text = f"授权地址可访问（HTTP {resp.status_code}）"
        ok = True
    except IntegrationError as exc:
        ok, text = False, f"连接失败：{exc}"
    audit.record("integration_test", request=request, obj=system, outcome="success" if ok else "failure",
                 system=system.code, result=text[:200])
    return ok, text
