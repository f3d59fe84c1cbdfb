"""End-to-end fixtures: a headless Debian Chromium driven by Playwright's sync API against
pytest-django's ``live_server``.

Chromium is never downloaded: the tests use the system browser at /usr/bin/chromium
(``apt-get install chromium chromium-driver fonts-wqy-microhei``). Without it the tests are
skipped, unless E2E_REQUIRED=1 (as in CI), where a missing browser is a failure.

Every page of a test is watched: a request to any host other than 127.0.0.1 / localhost is
recorded and fails the test at the end (the production network is an intranet)."""
from __future__ import annotations

import os
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


@pytest.fixture
def browser_context(e2e_available, live_server, tmp_path, monkeypatch):
    """A fresh Chromium (new, empty user-data dir, zh-CN) and the list of outside requests.

    Yields (context, outside_requests, page_errors)."""
    # Playwright's sync API runs its asyncio event loop in this thread (in a greenlet) from
    # start() to stop(), so Django sees "a running event loop" and refuses ORM calls made by
    # the test itself (SynchronousOnlyOperation). The test is plain synchronous code and the
    # loop never runs Django code, so it is safe; set only for the duration of this fixture.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    user_data = tmp_path / "chromium-profile"
    user_data.mkdir()
    outside = OutsideRequests()
    page_errors: list[str] = []
    pw = sync_playwright().start()
    try:
        context = pw.chromium.launch_persistent_context(
            str(user_data),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            locale="zh-CN",
            viewport={"width": 1366, "height": 900},
        )
        context.set_default_timeout(15_000)
        context.on("request", outside.watch)
        context.on("page", lambda page: page.on("pageerror", lambda exc: page_errors.append(str(exc))))
        for page in context.pages:  # the persistent context opens with one blank page
            page.on("pageerror", lambda exc: page_errors.append(str(exc)))
        try:
            yield context, outside, page_errors
        finally:
            context.close()
    finally:
        # While Playwright's loop runs, asgiref treats this thread as async and keeps Django's
        # connections per contextvars context: ORM calls the test made meanwhile opened a
        # connection of their own. Close it here, or PostgreSQL refuses to drop the test
        # database at the end ("being accessed by other users").
        from django.db import connections

        connections.close_all()
        pw.stop()
        shutil.rmtree(user_data, ignore_errors=True)
    # every e2e test, whatever it asserts itself, fails if a page reached outside
    if outside:
        pytest.fail(f"页面请求了外部地址 / requests outside localhost: {list(outside)}", pytrace=False)
