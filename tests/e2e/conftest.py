"""End-to-end fixtures: a headless Debian Chromium driven by Playwright's sync API against
pytest-django's ``live_server``.

Chromium is never downloaded: the tests use the system browser at /usr/bin/chromium
(``apt-get install chromium chromium-driver fonts-wqy-microhei``). Without it the tests are
skipped, unless E2E_REQUIRED=1 (as in CI), where a missing browser is a failure.

Every page of a test is watched: a request to any host other than 127.0.0.1 / localhost is
recorded and fails the test at the end (the production network is an intranet), and so does
anything the Content-Security-Policy blocked (reported by Chromium on the console)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTALL_HINT = ("安装方法 / to install: apt-get install chromium chromium-driver fonts-wqy-microhei "
                "(Python 包 playwright 见 requirements.txt)")
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "test-output" / "e2e"


def _missing_requirements() -> list[str]:
    missing = []
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        missing.append(CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("Python 包 playwright")
    # Without a CJK font every Chinese character renders as an empty box in the screenshots.
    fc_list = shutil.which("fc-list")
    if fc_list is None or not subprocess.run([fc_list, ":lang=zh"], capture_output=True,
                                             text=True).stdout.strip():
        missing.append("中文字体 (fonts-wqy-microhei)")
    return missing


@pytest.fixture(scope="session")
def e2e_available():
    """Skip (or, with E2E_REQUIRED=1, fail) when the browser or Playwright is missing."""
    missing = _missing_requirements()
    if missing:
        message = f"端到端测试需要 {', '.join(missing)}，未找到。{INSTALL_HINT}"
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail("E2E_REQUIRED=1: " + message, pytrace=False)
        pytest.skip(message)
    return True


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


class OutsideRequests(list):
    """URLs of requests that left 127.0.0.1 / localhost."""

    def watch(self, request) -> None:
        url = request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about", "chrome", "chrome-extension", "devtools"):
            return
        if (parts.hostname or "") not in LOCAL_HOSTS:
            self.append(url)


class E2EBrowser:
    """Playwright, started for one test, and the browser contexts it opened. Every context is
    a separate headless Chromium with a fresh, empty user-data dir; all of them report outside
    requests into ``outside`` and uncaught page errors into ``page_errors``."""

    def __init__(self, pw, tmp_path: Path):
        self.pw, self.tmp_path = pw, tmp_path
        self.outside = OutsideRequests()
        self.page_errors: list[str] = []
        self.csp_violations: list[str] = []  # "Refused to … Content Security Policy" console errors
        self.contexts: list = []

    def open_context(self, **options):
        """A new context; ``options`` (viewport, is_mobile, user_agent…) override the PC defaults
        (zh-CN, 1366×900)."""
        user_data = self.tmp_path / f"chromium-profile-{len(self.contexts)}"
        user_data.mkdir()
        context = self.pw.chromium.launch_persistent_context(
            str(user_data),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            **{"locale": "zh-CN", "viewport": {"width": 1366, "height": 900}, **options},
        )
        self.contexts.append(context)
        context.set_default_timeout(15_000)
        context.on("request", self.outside.watch)
        context.on("page", self._watch_errors)
        for page in context.pages:  # the persistent context opens with one blank page
            self._watch_errors(page)
        return context

    def _watch_errors(self, page) -> None:
        page.on("pageerror", lambda exc: self.page_errors.append(str(exc)))
        page.on("console", self._watch_console)

    def _watch_console(self, message) -> None:
        # Chromium reports what the Content-Security-Policy blocked (an inline script, an
        # on…= handler, eval, a foreign source) as a console error, not as a page error.
        if message.type == "error" and "Content Security Policy" in message.text:
            self.csp_violations.append(f"{message.text} @ {message.location.get('url', '')}")

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def e2e_browser(e2e_available, live_server, tmp_path, monkeypatch):
    """An E2EBrowser: ``e2e_browser.open_context(**options)`` for each browser a test needs
    (e.g. a phone and a PC). The test fails at the end if any page reached outside localhost."""
    # Playwright's sync API runs its asyncio event loop in this thread (in a greenlet) from
    # start() to stop(), so Django sees "a running event loop" and refuses ORM calls made by
    # the test itself (SynchronousOnlyOperation). The test is plain synchronous code and the
    # loop never runs Django code, so it is safe; set only for the duration of this fixture.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    browser = E2EBrowser(pw, tmp_path)
    try:
        try:
            yield browser
        finally:
            browser.close()
    finally:
        # While Playwright's loop runs, asgiref treats this thread as async and keeps Django's
        # connections per contextvars context: ORM calls the test made meanwhile opened a
        # connection of their own. Close it here, or PostgreSQL refuses to drop the test
        # database at the end ("being accessed by other users").
        from django.db import connections

        connections.close_all()
        pw.stop()
        for profile in tmp_path.glob("chromium-profile-*"):
            shutil.rmtree(profile, ignore_errors=True)
    # every e2e test, whatever it asserts itself, fails if a page reached outside
    if browser.outside:
        pytest.fail(f"页面请求了外部地址 / requests outside localhost: {list(browser.outside)}", pytrace=False)
    # … or if the Content-Security-Policy blocked anything (a script the page needs did not run)
    if browser.csp_violations:
        pytest.fail(f"内容安全策略（CSP）拦截 / CSP violations: {browser.csp_violations}", pytrace=False)


@pytest.fixture
def browser_context(e2e_browser):
    """A fresh Chromium (new, empty user-data dir, zh-CN, 1366×900) and the list of outside requests.

    Yields (context, outside_requests, page_errors)."""
    yield e2e_browser.open_context(), e2e_browser.outside, e2e_browser.page_errors


# --- shared by the tests: the demo world, screenshots, logging in ------------------------------
PASSWORD = "Mdtj@test-2026"  # tests/conftest.py DEMO_PASSWORD: the users seeded with the test database
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643_id_number(body17: str) -> str:
    """17 digits + the GB 11643 check digit."""
    assert re.fullmatch(r"\d{17}", body17)
    return body17 + "10X98765432"[sum(int(d) * w for d, w in zip(body17, ID_WEIGHTS)) % 11]


@pytest.fixture
def demo_world(transactional_db):
    """Shipped metadata and the demo district with one user per role, visible to live_server."""
    from demo import seeding
    from lowcode import registry
    from lowcode.apps import ENGINE_KINDS
    from lowcode.serialization import load_metadata

    load_metadata([*ENGINE_KINDS, "channels"])  # the channels are the 事件来源 dictionary's items
    registry.clear_cache()
    regions = seeding.ensure_regions()
    seeding.ensure_organizations(regions)
    seeding.ensure_users(PASSWORD)
    return regions


class Steps:
    """Numbered full-page screenshots ``<prefix>NN-<name>.png``; a run first removes the previous
    run's screenshots of the same prefix (and only those)."""

    def __init__(self, page, directory: Path, prefix: str = ""):
        self.page, self.directory, self.prefix, self.n = page, directory, prefix, 0
        for old in directory.glob(f"{prefix}[0-9][0-9]-*.png"):
            old.unlink()

    def shot(self, name: str, page=None) -> Path:
        """Screenshot of ``page`` (default: the page given at construction)."""
        self.n += 1
        path = self.directory / f"{self.prefix}{self.n:02d}-{name}.png"
        page = page or self.page
        # The whole page in one image. A full-page capture keeps the viewport's size, so sticky
        # headers and fixed tab bars would be drawn across the middle of the image; a viewport as
        # tall as the page puts them at its top and bottom, as the user sees them.
        size = page.viewport_size
        height = page.evaluate("document.documentElement.scrollHeight")
        if size and height > size["height"]:
            page.set_viewport_size({"width": size["width"], "height": height})
        try:
            page.screenshot(path=str(path), full_page=True)
        finally:
            if size:
                page.set_viewport_size(size)
        return path


