"""H5 智能辅助 on a phone (390×844, real headless Chromium): a community mediator opens 我的 →
调解案例检索, describes a dispute in her own words, finds the typical case (anonymised: 张某, no
real name) with the matched words highlighted, opens it, then searches the 基层减负 Q&A and sees
the answer with its matches highlighted. Screenshots: test-output/e2e/assist-NN-*.png."""
from __future__ import annotations

import re

import pytest

from .conftest import PASSWORD, Steps
from .test_case_handling_phone_to_pc import PHONE, no_horizontal_overflow, visible

pytestmark = pytest.mark.e2e


def _library():
    from accounts.models import User
    from cases.models import Case, MediationResult, Party
    from library import actions, anonymise
    from library.models import QACategory, QAEntry
    from orgs.models import Region

    region = Region.objects.get(name="湖滨社区")
    case = Case.objects.create(title="张建华与楼上住户漏水纠纷", case_type="neighbor", region=region, status="mediated",
                               description="张建华家天花板因楼上卫生间漏水发霉脱落，要求楼上赔偿维修费用。")
    Party.objects.create(case=case, name="张建华", phone="13911112222")
    Party.objects.create(case=case, name="刘明", role="respondent")
    MediationResult.objects.create(case=case, outcome="success", agreement="刘明重做防水层并赔偿张建华维修费1200元。")
    tc = actions.propose(case, User.objects.get(username="demo_mediator"), reason="方法可借鉴",
                         method="现场查看、背靠背调解", **anonymise.draft(case))
    actions.decide(tc, "审核通过", User.objects.get(username="demo_street"), typical_level="street")
    category = QACategory.objects.create(name="台账报表")
    QAEntry.objects.create(category=category, question="村社区台账太多，哪些可以不做？",
                           answer="以区里公布的台账清单为准，清单外的台账一律不再要求。", synonyms="报表、表格")
    QAEntry.objects.create(category=category, question="工作微信群太多怎么办？",
                           answer="同一事项只保留一个工作群。", synonyms="打卡")
    return tc


def test_h5_case_search_and_qa_on_a_phone(demo_world, live_server, e2e_browser, screenshot_dir):
    tc = _library()
    base = live_server.url
    context = e2e_browser.open_context(**PHONE)
    phone = context.pages[0] if context.pages else context.new_page()
    steps = Steps(phone, screenshot_dir, prefix="assist-")

    phone.goto(f"{base}/h5/login/")
    phone.fill("input[name=username]", "demo_mediator")
    phone.fill("input[name=password]", PASSWORD)
    with phone.expect_navigation():
        phone.get_by_role("button", name="登录").click()
    with phone.expect_navigation():
        phone.locator("nav.h5-tabbar a", has_text="我的").click()
    with phone.expect_navigation():
        phone.get_by_role("link", name="调解案例检索").click()
    visible(phone, "输入纠纷情况")
    steps.shot("search-empty")

    phone.fill("input[name=q]", "楼上漏水把天花板泡坏了，要求赔偿")
    with phone.expect_navigation():
        phone.get_by_role("button", name="检索").click()
    first = phone.locator("#assist-results a.h5-assist-hit").first
    first.wait_for(state="visible")
    assert "典型" in first.inner_text() and tc.title[:6] in first.inner_text()
    assert phone.locator("#assist-results mark").count() >= 2  # matched words highlighted
    assert "张建华" not in phone.content()
    no_horizontal_overflow(phone)
    steps.shot("search-results")

    with phone.expect_navigation():
        first.click()
    assert re.search(rf"/h5/library/typicalcase/{tc.pk}/$", phone.url)
    visible(phone, "张某")
    visible(phone, "现场查看、背靠背调解")
    assert "张建华" not in phone.content() and "13911112222" not in phone.content()
    no_horizontal_overflow(phone)
    steps.shot("typical-case")

    phone.goto(f"{base}/h5/assist/")
    with phone.expect_navigation():
        phone.get_by_role("link", name="基层减负问答 ›").click()
    phone.fill("input[name=q]", "台账清单")
    with phone.expect_navigation():
        phone.get_by_role("button", name="搜索").click()
    answer = phone.locator("#qa-results .h5-qa").first
    answer.wait_for(state="visible")
    assert "村社区台账太多" in answer.inner_text() and "微信群" not in phone.locator("#qa-results").inner_text()
    mark = phone.locator("#qa-results mark").first
    assert mark.inner_text() == "台账"
    assert mark.evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    no_horizontal_overflow(phone)
    steps.shot("qa-results")
