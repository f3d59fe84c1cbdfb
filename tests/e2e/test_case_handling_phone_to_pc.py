"""A case handled end to end across the two ends, in real headless Chromium: a community mediator
on a phone (H5 基层调解端, 390×844) registers a 邻里纠纷, starts mediation, logs it with a photo
and submits the result; a street admin approves it on the PC (工作台 → 审核); back on the phone
the mediator finds the review notice in 消息 and the case 已调解. Screenshots of every step go to
test-output/e2e/h5-NN-*.png."""
from __future__ import annotations

import re
import struct
import zlib

import pytest

from .conftest import PASSWORD, Steps, gb11643_id_number, login, success_message

pytestmark = pytest.mark.e2e

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "zh-CN",
    "user_agent": ("Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
                   "Chrome/120.0.0.0 Mobile Safari/537.36"),
}
PC = {"viewport": {"width": 1366, "height": 900}, "locale": "zh-CN"}

CASE_TITLE = "湖滨社区楼上楼下漏水纠纷"
CASE_DESCRIPTION = "申请人称楼上住户卫生间长期漏水，导致其家中天花板发霉脱落，协商未果，请求社区调解。"
PARTY_NAME = "李春梅"
PARTY_PHONE = "13912345678"
LOG_PLACE = "湖滨社区调解室"
LOG_CONTENT = "组织双方到现场查看漏水情况，楼上住户同意请人维修防水层。"
AGREEMENT = "楼上住户于两周内完成防水维修，并赔偿申请人天花板修复费用 800 元。"
OPINION = "调解协议合法有效，同意结案。"


