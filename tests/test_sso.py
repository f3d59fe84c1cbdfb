"""Single sign-on (政钉 H5 免登 and PC QR login, OAuth2 for 一网通管/未来社区) ends in the same
session and policy as a password login: the bound account only, never created or granted at
login; lockout honoured; the login audited; the second factor still asked on PC; and the user
sees exactly what the same user logged in with the password sees."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from tests.conftest import DEMO_PASSWORD
from tests.fakes.oauth2 import FakeOAuth2
from tests.fakes.zzd import FakeZzd


@pytest.fixture(autouse=True)
def secrets_env(settings, monkeypatch):
    settings.INTEGRATION_BACKOFF_SECONDS = 0
    monkeypatch.setenv("ZZD_TEST_SECRET", "fake-secret")
    monkeypatch.setenv("YWTG_TEST_SECRET", "ywtg-secret")


@pytest.fixture
def zzd(world):
    from accounts.models import User
    from integrations.models import ExternalAccount, ExternalSystem

    with FakeZzd(employees={"GE_med": {"employeeName": "钉钉调解员", "org": "GO_comm", "accountId": 93}}) as fake:
        system = ExternalSystem.objects.create(code="zzd", name="浙政钉", kind="zzd", enabled=True, base_url=fake.url,
                                               login_url=fake.url, app_key="fake-app", secret_env="ZZD_TEST_SECRET",
                                               tenant_id="1001", retries=0)
        ExternalAccount.objects.create(system=system, user=User.objects.get(username="demo_mediator"), external_id="93")
        yield fake


def session_user(client):
    from django.contrib.auth import get_user_model

    uid = client.session.get("_auth_user_id")
    return get_user_model().objects.get(pk=uid).username if uid else None


def test_h5_auth_code_login_same_view_as_password_login(zzd, make_case):
    from secure.models import SecurityEvent

    own = make_case("湖滨社区", title="【本社区】邻里纠纷", status="registered")
    other = make_case("溪口社区", title="【外社区】邻里纠纷", status="registered")
    sso = Client()
    resp = sso.get("/integrations/zzd/h5/", {"code": zzd.issue_code(93)})
    assert resp.status_code == 302 and resp["Location"] == "/h5/"
    assert session_user(sso) == "demo_mediator"
    assert SecurityEvent.objects.filter(event="login", username="demo_mediator").exists()
    password = Client()
    assert password.post("/h5/login/", {"username": "demo_mediator", "password": DEMO_PASSWORD}).status_code == 302
    pages = [c.get("/h5/", {"tab": "registered"}).content.decode() for c in (sso, password)]
    for page in pages:
        assert own.title in page and other.title not in page
    assert [own.title in p for p in pages] == [True, True]
    # a code is single-use
    again = Client().get("/integrations/zzd/h5/", {"code": "used-or-unknown"})
    assert again.status_code == 403 and "授权码" in again.content.decode()
    pc_qr_login_still_asks_for_the_second_factor(zzd)
    unbound_account_and_lockout_are_refused(zzd)


def unbound_account_and_lockout_are_refused(zzd):
    from accounts.models import User

    users_before = User.objects.count()
    stranger = Client()
    zzd.employees["GE_x"] = {"employeeName": "未绑定", "org": "GO_comm", "accountId": 777}
    resp = stranger.get("/integrations/zzd/h5/", {"code": zzd.issue_code(777)})
    assert resp.status_code == 403 and "尚未绑定" in resp.content.decode()
    assert session_user(stranger) is None and User.objects.count() == users_before
    for _ in range(6):
        Client().post("/h5/login/", {"username": "demo_mediator", "password": "wrong-password-1"})
    locked = Client()
    resp = locked.get("/integrations/zzd/h5/", {"code": zzd.issue_code(93)})
    assert resp.status_code == 429 and session_user(locked) is None


def pc_qr_login_still_asks_for_the_second_factor(zzd):
    c = Client()
    to_login = c.get("/integrations/zzd/qr/")
    assert to_login.status_code == 302 and to_login["Location"].startswith(zzd.url + "/oauth2/auth.htm")
    back = requests.get(to_login["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(back.headers["Location"])
    resp = c.get(callback.path, parse_qs(callback.query))
    assert resp.status_code == 302 and session_user(c) == "demo_mediator"
    gate = c.get("/admin/")
    assert gate.status_code == 302 and "/accounts/otp" in gate["Location"]
    # a forged state is refused
    resp = Client().get("/integrations/zzd/callback/", {"code": zzd.issue_code(93), "state": "forged"})
    assert resp.status_code == 403


def test_oauth2_maps_to_an_existing_account_and_grants_nothing(db):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from integrations.models import ExternalAccount, ExternalSystem

    street = User.objects.create(username="sso_street")  # a plain account with one role
    street.groups.add(Group.objects.create(name="单点登录测试角色"))
    groups = set(street.groups.values_list("pk", flat=True))
    with FakeOAuth2(user={"sub": "ywtg-42", "name": "一网通管用户"}) as fake:
        system = ExternalSystem.objects.create(code="ywtg", name="一网通管", kind="oauth2", end="pc", enabled=True,
                                               base_url=fake.url, login_url=fake.url + "/authorize",
                                               token_url=fake.url + "/token", userinfo_url=fake.url + "/userinfo",
                                               app_key="ywtg-client", secret_env="YWTG_TEST_SECRET", retries=0)
        c = Client()
        start = c.get("/integrations/sso/ywtg/")
        back = requests.get(start["Location"], allow_redirects=False, timeout=5)
        callback = urlsplit(back.headers["Location"])
        refused = c.get(callback.path, parse_qs(callback.query))
        assert refused.status_code == 403 and session_user(c) is None  # not bound yet
        ExternalAccount.objects.create(system=system, user=street, external_id="ywtg-42")
        start = c.get("/integrations/sso/ywtg/")
        callback = urlsplit(requests.get(start["Location"], allow_redirects=False, timeout=5).headers["Location"])
        resp = c.get(callback.path, parse_qs(callback.query))
        assert resp.status_code == 302 and resp["Location"] == "/admin/" and session_user(c) == "sso_street"
        assert set(street.groups.values_list("pk", flat=True)) == groups
        system.refresh_from_db()
        assert system.success_count >= 1


def _follow_to_callback(c, start_url):
    """The browser's part: our start page → the platform's login → back to our callback."""
    start = c.get(start_url)
    assert start.status_code == 302, start.content.decode()[:500]
    back = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(back.headers["Location"])
    return callback.path, {k: v[0] for k, v in parse_qs(callback.query).items()}


def test_cas_ticket_login_binds_by_the_configured_attribute_and_refuses_reused_tickets(world):
    from accounts.models import User
    from integrations.models import ExternalAccount, ExternalSystem
    from secure.models import SecurityEvent
    from tests.fakes.tickets import FakeCAS

    street = User.objects.get(username="demo_street")
    with FakeCAS(user="zhangsan", attributes={"uid": "u-2001"}) as fake:
        system = ExternalSystem.objects.create(code="ywtg", name="一网通管", kind="cas", end="pc", enabled=True,
                                               base_url=fake.url + "/cas/", user_id_field="uid", retries=0)
        ExternalAccount.objects.create(system=system, user=street, external_id="u-2001")
        c = Client()
        path, query = _follow_to_callback(c, "/integrations/sso/ywtg/")
        assert path == "/integrations/sso/ywtg/callback/" and query["ticket"].startswith("ST-")
        resp = c.get(path, query)
        assert resp.status_code == 302 and resp["Location"] == "/admin/" and session_user(c) == "demo_street"
        assert SecurityEvent.objects.filter(event="sso_login", username="demo_street").exists()
        # the same ticket again: refused by the CAS server, a Chinese message, no session
        again = Client().get(path, query)
        assert again.status_code == 403 and "票据无效" in again.content.decode()
        # the CAS user name alone (no attribute configured) is a different identity: not bound
        system.user_id_field = ""
        system.save()
        other = Client()
        refused = other.get(*_follow_to_callback(other, "/integrations/sso/ywtg/"))
        assert refused.status_code == 403 and "尚未绑定" in refused.content.decode() and session_user(other) is None
        # no ticket, and an outage: clear messages, never a 500
        assert Client().get(path).status_code == 403
        fake.broken = True
        down = Client().get(path, {"ticket": "ST-whatever"})
        assert down.status_code == 502 and "暂时无法访问" in down.content.decode()


def test_zwfw_simpleauth_login_checks_the_signature_and_the_ticket(world, monkeypatch):
    from accounts.models import User
    from integrations.models import ExternalAccount, ExternalSystem
    from tests.fakes.tickets import FakeZwfw

    monkeypatch.setenv("ZWFW_TEST_SECRET", "zwfw-pwd")
    mediator = User.objects.get(username="demo_mediator")
    with FakeZwfw(servicecode="mdtj", servicepwd="zwfw-pwd", user={"userid": "zlb-3001"}) as fake:
        system = ExternalSystem.objects.create(
            code="wlsq", name="未来社区", kind="zwfw", end="h5", enabled=True, base_url=fake.url + "/sso/servlet/simpleauth",
            login_url=fake.url + "/login", app_key="mdtj", secret_env="ZWFW_TEST_SECRET", user_id_field="userid",
            retries=0)
        ExternalAccount.objects.create(system=system, user=mediator, external_id="zlb-3001")
        c = Client()
        path, query = _follow_to_callback(c, "/integrations/sso/wlsq/")
        resp = c.get(path, query)
        assert resp.status_code == 302 and resp["Location"] == "/h5/" and session_user(c) == "demo_mediator"
        # a used ticket: the platform's refusal is shown in Chinese
        again = Client().get(path, query)
        assert again.status_code == 403 and "票据无效或已过期" in again.content.decode()
        # a wrong service password: the signature is refused, no session
        monkeypatch.setenv("ZWFW_TEST_SECRET", "wrong")
        bad = Client()
        resp = bad.get(*_follow_to_callback(bad, "/integrations/sso/wlsq/"))
        assert resp.status_code == 403 and "签名错误" in resp.content.decode() and session_user(bad) is None


def test_a_zzd_login_counts_as_the_second_factor_only_while_the_policy_says_so(zzd):
    from accounts import policy
    from accounts.models import SecurityPolicy

    SecurityPolicy.objects.update_or_create(pk=1, defaults={"zzd_counts_as_factor": True})
    policy.clear_cache()
    c = Client()
    to_login = c.get("/integrations/zzd/qr/")
    callback = urlsplit(requests.get(to_login["Location"], allow_redirects=False, timeout=5).headers["Location"])
    assert c.get(callback.path, parse_qs(callback.query)).status_code == 302
    assert c.get("/admin/").status_code == 200  # no dynamic password asked
    password = Client()
    assert password.post("/admin/login/", {"username": "demo_mediator", "password": DEMO_PASSWORD}).status_code == 302
    gate = password.get("/admin/")
    assert gate.status_code == 302 and "/accounts/otp" in gate["Location"]  # a password login still asks
    policy_row = SecurityPolicy.objects.get(pk=1)
    policy_row.zzd_counts_as_factor = False
    policy_row.save()
    gate = c.get("/admin/")  # turned off: the 政钉 session owes the factor on its next page
    assert gate.status_code == 302 and "/accounts/otp" in gate["Location"]


def test_login_pages_offer_the_enabled_sso_and_the_zzd_page_uses_local_gdt_jsapi(zzd):
    from integrations.models import ExternalSystem

    ExternalSystem.objects.create(code="ywtg", name="一网通管", kind="cas", end="pc", enabled=True,
                                  base_url="http://127.0.0.1:9/cas/")
    ExternalSystem.objects.create(code="wlsq", name="未来社区", kind="cas", end="h5", enabled=False,
                                  base_url="http://127.0.0.1:9/cas/")
    pc = Client().get("/admin/login/").content.decode()
    assert "浙政钉扫码登录" in pc and 'href="/integrations/zzd/qr/"' in pc and "一网通管登录" in pc
    h5 = Client().get("/h5/login/").content.decode()
    assert "/integrations/zzd/h5/" in h5 and "一网通管" not in h5 and "未来社区" not in h5  # other end; disabled
    page = Client().get("/integrations/zzd/h5/")
    body = page.content.decode()
    assert page.status_code == 200 and 'data-corp-id="1001"' in body
    assert "/static/vendor/mdtj-bundles/gdt-auth.js" in body and "alicdn" not in body
    assert "使用账号密码登录" in body


def test_every_audit_event_the_code_records_has_a_chinese_label():
    import re
    from pathlib import Path

    from secure.audit import EVENT_LABELS

    platform = Path(__file__).resolve().parents[1] / "platform"
    codes = set()
    for path in platform.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        codes |= set(re.findall(r'audit\.record\(\s*"([a-z_]+)"', text))
        codes |= set(re.findall(r'_show_secret\([^)]*"([a-z_]+)"\)', text))
    assert codes and not sorted(c for c in codes if c not in EVENT_LABELS)
