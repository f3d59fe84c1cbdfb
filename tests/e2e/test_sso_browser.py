"""Single sign-on in a real browser, against loopback fakes (nothing leaves 127.0.0.1):

- PC: the login page offers 浙政钉扫码登录; the 政钉 login page (fake) sends the browser back with
  a code, the session opens for the bound account and — the policy not trusting 政钉 as a factor —
  the dynamic password is still asked before the workbench.
- H5, a phone outside the 政钉 app: the 免登 page loads gdt-jsapi from our own server, gets no
  auth code, and says so in Chinese with the password login as the way on.
Screenshots: test-output/e2e/sso-NN-*.png."""
from __future__ import annotations

import pytest

from tests.fakes.zzd import FakeZzd

from .conftest import Steps, totp_token
from .test_case_handling_phone_to_pc import PHONE, visible

pytestmark = pytest.mark.e2e


def test_zzd_qr_login_on_pc_and_the_h5_page_outside_the_app(demo_world, live_server, e2e_browser, screenshot_dir,
                                                            monkeypatch):
    from accounts.models import User
    from integrations.models import ExternalAccount, ExternalSystem

    monkeypatch.setenv("ZZD_TEST_SECRET", "fake-secret")
    with FakeZzd(employees={"GE_st": {"employeeName": "钉钉街道管理员", "org": "GO_st", "accountId": 95}}) as fake:
        system = ExternalSystem.objects.create(code="zzd", name="浙政钉", kind="zzd", enabled=True, base_url=fake.url,
                                               login_url=fake.url, app_key="fake-app", secret_env="ZZD_TEST_SECRET",
                                               tenant_id="1001", retries=0)
        ExternalAccount.objects.create(system=system, user=User.objects.get(username="demo_street"), external_id="95")
        base = live_server.url
        pc = e2e_browser.open_context().pages[0]
        steps = Steps(pc, screenshot_dir, prefix="sso-")
        pc.goto(f"{base}/admin/login/")
        steps.shot("pc-login-with-zzd")
        with pc.expect_navigation(url="**/accounts/otp/**"):
            pc.get_by_role("link", name="浙政钉扫码登录").click()
        totp_token("demo_street")  # the user's authenticator, bound earlier
        pc.goto(pc.url.replace("/accounts/otp/setup/", "/accounts/otp/"))
        pc.fill("input[name=token]", totp_token("demo_street"))
        with pc.expect_navigation():
            pc.click("button[type=submit]")
        assert pc.url.rstrip("/").endswith("/admin")
        assert pc.get_by_text("矛盾纠纷调处研判", exact=False).first.is_visible()
        steps.shot("pc-workbench-after-zzd")

        phone = e2e_browser.open_context(**PHONE).pages[0]
        phone.goto(f"{base}/integrations/zzd/h5/")
        visible(phone, "未能从浙政钉取得授权")
        assert phone.get_by_role("link", name="使用账号密码登录").is_visible()
        steps.shot("h5-outside-the-app", page=phone)
        with phone.expect_navigation():
            phone.get_by_role("link", name="使用账号密码登录").click()
        assert "/h5/login/" in phone.url