def small_png(width: int = 96, height: int = 64) -> bytes:
    """A valid RGB PNG (a green/white stripe pattern), built without image libraries."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + b"".join(b"\x07\xc1\x60" if (x // 8 + y // 8) % 2 else b"\xff\xff\xff"
                                       for x in range(width)) for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def visible(page, text: str) -> None:
    """``text`` (Chinese) is visible on the page — it renders, it is not hidden."""
    locator = page.get_by_text(text, exact=False).first
    locator.wait_for(state="visible")
    assert locator.is_visible(), f"页面上看不到“{text}”"


def flash(page) -> str:
    item = page.locator(".h5-flash__item").first
    item.wait_for()
    return item.inner_text()


def no_horizontal_overflow(page) -> None:
    """The phone page fits its width: nothing makes it scroll sideways."""
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"页面横向溢出：内容宽 {widths[0]}px，屏幕宽 {widths[1]}px"


def test_mediator_on_phone_street_admin_on_pc(demo_world, live_server, e2e_browser, screenshot_dir, settings,
                                             tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    phone_context = e2e_browser.open_context(**PHONE)
    phone = phone_context.pages[0] if phone_context.pages else phone_context.new_page()
    steps = Steps(phone, screenshot_dir, prefix="h5-")

    # --- 1. the mediator, on the phone --------------------------------------------------------
    phone.goto(f"{base}/h5/login/")
    visible(phone, "请使用工作账号登录")
    assert phone.evaluate("window.innerWidth") == 390 and phone.evaluate("navigator.maxTouchPoints") > 0
    phone.fill("input[name=username]", "demo_mediator")
    phone.fill("input[name=password]", PASSWORD)
    steps.shot("login")
    with phone.expect_navigation():
        phone.get_by_role("button", name="登录").click()
    assert re.search(r"/h5/(\?.*)?$", phone.url), f"登录后应进入基层调解首页：{phone.url}"
    visible(phone, "基层调解")

    # 登记 tab, then 登记案件 → the case type tree
    with phone.expect_navigation():
        phone.locator("nav.h5-tabbar a", has_text="登记").click()
    assert "tab=registered" in phone.url
    visible(phone, "暂无")  # nothing registered yet
    no_horizontal_overflow(phone)
    steps.shot("home-registered")
    with phone.expect_navigation():
        phone.get_by_role("link", name="登记案件").click()
    visible(phone, "先选择纠纷类型")
    steps.shot("case-type")
    with phone.expect_navigation():
        phone.locator("a.h5-type", has_text="邻里纠纷").first.click()
    assert "type=neighbor" in phone.url
    visible(phone, "邻里纠纷")

    # the metadata form of 邻里纠纷 and one applicant
    phone.fill("[name=title]", CASE_TITLE)
    phone.fill("[name=description]", CASE_DESCRIPTION)
    region = phone.locator("select[name=region]")
    if region.count() and not region.input_value():
        region.select_option(label="湖滨社区")
    assert phone.locator("select[name=region] option:checked").inner_text().strip() == "湖滨社区"
    phone.fill("[name=party_count]", "2")
    id_number = gb11643_id_number("33010619780315462")
    assert phone.input_value("select[name='parties-0-role']") == "applicant"
    phone.select_option("select[name='parties-0-party_kind']", label="自然人")
    phone.fill("[name='parties-0-name']", PARTY_NAME)
    phone.fill("[name='parties-0-id_number']", id_number)
    phone.fill("[name='parties-0-phone']", PARTY_PHONE)
    no_horizontal_overflow(phone)
    steps.shot("case-form-filled")
    with phone.expect_navigation():
        phone.get_by_role("button", name="保存登记").click()
    assert re.search(r"/h5/cases/\d+/$", phone.url), f"登记后应进入案件页：{phone.url}"
    assert "案件已登记" in flash(phone)
    visible(phone, CASE_TITLE)
    assert phone.locator(".h5-case-head .h5-status").inner_text().strip() == "已登记"
    no_horizontal_overflow(phone)
    steps.shot("case-registered")
    case_url = phone.url

    # 开始调解 (asks for confirmation first)
    phone.once("dialog", lambda dialog: dialog.accept())
    with phone.expect_navigation():
        phone.locator("#actions").get_by_role("button", name="开始调解").click()
    assert "已开始调解" in flash(phone)
    assert phone.locator(".h5-case-head .h5-status").inner_text().strip() == "调解中"
    steps.shot("mediation-started")

    # a mediation log with a photo
    phone.locator("#log-form summary").click()
    log_form = phone.locator("#log-form form")
    log_form.locator("[name=occurred_at]").wait_for(state="visible")
    assert log_form.locator("[name=occurred_at]").input_value(), "调解时间应默认为当前时间"
    log_form.locator("[name=place]").fill(LOG_PLACE)
    log_form.locator("[name=participants]").fill(f"{PARTY_NAME}、楼上住户、社区调解员")
    log_form.locator("[name=content]").fill(LOG_CONTENT)
    log_form.locator("input[type=file][name=files]").set_input_files(
        files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": small_png()}])
    steps.shot("log-form-filled")
    with phone.expect_navigation():
        log_form.get_by_role("button", name="保存日志").click()
    assert "已记录调解日志" in flash(phone)
    log = phone.locator(".h5-log", has_text=LOG_CONTENT)
    assert log.count() == 1 and LOG_PLACE in log.inner_text()
    photo = log.locator(".h5-files img")
    photo.scroll_into_view_if_needed()
    photo.wait_for(state="visible")
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    assert photo.evaluate("img => img.naturalWidth") == 96, "日志照片没有显示出来"
    no_horizontal_overflow(phone)
    steps.shot("log-saved")

    # the result: 提交结果 (a form)
    with phone.expect_navigation():
        phone.locator("#actions").get_by_role("link", name="提交结果").click()
    assert "/result/" in phone.url
    visible(phone, "调解结果")
    phone.get_by_label("调解成功").check()
    phone.fill("[name=agreement]", AGREEMENT)
    phone.fill("[name=amount]", "800")
    no_horizontal_overflow(phone)
    steps.shot("result-form-filled")
    with phone.expect_navigation():
        phone.get_by_role("button", name="提交结果").click()
    assert phone.url.startswith(case_url)
    assert "结果待审核" in flash(phone)
    assert phone.locator(".h5-case-head .h5-status").inner_text().strip() == "结果待审核"
    visible(phone, AGREEMENT)
    assert phone.locator("#actions").get_by_role("link", name="提交结果").count() == 0
    steps.shot("result-submitted")

    # --- 2. the street admin, on the PC --------------------------------------------------------
    pc_context = e2e_browser.open_context(**PC)
    pc = pc_context.pages[0] if pc_context.pages else pc_context.new_page()
    login(pc, base, "demo_street")
    assert pc.url.rstrip("/").endswith("/admin")
    reviews = pc.locator("#workbench-reviews")
    visible(pc, "待我审核")
    assert reviews.locator(".badge").inner_text().strip() == "1"
    todo = reviews.locator("tbody tr", has_text=CASE_TITLE)
    assert todo.count() == 1, f"工作台待办中没有该案件：{reviews.inner_text()}"
    assert "调解结果审核" in todo.inner_text()
    steps.shot("pc-workbench", pc)
    with pc.expect_navigation():
        todo.get_by_role("link").first.click()
    assert re.search(r"/admin/cases/review/\d+/decide/$", pc.url), pc.url
    visible(pc, "审核意见")
    visible(pc, AGREEMENT)
    pc.fill("textarea[name=opinion]", OPINION)
    steps.shot("pc-review-decide", pc)
    with pc.expect_navigation():
        pc.get_by_role("button", name="审核通过").click()
    message = success_message(pc)
    assert "已审核通过" in message and CASE_TITLE in message, message
    steps.shot("pc-review-approved", pc)
    pc.goto(f"{base}/admin/")
    assert pc.locator("#workbench-reviews .badge").inner_text().strip() == "0"
    row = pc.locator("#workbench-cases tbody tr", has_text=CASE_TITLE)
    assert "已调解" in row.inner_text(), row.inner_text()
    with pc.expect_navigation():
        row.get_by_role("link").first.click()
    visible(pc, "已调解")
    visible(pc, OPINION)
    steps.shot("pc-case-mediated", pc)

    # --- 3. back on the phone: the notice ------------------------------------------------------
    with phone.expect_navigation():
        phone.goto(f"{base}/h5/")
    badge = phone.locator("nav.h5-tabbar .h5-tabbar__badge")
    assert badge.is_visible() and int(badge.inner_text()) > 0, "消息标签上没有未读数"
    with phone.expect_navigation():
        phone.locator("nav.h5-tabbar a", has_text="消息").click()
    assert "/h5/messages/" in phone.url
    visible(phone, "消息中心")
    unread = int(phone.locator(".h5-unread-count").inner_text())
    assert unread > 0
    notice = phone.locator("a.h5-notice", has_text="审核结果").filter(has_text="审核通过")  # titles: case number
    assert notice.count() == 1, phone.locator(".h5-list").inner_text()
    assert "h5-notice_unread" in (notice.get_attribute("class") or "")
    assert "审核结果" in notice.inner_text()
    no_horizontal_overflow(phone)
    steps.shot("messages-unread")
    with phone.expect_navigation():
        notice.click()
    visible(phone, "消息详情")
    visible(phone, OPINION)
    steps.shot("notice-opened")
    # reading it: one less unread
    badge = phone.locator("nav.h5-tabbar .h5-tabbar__badge")
    assert (int(badge.inner_text()) if badge.count() else 0) == unread - 1
    with phone.expect_navigation():
        phone.get_by_role("link", name="查看案件").click()
    assert phone.url.startswith(case_url)
    assert phone.locator(".h5-case-head .h5-status").inner_text().strip() == "已调解"
    reviews_block = phone.locator("#reviews + .weui-cells")
    assert "审核通过" in reviews_block.inner_text() and OPINION in reviews_block.inner_text()
    no_horizontal_overflow(phone)
    steps.shot("case-mediated")

    # --- the record ------------------------------------------------------------------------------
    from accounts.models import User
    from cases.models import Case
    from notices.models import Notice

    mediator, street = User.objects.get(username="demo_mediator"), User.objects.get(username="demo_street")
    case = Case.objects.get(title=CASE_TITLE)
    assert case.status == "mediated" and case.case_type == "neighbor" and case.registrant == mediator
    assert case.region.name == "湖滨社区" and case.party_count == 2
    party = case.parties.get()
    assert (party.role, party.name, party.id_number, party.phone) == ("applicant", PARTY_NAME, id_number, PARTY_PHONE)
    log_row = case.logs.get()
    assert log_row.content == LOG_CONTENT and log_row.place == LOG_PLACE
    photo_row = log_row.attachments.get()
    assert photo_row.name == "现场照片.png" and photo_row.content_type == "image/png"
    assert case.result.outcome == "success" and case.result.agreement == AGREEMENT
    review = case.reviews.get()
    assert (review.kind, review.status, review.action) == ("result", "approve", "审核通过")
    assert review.decided_by == street and review.submitted_by == mediator and review.opinion == OPINION
    result_notice = Notice.objects.get(recipient=mediator, case=case, kind="result")
    assert result_notice.read_at is not None, "打开后消息应为已读"
    assert Notice.objects.filter(recipient=street, case=case, kind="review").count() == 1

    assert not e2e_browser.page_errors, f"页面脚本错误：{e2e_browser.page_errors}"
    assert not e2e_browser.outside, f"页面请求了外部地址：{e2e_browser.outside}"
