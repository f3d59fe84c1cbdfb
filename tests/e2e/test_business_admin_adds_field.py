"""A business admin adds a field for one case type in the browser; a mediator then sees it on
the registration form of that case type only, must fill it, and finds it as a list column and a
range filter — no code, no restart. Screenshots of every step go to test-output/e2e/."""
from __future__ import annotations

import pytest

from .conftest import Steps, gb11643_id_number, login, success_message

pytestmark = pytest.mark.e2e

FIELD_CODE = "amount_involved"
FIELD_LABEL = "涉及金额(万元)"
CASE_TITLE = "湖滨社区某餐饮店拖欠员工工资纠纷"
CASE_DESCRIPTION = "申请人称某餐饮店拖欠其三个月工资，多次催要未果，请求社区调解。"


def logout(page, base: str) -> None:
    page.locator("a[data-bs-toggle=dropdown]:has(i.fa-user)").click()
    with page.expect_navigation():
        page.locator("#logout-form button[type=submit]").click()
    page.goto(f"{base}/admin/")
    assert "/admin/login/" in page.url, "注销后仍处于登录状态"


def field_group(page, name: str):
    """The form row holding the input ``name`` (label, widget, errors)."""
    return page.locator(f".form-group:has([name='{name}'])").last


def test_business_admin_adds_field_and_mediator_uses_it(demo_world, live_server, browser_context,
                                                          screenshot_dir):
    context, outside_requests, page_errors = browser_context
    base = live_server.url
    page = context.pages[0] if context.pages else context.new_page()
    steps = Steps(page, screenshot_dir)

    # --- 1. the business admin adds "涉及金额(万元)" for 劳动争议 ------------------------
    login(page, base, "demo_config")
    steps.shot("config-admin-logged-in")
    # through the menu, as a business admin would: 业务配置 › 字段定义 › 增加
    with page.expect_navigation():
        page.locator("aside a", has_text="字段定义").first.click()
    assert page.url.endswith("/admin/lowcode/fielddef/")
    with page.expect_navigation():
        page.locator("a", has_text="增加 字段定义").first.click()
    assert page.url.endswith("/admin/lowcode/fielddef/add/")
    page.select_option("[name=entity]", "case")
    page.fill("[name=code]", FIELD_CODE)
    page.fill("[name=label]", FIELD_LABEL)
    page.select_option("select[name=fieldtype]", label="小数")
    page.select_option("[name=scope]", ["labor"])
    page.check("input[name=reqd]")
    page.check("input[name=in_list_view]")
    page.check("input[name=in_standard_filter]")
    steps.shot("fielddef-filled")
    with page.expect_navigation():
        page.locator("[name=_save]").first.click()
    message = success_message(page)
    steps.shot("fielddef-saved")
    assert "成功添加" in message and FIELD_LABEL in message, message
    logout(page, base)

    # --- 2. the mediator registers a 劳动争议 case --------------------------------------
    login(page, base, "demo_mediator")
    steps.shot("mediator-logged-in")
    page.goto(f"{base}/admin/cases/case/add/")
    assert page.locator(f"[name={FIELD_CODE}]").count() == 0, "未选案件类型时不应出现劳动争议专用字段"
    page.fill("[name=title]", CASE_TITLE)
    page.fill("[name=description]", CASE_DESCRIPTION)
    steps.shot("case-add-before-type")
    # choosing the case type reloads the form for that type, keeping what was typed
    with page.expect_navigation():
        page.select_option("select[name=case_type]", label="劳动争议")
    page.wait_for_load_state("load")
    assert "scope=labor" in page.url
    amount = page.locator(f"input[name={FIELD_CODE}]")
    assert amount.is_visible(), "劳动争议登记表单中没有新字段"
    assert FIELD_LABEL in field_group(page, FIELD_CODE).inner_text()
    assert page.input_value("[name=title]") == CASE_TITLE
    assert page.input_value("[name=description]") == CASE_DESCRIPTION
    assert page.input_value("select[name=case_type]") == "labor"
    assert page.input_value("select[name=source]") == "local", "案件来源应默认为“本地登记”"
    steps.shot("case-add-labor-form")

    # required fields of the case and one party, but not the new field
    from orgs.models import Region

    # the region picker shows a tree (labels indented by level): chosen by the option's value
    page.select_option("select[name=region]", value=str(Region.objects.get(name="湖滨社区").pk))
    page.fill("[name=party_count]", "1")
    id_number = gb11643_id_number("33010619850612301")
    page.select_option("select[name='parties-0-role']", label="申请人")
    page.select_option("select[name='parties-0-party_kind']", label="自然人")
    page.fill("[name='parties-0-name']", "王小明")
    page.fill("[name='parties-0-id_number']", id_number)
    page.fill("[name='parties-0-phone']", "13800138000")
    with page.expect_navigation():
        page.locator("[name=_save]").first.click()
    steps.shot("case-add-required-error")
    assert "/add/" in page.url, "缺少必填的新字段时不应保存"
    error_text = field_group(page, FIELD_CODE).inner_text()
    assert "必填" in error_text, f"新字段旁没有中文必填提示：{error_text!r}"
    # nothing typed is lost
    assert page.input_value("[name=title]") == CASE_TITLE
    assert page.input_value("[name=description]") == CASE_DESCRIPTION
    assert page.input_value("select[name=case_type]") == "labor"
    assert page.input_value("[name='parties-0-name']") == "王小明"
    assert page.input_value("[name='parties-0-id_number']") == id_number

    page.fill(f"[name={FIELD_CODE}]", "12.5")
    with page.expect_navigation():
        page.locator("[name=_save]").first.click()
    message = success_message(page)
    steps.shot("case-saved")
    assert "成功添加" in message and CASE_TITLE in message, message

    # --- 3. the list: a column and a range filter --------------------------------------
    page.goto(f"{base}/admin/cases/case/")
    header = page.locator("#result_list thead th", has_text=FIELD_LABEL)
    assert header.count() == 1, "案件列表没有新字段的列"
    row = page.locator("#result_list tbody tr", has_text=CASE_TITLE)
    assert row.count() == 1
    assert row.locator(f"td.field-x__{FIELD_CODE}").inner_text().strip() == "12.5"
    steps.shot("case-list-column")

    def filter_amount(low: str, high: str) -> None:
        search_form = page.locator("form#changelist-search")
        search_form.locator(f"input[name={FIELD_CODE}__gte]").fill(low)
        search_form.locator(f"input[name={FIELD_CODE}__lte]").fill(high)
        with page.expect_navigation():
            search_form.get_by_role("button", name="搜索").click()
        assert f"{FIELD_CODE}__gte={low}" in page.url and f"{FIELD_CODE}__lte={high}" in page.url
        assert page.locator("#changelist").count() == 1, "筛选后应仍是案件列表页"
        assert page.input_value(f"form#changelist-search input[name={FIELD_CODE}__gte]") == low

    filter_amount("10", "20")
    steps.shot("case-list-filter-10-20")
    assert page.locator("#result_list tbody tr", has_text=CASE_TITLE).count() == 1, "范围 10–20 应找到该案件"
    assert page.locator(".alert-warning").count() == 0

    filter_amount("13", "20")
    steps.shot("case-list-filter-13-20")
    assert page.locator("#result_list tbody tr", has_text=CASE_TITLE).count() == 0, "范围 13–20 不应找到该案件"

    # --- 4. another case type does not show the field ----------------------------------
    page.goto(f"{base}/admin/cases/case/add/?scope=neighbor")
    page.wait_for_load_state("load")
    assert page.get_by_text("纠纷简要情况").first.is_visible()
    assert page.input_value("select[name=case_type]") == "neighbor", "?scope=neighbor 应预选案件类型"
    assert page.locator(f"[name={FIELD_CODE}]").count() == 0, "邻里纠纷登记表单不应出现劳动争议专用字段"
    assert FIELD_LABEL not in page.locator("form#case_form").inner_text()
    steps.shot("case-add-neighbor-form")

    # the record: the value is kept in the case's extra fields as a number
    from cases.models import Case

    case = Case.objects.get(title=CASE_TITLE)
    assert case.case_type == "labor" and case.extra.get(FIELD_CODE) == 12.5
    assert case.parties.get().id_number == id_number

    assert not page_errors, f"页面脚本错误：{page_errors}"
    assert not outside_requests, f"页面请求了外部地址：{outside_requests}"
