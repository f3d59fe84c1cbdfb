"""The watermark (finding 8) and the Content-Security-Policy (finding 11) in a real Chromium.

The watermark is drawn over the page — in the screenshot, with JavaScript off too, and for
printing — lets clicks through, and comes back when removed or hidden through the DOM. The
conftest fails the test on any CSP violation on the way (the admin's scripts all run under the
policy)."""
from __future__ import annotations

import base64

import pytest

from tests.e2e.conftest import Steps, login

pytestmark = pytest.mark.e2e

WM = "document.getElementById('mdtj-wm')"
# the watermark is back: one layer, a direct child of <body>, visible, over everything, click-through
INTACT = f"""() => {{
  const all = document.querySelectorAll('[data-wm-account]');
  const el = {WM};
  if (all.length !== 1 || !el || el.parentNode !== document.body) return false;
  const cs = getComputedStyle(el);
  return cs.display === 'block' && cs.visibility === 'visible' && cs.opacity === '1'
    && cs.position === 'fixed' && cs.zIndex === '2147483647' && cs.pointerEvents === 'none'
    && cs.backgroundImage.startsWith('url("data:image/svg+xml');
}}"""

# Ink in a screenshot: pixels darker than the region's usual background, counted by the browser
# itself (it decodes the PNG; no imaging library needed).
COUNT_INK = """async (png) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + png;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  const seen = new Map();
  for (let i = 0; i < d.length; i += 4) { const k = d[i] + ',' + d[i+1] + ',' + d[i+2]; seen.set(k, (seen.get(k) || 0) + 1); }
  const bg = [...seen.entries()].sort((a, b) => b[1] - a[1])[0][0].split(',').map(Number);
  let ink = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (bg[0] - d[i] > 6 && bg[1] - d[i+1] > 6 && bg[2] - d[i+2] > 6) ink++;
  }
  return ink;
}"""


def ink_in(page, scratch, clip) -> int:
    png = base64.b64encode(page.screenshot(clip=clip)).decode()
    return scratch.evaluate(COUNT_INK, png)


def test_watermark_is_drawn_lets_clicks_through_and_is_redrawn(e2e_browser, live_server, demo_world, screenshot_dir):
    base = live_server.url
    context = e2e_browser.open_context()
    page = context.pages[0]
    scratch = context.new_page()  # an about:blank page to count pixels in
    steps = Steps(page, screenshot_dir, "watermark-")
    login(page, base, "demo_district")
    page.goto(f"{base}/admin/orgs/")  # a short admin page (two models): blank space below the list
    page.wait_for_function(INTACT)
    layer = page.evaluate(f"() => {{ const r = {WM}.getBoundingClientRect(); return [r.width, r.height]; }}")
    assert layer == [1366, 900], f"水印层没有覆盖整个窗口：{layer}"
    assert page.get_attribute("#mdtj-wm", "data-wm-account") == "demo_district"
    steps.shot("区域与组织-水印")
    blank = {"x": 700, "y": 600, "width": 600, "height": 220}  # empty page background, below the form
    assert ink_in(page, scratch, blank) > 200, "截图的空白处没有水印文字"

    # removed from the DOM, restyled, hidden by an injected stylesheet, its id taken away: back at once
    for attack in (f"{WM}.remove()",
                   f"{WM}.style.setProperty('display', 'none', 'important')",
                   f"{WM}.setAttribute('style', 'opacity:0')",
                   f"{WM}.hidden = true",
                   f"{WM}.removeAttribute('id')",
                   "document.body.replaceChildren(...[...document.body.children].filter(e => !e.dataset.wmAccount))",
                   "document.head.insertAdjacentHTML('beforeend', "
                   "'<style>#mdtj-wm{display:none!important;visibility:hidden!important}</style>')"):
        page.evaluate(f"() => {{ {attack}; }}")
        page.wait_for_function(INTACT, timeout=3000)
    assert ink_in(page, scratch, blank) > 200, "水印被移除后没有重画"
    steps.shot("移除后重画")

    # printing: the layer stays, with its background printed
    page.emulate_media(media="print")
    assert page.evaluate(f"() => getComputedStyle({WM}).printColorAdjust") == "exact"
    page.wait_for_function(INTACT)
    page.emulate_media(media="screen")

    # click-through: a link under the layer is clicked as if the layer were not there
    assert page.evaluate(f"() => document.elementFromPoint(20, 20) !== {WM}")
    with page.expect_navigation():
        page.locator("#jazzy-navigation a[href$='/admin/cases/case/']").first.click()
    assert page.url.endswith("/admin/cases/case/")
    page.wait_for_function(INTACT)
    steps.shot("案件列表-水印")
    assert not e2e_browser.page_errors, f"页面脚本错误：{e2e_browser.page_errors}"

    # JavaScript off: the server-rendered watermark is there all the same
    no_js = e2e_browser.open_context(java_script_enabled=False)
    plain = no_js.pages[0]
    plain.context.add_cookies(context.cookies())
    plain.goto(f"{base}/admin/password_change/")
    assert plain.locator("#mdtj-wm").count() == 1
    assert ink_in(plain, scratch, blank) > 200, "关闭 JavaScript 时截图中没有水印"
