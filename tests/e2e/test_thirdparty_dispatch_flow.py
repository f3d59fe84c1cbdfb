"""A dispatched case end to end across three people, in real headless Chromium: the district
admin (PC) makes a dispatch order of a case whose dispatch request passed review; a third-party
mediator signs up on a phone (H5 第三方调解端, 390×844); the district admin awards the order;
on the phone the mediator confirms the voucher, logs the mediation with a photo and submits the
result; on the PC the district admin approves the result, evaluates the third party and exports
the statement of account (调解对账单) to Excel. Screenshots: test-output/e2e/tp-NN-*.png.

The sign-up window is three days long; instead of waiting, the test moves its end into the past
once the sign-up is in (the award screen then offers the choice, as after a real deadline)."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from .conftest import PASSWORD, Steps, login, success_message
from .test_case_handling_phone_to_pc import PC, PHONE, flash, no_horizontal_overflow, small_png, visible

pytestmark = pytest.mark.e2e

CASE_TITLE = "王建国与李四的货款纠纷"
PLAN = "组织双方在和合调解中心面对面调解，一周内出具调解意见。"
LOG = "和合调解中心组织双方核对账目，李四承认欠款。"
AGREEMENT = "李四于三十日内分两期支付货款 26000 元。"


@pytest.fixture
def dispatched_case(demo_world):
    """A 湖滨社区 case whose dispatch request (申请发单) the street approved: state 已发单."""
    from accounts.models import User
    from cases.models import Case, HelpRequest, Party
    from orgs.models import Region

    case = Case.objects.create(title=CASE_TITLE, description="王建国称李四拖欠货款 26000 元，多次催要未果。",
                               case_type="contract", region=Region.objects.get(name="湖滨社区"),
                               status="dispatched", registrant=User.objects.get(username="demo_mediator"),
                               address="示范区解放路 18 号")
    Party.objects.create(case=case, name="王建国", id_number="11010519491231002X", phone="13800138000")
    Party.objects.create(case=case, role="respondent", name="李四", phone="13912345678")
    HelpRequest.objects.create(case=case, kind="dispatch", reason="涉及商事合同，请专业调解组织介入",
                               expected_fee=3000, requested_by=case.registrant)
    return case


def test_dispatch_sign_up_award_mediate_review_evaluate_export(dispatched_case, live_server, e2e_browser,
                                                              screenshot_dir, settings, tmp_path):
    from cases.models import Case, Review
    from dispatch.models import DispatchOrder

    settings.MEDIA_ROOT = tmp_path / "media"
    base = live_server.url
    pc_context = e2e_browser.open_context(**PC, accept_downloads=True)
    pc = pc_context.pages[0] if pc_context.pages else pc_context.new_page()
    phone_context = e2e_browser.open_context(**PHONE)
    phone = phone_context.pages[0] if phone_context.pages else phone_context.new_page()
    steps = Steps(pc, screenshot_dir, prefix="tp-")

    # --- 1. the district admin makes the order (PC) -----------------------------------------------
    login(pc, base, "demo_district")
    pc.goto(f"{base}/admin/dispatch/dispatchorder/pending/")
    row = pc.locator("tr", has_text=dispatched_case.exchange_id)
    steps.shot("pc-pending")
    with pc.expect_navigation():
        row.get_by_role("link", name="发单").click()
    visible(pc, "王某")  # the order's text is masked before anybody outside sees it
    pc.fill("[name=requirements]", "具备商事调解资质，熟悉买卖合同纠纷")
    if not pc.input_value("[name=mediation_deadline]"):
        pc.fill("[name=mediation_deadline]", (dt.date.today() + dt.timedelta(days=33)).isoformat())
    steps.shot("pc-create-order")
    with pc.expect_navigation():
        pc.get_by_role("button", name="发单").click()
    assert "已发单" in success_message(pc)
    order = DispatchOrder.objects.get(case=dispatched_case)
    assert order.phase == "bidding" and "王建国" not in order.title
    steps.shot("pc-order-published")

    # --- 2. the third-party mediator signs up on the phone ------------------------------------
    phone.goto(f"{base}/tp/m/")
    assert "/tp/m/login/" in phone.url
    phone.fill("input[name=username]", "demo_tp_mediator")
    phone.fill("input[name=password]", PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="登录").click()
    assert phone.url.rstrip("/").endswith("/tp/m"), phone.url
    assert phone.evaluate("window.innerWidth") == 390
    item = phone.locator("#tp-pool a.h5-case", has_text="货款纠纷")
    assert item.count() == 1 and "王建国" not in item.inner_text() and "王某" in item.inner_text()
    no_horizontal_overflow(phone)
    steps.shot("h5-pool", phone)
    with phone.expect_navigation():
        item.click()
    visible(phone, "具备商事调解资质")
    phone.fill("#signup-form [name=plan]", PLAN)
    phone.fill("#signup-form [name=quoted_fee]", "2800")
    no_horizontal_overflow(phone)
    steps.shot("h5-signup-form", phone)
    with phone.expect_navigation():
        phone.locator("#signup-form").get_by_role("button", name="报名").click()
    assert "报名成功" in flash(phone)
    with phone.expect_navigation():
        phone.locator("nav.h5-tabbar a", has_text="我的报名").click()
    mine = phone.locator("#tp-bids a.h5-case")
    assert mine.count() == 1 and "已报名" in mine.inner_text()
    steps.shot("h5-my-signups", phone)

    # the deadline passes (see the module docstring)
    now = dt.datetime.now(dt.timezone.utc)
    DispatchOrder.objects.filter(pk=order.pk).update(signup_start=now - dt.timedelta(days=3),
                                                     signup_end=now - dt.timedelta(minutes=1))

    # --- 3. the district admin awards ----------------------------------------------------------
    pc.goto(f"{base}/admin/dispatch/dispatchorder/{order.pk}/manage/")
    bidder = pc.locator("tr", has_text="和合商事调解中心")
    assert PLAN in bidder.inner_text()
    bidder.locator("input[type=radio][name=bid]").check()
    steps.shot("pc-award")
    pc.once("dialog", lambda dialog: dialog.accept())
    with pc.expect_navigation():
        pc.get_by_role("button", name="选定中选组织").click()
    assert "已选定" in success_message(pc)
    order.refresh_from_db()
    assert order.state == "awarded"
    steps.shot("pc-awarded")

    # --- 4. on the phone: confirm the voucher, log, submit the result -------------------------
    with phone.expect_navigation():
        phone.locator("nav.h5-tabbar a", has_text="调解中心").click()
    case_item = phone.locator("#tp-cases a.h5-case", has_text=CASE_TITLE)
    assert "待确认凭证" in case_item.inner_text()   # now the real title: the case is granted
    steps.shot("h5-cases", phone)
    with phone.expect_navigation():
        case_item.click()
    with phone.expect_navigation():
        phone.get_by_role("link", name="查看凭证").click()
    visible(phone, order.voucher.number)
    assert order.voucher.digest in phone.locator(".tp-digest").inner_text()
    no_horizontal_overflow(phone)
    steps.shot("h5-voucher", phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="确认凭证").click()
    assert "已确认凭证" in flash(phone)
    visible(phone, "王建国")   # the parties, now that the case is the organisation's
    phone.locator("#log-form summary").click()
    log_form = phone.locator("#log-form form")
    log_form.locator("[name=place]").fill("和合调解中心")
    log_form.locator("[name=content]").fill(LOG)
    log_form.locator("input[type=file][name=files]").set_input_files(
        files=[{"name": "调解现场.png", "mimeType": "image/png", "buffer": small_png()}])
    with phone.expect_navigation():
        log_form.get_by_role("button", name="保存日志").click()
    assert "已记录调解日志" in flash(phone)
    photo = phone.locator(".h5-log", has_text=LOG).locator(".h5-files img")
    photo.scroll_into_view_if_needed()
    phone.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=photo.element_handle())
    steps.shot("h5-log", phone)
    with phone.expect_navigation():
        phone.get_by_role("link", name="提交调解结果").click()
    phone.get_by_label("调解成功").check()
    phone.fill("[name=agreement]", AGREEMENT)
    no_horizontal_overflow(phone)
    steps.shot("h5-result-form", phone)
    with phone.expect_navigation():
        phone.get_by_role("button", name="提交结果").click()
    assert "调解结果已提交审核" in flash(phone)
    visible(phone, AGREEMENT)
    steps.shot("h5-result-submitted", phone)

    # --- 5. the district admin reviews, evaluates, exports the statement -----------------------
    review = Review.objects.get(case=dispatched_case, status="pending")
    pc.goto(f"{base}/admin/cases/review/{review.pk}/decide/")
    visible(pc, AGREEMENT)
    pc.fill("textarea[name=opinion]", "协议合法有效，同意结案。")
    with pc.expect_navigation():
        pc.get_by_role("button", name="审核通过").click()
    steps.shot("pc-reviewed")
    assert Case.objects.get(pk=dispatched_case.pk).status == "mediated"
    order.refresh_from_db()
    assert order.state == "completed", "结果审核通过后发单应为已完成"
    pc.goto(f"{base}/admin/dispatch/dispatchorder/{order.pk}/manage/#evaluate")
    pc.select_option("#evaluate select[name=score]", "5")
    pc.fill("#evaluate textarea[name=comment]", "调解及时，协议履行情况良好。")
    with pc.expect_navigation():
        pc.get_by_role("button", name="提交评价").click()
    assert "已提交调解评价" in success_message(pc)
    steps.shot("pc-evaluated")

    today = dt.date.today()
    pc.goto(f"{base}/admin/dispatch/awardedorder/statement/")
    pc.select_option("select[name=organization]", label="和合商事调解中心")
    pc.fill("input[name=start]", (today - dt.timedelta(days=31)).isoformat())
    pc.fill("input[name=end]", (today + dt.timedelta(days=1)).isoformat())
    with pc.expect_navigation():
        pc.get_by_role("button", name="查询").click()
    visible(pc, order.number)
    steps.shot("pc-statement")
    with pc.expect_download() as download_info:
        pc.get_by_role("link", name="导出Excel").click()
    path = download_info.value.path()
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(open(path, "rb").read()), read_only=True)
    cells = [str(c) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert order.number in cells and any("和合商事调解中心" in c for c in cells), cells[:40]

    # --- 6. the organisation's own figures show it -------------------------------------------
    org_admin = e2e_browser.open_context(**PC).new_page()
    login(org_admin, base, "demo_tp_admin")
    assert re.search(r"/tp/$", org_admin.url), org_admin.url
    org_admin.goto(f"{base}/tp/statements/")
    assert order.voucher.number in org_admin.locator("#tp-statement").inner_text()
    org_admin.goto(f"{base}/tp/analysis/")
    assert "100.0%" in org_admin.locator("#tp-analysis").inner_text()
    steps.shot("tp-admin-analysis", org_admin)

