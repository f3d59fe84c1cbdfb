"""Issue 18: the first hour of each role in real headless Chromium, over the demo world plus a few
records made here (a red warning case, one dispute reported twice, a flood of reminders and one
review result). District admin and street admin on the PC (1440×900), the community mediator on a
phone (390×844), the third party on the PC and on the phone. Each asserts that the headline
features are visible with data. Screenshots: test-output/first-hour/NN-*.png."""
from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings

from .conftest import PASSWORD, Steps, login
from .test_case_handling_phone_to_pc import PHONE, no_horizontal_overflow, visible

pytestmark = pytest.mark.e2e

PC = {"viewport": {"width": 1440, "height": 900}, "locale": "zh-CN"}
INTERNAL_MENUS = ("当事人预警名单", "重点人员", "案件档案")


@pytest.fixture
def first_hour(demo_world):
    from django.utils import timezone

    from accounts.models import User
    from cases.models import Case, Party
    from extensions.escalation import evaluate
    from notices.models import Notice
    from orgs.models import Region

    hubin, mediator = Region.objects.get(name="湖滨社区"), User.objects.get(username="demo_mediator")
    red = Case.objects.create(title="工地二十余名工人欠薪", description="包工头拖欠二十余名工人工资约41000元。",
                              case_type="labor_wage", region=hubin, party_count=12, registrant=mediator,
                              deadline=timezone.now() + dt.timedelta(days=9))
    Party.objects.create(case=red, name="当事人甲", phone="13800000001")
    evaluate.evaluate_cases([red.pk])
    text = "王建国反映地下车库积水，物业仍催交物业费2400元，双方发生争执。"
    same = []
    for title, desc, addr in (("车库积水物业费纠纷", text, "文化路313号"),
                              ("物业费争执", "业主王建国因车库积水拒交2400元物业费，与物业争执。", "文化路313号附近")):
        c = Case.objects.create(title=title, description=desc, case_type="property", region=hubin, address=addr,
                                registrant=mediator)
        Party.objects.create(case=c, name="王建国", phone="13957070221")
        same.append(c)
    Notice.objects.bulk_create([Notice(recipient=mediator, kind="overdue", title=f"超期提醒：第{i}件", case=red)
                                for i in range(5)])
    Notice.objects.create(recipient=mediator, kind="result", title="审核结果：调解结果已通过")
    return red, same


def test_first_hour_of_each_role(first_hour, live_server, e2e_browser):
    red, same = first_hour
    base = live_server.url
    out = settings.BASE_DIR / "test-output" / "first-hour"
    out.mkdir(parents=True, exist_ok=True)
    pc_context = e2e_browser.open_context(**PC)
    pc_context.set_default_timeout(45_000)  # the first pages of a cold live server on a busy machine
    pc = pc_context.pages[0] if pc_context.pages else pc_context.new_page()
    steps = Steps(pc, out)

    # --- district admin, PC: workbench charts, list → detail with the colour on top, addresses ----
    login(pc, base, "demo_district")
    pc.goto(f"{base}/admin/")
    pc.locator("#workbench-charts .mdtj-minichart[data-drawn]").first.wait_for()
    assert "Jazzmin" not in pc.content()
    steps.shot("district-workbench")
    pc.goto(f"{base}/admin/cases/case/")
    with pc.expect_navigation():
        pc.locator("#result_list a", has_text=red.exchange_id).first.click()
    assert pc.url.endswith(f"/admin/cases/case/{red.pk}/detail/")
    summary = pc.locator("#case-summary")
    assert "红色" in summary.inner_text() and summary.bounding_box()["y"] < 400  # above the fold
    visible(pc, "打标签")
    steps.shot("district-red-case")
    pc.goto(f"{base}/admin/addresses/standardaddress/")
    visible(pc, "标准地址")
    pc.goto(f"{base}/admin/cases/case/{same[0].pk}/detail/")
    assert "同一案件" in pc.locator("#case-summary").inner_text()
    steps.shot("district-same-case")

    # --- street admin, PC: search a case type by name; the sidebar name readable ---------------
    pc_context.clear_cookies()
    login(pc, base, "demo_street")
    pc.goto(f"{base}/admin/cases/case/?q=欠薪")
    assert pc.locator("#result_list a", has_text=red.exchange_id).count() == 1
    assert pc.locator(".mdtj-action-buttons button", has_text="打标").count() == 1
    colour = pc.evaluate("getComputedStyle(document.querySelector('#jazzy-sidebar .user-panel .info a, "
                         "#jazzy-sidebar .user-panel .info span')).color")
    assert colour in ("rgb(248, 249, 250)", "rgb(255, 255, 255)"), colour
    steps.shot("street-search-by-type")

    # --- community mediator, phone: messages by kind, the colour on the case page, charts -----
    phone_context = e2e_browser.open_context(**PHONE)
    phone_context.set_default_timeout(45_000)
    phone = phone_context.pages[0] if phone_context.pages else phone_context.new_page()
    phone.goto(f"{base}/h5/login/")
    phone.fill("input[name=username]", "demo_mediator")
    phone.fill("input[name=password]", PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="登录").click()
    phone.goto(f"{base}/h5/messages/")
    with phone.expect_navigation():
        phone.locator("#notice-kinds a", has_text="审核结果").click()
    visible(phone, "审核结果：调解结果已通过")
    assert phone.get_by_text("超期提醒：第0件").count() == 0
    no_horizontal_overflow(phone)
    steps.shot("mediator-messages", phone)
    phone.goto(f"{base}/h5/cases/{red.pk}/")
    flag = phone.locator(".h5-flag", has_text="预警等级")
    assert "红色" in flag.inner_text() and flag.bounding_box()["y"] < 400
    no_horizontal_overflow(phone)
    steps.shot("mediator-red-case", phone)
    phone.goto(f"{base}/h5/me/")
    phone.locator("#me-charts .mdtj-minichart[data-drawn]").first.wait_for()
    no_horizontal_overflow(phone)
    steps.shot("mediator-me", phone)

    # --- third party, PC: no internal menus, analysis with charts ------------------------------
    pc_context.clear_cookies()
    login(pc, base, "demo_tp_admin")
    pc.goto(f"{base}/admin/")
    menu = pc.locator("#jazzy-navigation").inner_text()
    assert not [m for m in INTERNAL_MENUS if m in menu], menu
    pc.goto(f"{base}/tp/analysis/")
    assert pc.locator("#tp-charts").count() == 1
    steps.shot("thirdparty-analysis")

    # --- third party, phone ------------------------------------------------------------------------
    tp_phone = e2e_browser.open_context(**PHONE)
    tp_phone.set_default_timeout(45_000)
    m = tp_phone.pages[0] if tp_phone.pages else tp_phone.new_page()
    m.goto(f"{base}/tp/m/")
    m.fill("input[name=username]", "demo_tp_mediator")
    m.fill("input[name=password]", PASSWORD)
    with m.expect_navigation():
        m.get_by_role("button", name="登录").click()
    assert m.url.rstrip("/").endswith("/tp/m"), m.url
    no_horizontal_overflow(m)
    steps.shot("thirdparty-phone", m)
