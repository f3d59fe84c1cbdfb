"""The business admin edits warning metadata (rules, thresholds, keywords, levels) on screens, with
Chinese validation messages, history, shipped-vs-local, and a preview of the colour counts before
saving; the 重点人员 register keeps ID numbers masked."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from extensions.escalation import evaluate
from extensions.escalation.models import CaseWarning, KeyPerson, WarningLevel, WarningRule, WarningSetting

RULES = "/admin/escalation/warningrule/"


# the key-person page's 走访 inline (library/keywork, issue #15), posted empty
NO_VISITS = {"visits-TOTAL_FORMS": "0", "visits-INITIAL_FORMS": "0", "visits-MIN_NUM_FORMS": "0",
             "visits-MAX_NUM_FORMS": "1000"}

def form_data(obj, **changes) -> dict:
    data = {name: getattr(obj, name) for name in obj.META_FIELDS}
    data.update(changes)
    return {k: ("on" if v is True else "" if v is False else v) for k, v in data.items() if v is not False}


@pytest.fixture
def cases(make_case):
    """Three 湖滨 cases (green, group of 12 → red, overdue → yellow) and one 溪口 group case."""
    now = timezone.now()

    def person(i):  # distinct people: no repeat-party warnings in the way
        return [{"name": f"当事人{i}", "phone": f"1380000000{i}"}]

    made = [make_case(title="普通纠纷", parties=person(1), deadline=now + dt.timedelta(days=9)),
            make_case(title="群体欠薪", parties=person(2), party_count=12, deadline=now + dt.timedelta(days=9)),
            make_case(title="超期纠纷", parties=person(3), deadline=now - dt.timedelta(days=3)),
            make_case(region_name="溪口社区", title="溪口群体纠纷", parties=person(4), party_count=20,
                      deadline=now + dt.timedelta(days=9))]
    evaluate.evaluate_cases([c.pk for c in made])
    return made


def preview_counts(page: str) -> dict[str, tuple[int, int]]:
    found = re.findall(r'data-level="(\w+)" data-before="(\d+)" data-after="(\d+)"', page)
    return {k: (int(b), int(a)) for k, b, a in found}


def test_the_config_admin_sees_the_shipped_rules(cases, client_for):
    page = client_for("demo_config").get(RULES).content.decode()
    assert "民转刑或暴力倾向" in page and "突出当事人" in page and "出厂（未修改）" in page


def test_preview_shows_how_many_cases_each_colour_would_hold_without_saving(cases, client_for):
    c = client_for("demo_config")
    rule = WarningRule.objects.get(code="group_dispute")
    data = form_data(rule, condition="涉及人数 >= 25 or 包含(案件标签, '群体性')", _preview="1")
    page = c.post(f"{RULES}{rule.pk}/change/", data).content.decode()
    counts = preview_counts(page)
    # district scope: the 12-person case goes green, the 20-person case too; the overdue one stays yellow
    assert counts["red"] == (2, 0)
    assert counts["yellow"] == (1, 1)
    assert counts["green"][1] - counts["green"][0] == 2
    assert cases[1].exchange_id in page and "颜色会变化的示例" in page
    assert "群体欠薪" not in page and "当事人2" not in page  # samples by number, no title or party
    rule.refresh_from_db()
    assert rule.condition.startswith("涉及人数 >= 群体规模阈值")  # nothing saved
    assert CaseWarning.objects.filter(level="red").count() == 2


def test_preview_is_limited_to_the_admins_scope(cases, client_for, world):
    from django.contrib.auth.models import Group

    from accounts.models import User

    street = User.objects.get(username="demo_street")
    street.groups.add(Group.objects.get(name="业务配置管理员"))
    rule = WarningRule.objects.get(code="group_dispute")
    page = client_for("demo_street").post(f"{RULES}{rule.pk}/change/",
                                         form_data(rule, enabled=False, _preview="1")).content.decode()
    assert preview_counts(page)["red"] == (1, 0)  # 溪口 is another street
    assert "溪口群体纠纷" not in page


def test_a_threshold_change_can_be_previewed_too(cases, client_for):
    s = WarningSetting.objects.get(key="group_size")
    page = client_for("demo_config").post(f"/admin/escalation/warningsetting/{s.pk}/change/", {
        "key": s.key, "name": s.name, "value": "15", "description": s.description, "_preview": "1"}).content.decode()
    assert preview_counts(page)["red"] == (2, 1)


def test_saving_an_edited_rule_keeps_history_and_marks_it_locally_changed(cases, client_for):
    c = client_for("demo_config")
    rule = WarningRule.objects.get(code="overdue")
    response = c.post(f"{RULES}{rule.pk}/change/", form_data(rule, level="orange", message="超期 {超期天数} 天"))
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.level == "orange" and rule.is_customised
    assert rule.history.count() == 2
    evaluate.evaluate_cases([cases[2].pk])
    assert CaseWarning.objects.get(pk=cases[2].pk).level == "orange"


def test_load_metadata_keeps_a_site_change(cases):
    from lowcode.serialization import load_metadata

    WarningRule.objects.filter(code="overdue").update(level="orange")
    report = load_metadata(["warning_rules"])
    assert WarningRule.objects.get(code="overdue").level == "orange"
    assert any("overdue" in k for k in report.kept_site_changes)


@pytest.mark.parametrize("changes, field, message", [
    ({"condition": "涉及人数 >= "}, "condition", "语法错误"),
    ({"condition": "涉及人口 >= 10"}, "condition", "未知字段：涉及人口"),
    ({"condition": "__import__('os')"}, "condition", "未知函数"),
    ({"level": "purple"}, "level", "预警等级“purple”不存在"),
    ({"message": "共 {不存在的事实} 次"}, "message", "未知的事实：不存在的事实"),
    ({"target": "party", "condition": "超期天数 > 0"}, "condition", "未知字段：超期天数"),
])
def test_a_bad_rule_is_refused_with_a_chinese_message_and_nothing_saved(cases, client_for, changes, field, message):
    rule = WarningRule.objects.get(code="overdue")
    before = rule.meta_values()
    for extra in ({}, {"_preview": "1"}):
        response = client_for("demo_config").post(f"{RULES}{rule.pk}/change/", form_data(rule, **changes, **extra))
        assert response.status_code == 200
        assert message in response.content.decode()
    rule.refresh_from_db()
    assert rule.meta_values() == before


def test_a_new_rule_can_be_added_and_previewed(cases, client_for):
    c = client_for("demo_config")
    data = {"code": "many_parties", "name": "当事人众多", "target": "case", "condition": "涉及人数 >= 5",
            "level": "orange", "priority": "55", "message": "涉及 {涉及人数} 人", "window_days": "30", "enabled": "on"}
    page = c.post(f"{RULES}add/", {**data, "_preview": "1"}).content.decode()
    assert preview_counts(page)["red"] == (2, 2)  # the group rules come first
    assert not WarningRule.objects.filter(code="many_parties").exists()
    assert c.post(f"{RULES}add/", data).status_code == 302
    assert WarningRule.objects.get(code="many_parties").origin == "site"


def test_a_party_rule_preview_counts_people(make_case, client_for):
    li = {"name": "李四", "id_number": "330102199001011237"}
    made = [make_case(parties=[dict(li)], title=f"纠纷{i}") for i in range(3)]
    report = evaluate.evaluate_cases([c.pk for c in made])
    from extensions.escalation import party

    party.evaluate_persons(report.persons)
    rule = WarningRule.objects.get(code="party_prominent")
    page = client_for("demo_config").post(f"{RULES}{rule.pk}/change/",
                                         form_data(rule, condition="纠纷数 >= 3", _preview="1")).content.decode()
    counts = preview_counts(page)
    assert counts["yellow"] == (1, 0) and counts["red"] == (0, 1)
    assert "李*（按证件号码识别）" in page and "李四" not in page  # a masked sample, no link


def test_bad_levels_and_settings_are_refused(cases, client_for):
    c = client_for("demo_config")
    lv = WarningLevel.objects.get(key="red")
    page = c.post(f"/admin/escalation/warninglevel/{lv.pk}/change/", form_data(lv, color="红", lead_level=7)).content.decode()
    assert "十六进制色值" in page and "牵头层级只能是" in page
    s = WarningSetting.objects.get(key="group_size")
    page = c.post(f"/admin/escalation/warningsetting/{s.pk}/change/",
                  {"key": s.key, "name": s.name, "value": '"很多"', "description": ""}).content.decode()
    assert "应为不小于 0 的数字" in page
    page = c.post(f"/admin/escalation/warningsetting/{s.pk}/change/",
                  {"key": s.key, "name": "涉及人数", "value": "10", "description": ""}).content.decode()
    assert "与事实名称重复" in page


def test_a_level_label_and_colour_are_metadata(cases, client_for):
    WarningLevel.objects.filter(key="red").update(label="一级预警", color="#aa0000")
    page = client_for("demo_mediator").get(f"/admin/cases/case/{cases[1].pk}/detail/").content.decode()
    assert "一级预警" in page and "#aa0000" in page


def test_case_handlers_cannot_edit_rules(cases, client_for):
    c = client_for("demo_mediator")
    assert c.get(RULES).status_code == 403
    rule = WarningRule.objects.get(code="overdue")
    c.post(f"{RULES}{rule.pk}/change/", form_data(rule, level="red"))
    rule.refresh_from_db()
    assert rule.level == "yellow"


# --- 重点人员 ----------------------------------------------------------------------------------------
def test_a_mediator_registers_a_key_person_and_the_case_turns_red(make_case, client_for, world):
    from orgs.models import Region

    case = make_case(parties=[{"name": "李四", "id_number": "330102199001011237"}],
                     deadline=timezone.now() + dt.timedelta(days=9))
    evaluate.evaluate_cases([case.pk])
    c = client_for("demo_mediator")
    hubin = Region.objects.get(name="湖滨社区")
    with_capture = c.post("/admin/escalation/keyperson/add/", {
        "name": "李四", "id_number": "330102199001011237", "phone": "", "reason": "多次扬言报复",
        "region": hubin.pk, "active": "on",
        "logs-TOTAL_FORMS": "1", "logs-INITIAL_FORMS": "0", "logs-MIN_NUM_FORMS": "0", "logs-MAX_NUM_FORMS": "1000",
        "logs-0-occurred_at_0": "2026-11-20", "logs-0-occurred_at_1": "09:00:00", "logs-0-content": "上门走访，情绪稳定",
        **NO_VISITS})
    assert with_capture.status_code == 302
    kp = KeyPerson.objects.get(name="李四")
    assert kp.logs.get().content == "上门走访，情绪稳定" and kp.created_by.username == "demo_mediator"


def test_the_key_person_screen_masks_and_keeps_the_stored_number(make_case, client_for, world):
    from orgs.models import Region

    hubin = Region.objects.get(name="湖滨社区")
    kp = KeyPerson.objects.create(name="李四", id_number="330102199001011237", reason="缠访", region=hubin)
    c = client_for("demo_mediator")
    page = c.get(f"/admin/escalation/keyperson/{kp.pk}/change/").content.decode()
    assert "330102199001011237" not in page and "3301**********1237" in page
    response = c.post(f"/admin/escalation/keyperson/{kp.pk}/change/", {
        "name": "李四", "id_number": "3301**********1237", "phone": "", "reason": "缠访（已稳控）",
        "region": hubin.pk, "active": "on", "logs-TOTAL_FORMS": "0", "logs-INITIAL_FORMS": "0",
        "logs-MIN_NUM_FORMS": "0", "logs-MAX_NUM_FORMS": "1000", **NO_VISITS})
    assert response.status_code == 302
    kp.refresh_from_db()
    assert kp.id_number == "330102199001011237" and kp.reason == "缠访（已稳控）"


def test_the_key_person_register_is_scoped(client_for, world):
    from orgs.models import Region

    KeyPerson.objects.create(name="溪口重点人", phone="13600000000", reason="x", region=Region.objects.get(name="溪口社区"))
    kp = KeyPerson.objects.get()
    c = client_for("demo_mediator")
    assert "溪口重点人" not in c.get("/admin/escalation/keyperson/").content.decode()
    assert c.get(f"/admin/escalation/keyperson/{kp.pk}/change/").status_code in (302, 404)
    assert "溪口重点人" in client_for("demo_district").get("/admin/escalation/keyperson/").content.decode()
