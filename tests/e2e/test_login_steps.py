"""In a real browser: a PC internal user logs in with password, binds an authenticator on the
QR page (drawn locally, nothing fetched from outside), later logs in with password + code; an
idle PC page warns before the session ends and, when it has ended, returns to the login page.
Screenshots go to test-output/e2e/login-NN-*.png."""
from __future__ import annotations

import pytest

from .conftest import PASSWORD, Steps, totp_token

pytestmark = pytest.mark.e2e


def test_enrol_the_second_factor_then_the_idle_warning(demo_world, live_server, browser_context,
                                                        screenshot_dir):
    from django.contrib.sessions.models import Session
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    context, outside_requests, page_errors = browser_context
    base = live_server.url
    page = context.pages[0] if context.pages else context.new_page()
    steps = Steps(page, screenshot_dir, prefix="login-")

    # --- password, then the enrolment page with its QR code ---------------------------------
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", "demo_street")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit], input[type=submit]")
    assert "/accounts/otp/setup/" in page.url
    assert page.locator(".step-qr svg").is_visible()
    assert page.get_by_text("绑定动态口令").first.is_visible()
    steps.shot("enrol-qr")
    device = TOTPDevice.objects.get(user__username="demo_street", confirmed=False)
    import time

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    page.fill("input[name=token]", f"{totp.token():06d}")
    with page.expect_navigation():
        page.click("button[type=submit].step-button")
    assert "/accounts/" not in page.url and "/admin/" in page.url
    steps.shot("enrolled-workbench")

    # --- the idle warning: a fake clock runs the page's 15 minutes in a moment ---------------
    page.clock.install()
    page.goto(f"{base}/admin/")
    page.clock.fast_forward("13:10")
    warning = page.locator(".mdtj-idle-warning")
    warning.wait_for(state="visible")
    assert "自动退出登录" in warning.inner_text()
    steps.shot("idle-warning")
    warning.get_by_role("button", name="继续使用").click()
    warning.wait_for(state="hidden")
    # the server ends the session (15 minutes without a request) …
    Session.objects.all().delete()
    # … and when the page's own countdown runs out it reloads into the login page
    with page.expect_navigation():
        page.clock.fast_forward("15:05")
    page.wait_for_url("**/admin/login/**")
    steps.shot("idle-logged-out")

    # --- the next login asks for the code of the bound device ---------------------------------
    page.fill("input[name=username]", "demo_street")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit], input[type=submit]")
    assert "/accounts/otp/" in page.url and "/setup/" not in page.url
    page.fill("input[name=token]", totp_token("demo_street"))
    with page.expect_navigation():
        page.click("button[type=submit].step-button")
    assert "/admin/" in page.url and "/login/" not in page.url
    assert not page_errors, page_errors
