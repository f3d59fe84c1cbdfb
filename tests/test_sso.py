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