def totp_token(username: str) -> str:
    """The current code of the user's authenticator (a confirmed TOTP device, created on first
    use as a user would bind one), never one already used: django-otp refuses a code twice."""
    import time

    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    user = User.objects.get(username=username)
    device = (TOTPDevice.objects.filter(user=user, confirmed=True).first()
              or TOTPDevice.objects.create(user=user, name="e2e 验证器", confirmed=True))
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if totp.t() <= device.last_t:  # this step's code was used: the next one is within tolerance
        totp.time += device.step
    return f"{totp.token():0{device.digits}d}"


def login(page, base: str, username: str) -> None:
    """Log in on the PC (admin) login page, then the second factor when the policy asks."""
    page.goto(f"{base}/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit], input[type=submit]")
    if "/accounts/otp/" in page.url:
        if "/accounts/otp/setup/" in page.url:
            totp_token(username)  # bind a device the way the user would have done before
            page.goto(page.url.replace("/accounts/otp/setup/", "/accounts/otp/"))
        page.fill("input[name=token]", totp_token(username))
        with page.expect_navigation():
            page.click("button[type=submit]")
    assert "/admin/login/" not in page.url, f"{username} 登录失败"
    # Chinese renders: a known Chinese string of the site is visible.
    assert page.get_by_text("矛盾纠纷调处研判", exact=False).first.is_visible()


def success_message(page) -> str:
    alert = page.locator(".alert-success")
    alert.first.wait_for()
    return alert.first.inner_text()
