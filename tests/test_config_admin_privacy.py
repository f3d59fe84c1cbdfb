"""Finding 10 of the security assessment (业务配置管理员): the business configuration admin read
every case of the district. Now the role configures without case rights: no case, party or
warning-result screen, no workbench of cases, and the 试算/预览 screens give counts and masked
samples (case numbers, 张*), never titles, parties or links into cases."""
from __future__ import annotations

import importlib

import pytest

from clues.rules import PreviewRow, summarise_preview


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


@pytest.fixture
def labor(make_case):
    return make_case(title="张三等十五人欠薪纠纷", party_count=15, case_type="labor_wage",
                     parties=[{"name": "张三", "id_number": "11010519491231002X", "phone": "13800138000"}])


def test_the_config_admin_holds_no_case_right(world):
    config = user("demo_config")
    for perm in ("cases.view_case", "cases.view_party", "cases.view_sensitive_party", "cases.change_case"):
        assert not config.has_perm(perm), perm


def test_the_config_admin_opens_no_case_screen(labor, client_for):
    c = client_for("demo_config")
    for url in ("/admin/cases/case/", f"/admin/cases/case/{labor.pk}/detail/", f"/admin/cases/case/{labor.pk}/change/",
                "/admin/cases/party/", "/admin/escalation/casewarning/", "/admin/escalation/partywarning/",
                "/admin/cases/case/excel/export/"):
        response = c.get(url)
        assert response.status_code in (302, 403, 404), url
        assert labor.title not in response.content.decode() and "张三" not in response.content.decode(), url
    index = c.get("/admin/").content.decode()
    assert labor.title not in index and labor.exchange_id not in index  # the normal index, no case workbench


def test_expression_trial_shows_counts_and_numbers_only(labor, make_case, client_for):
    make_case(title="李四邻里纠纷", party_count=2, parties=[{"name": "李四"}])
    case = client_for("demo_config").post("/lowcode/try-expression/case/", {"expression": "涉及人数 >= 10"}).json()
    assert case["matched"] == 1 and case["examples"] == [labor.exchange_id]
    party = client_for("demo_config").post("/lowcode/try-expression/party/", {"expression": "1 == 1"}).json()
    assert party["matched"] == 2 and sorted(party["examples"]) == ["张*", "李*"]


def test_warning_rule_preview_has_no_titles_or_links_into_cases(labor, client_for):
    from extensions.escalation import evaluate
    from extensions.escalation.models import WarningRule
    from tests.test_escalation_admin import form_data

    evaluate.evaluate_cases([labor.pk])
    rule = WarningRule.objects.get(code="group_dispute")
    page = client_for("demo_config").post(f"/admin/escalation/warningrule/{rule.pk}/change/",
                                          form_data(rule, enabled=False, _preview="1")).content.decode()
    assert "颜色会变化的示例" in page and labor.exchange_id in page
    assert labor.title not in page and "张三" not in page
    assert f"/admin/cases/case/{labor.pk}/" not in page


def test_cleaning_rule_preview_masks_the_people_in_the_records():
    before = {"title": "张三与李四劳资纠纷", "parties": [{"name": "张三", "phone": "13800138000",
                                                        "id_number": "11010519491231002X"}],
              "address": "湖滨路88号", "type_code": "labor"}
    after = {**before, "title": "劳资纠纷：张三与李四", "parties": [{"name": "张三丰", "phone": "13800138001"}],
             "address": "湖滨路88号3幢", "type_code": "labor_wage"}
    summary = summarise_preview([PreviewRow("police110:1", {}, before, after, [], True)])
    shown = repr(summary.examples)
    for personal in ("张三", "李四", "13800138000", "13800138001", "湖滨路88号"):
        assert personal not in shown, personal
    assert "labor → labor_wage" in " ".join(f"{a} → {b}" for _, a, b in summary.examples[0]["fields"])
    assert "张**" in shown and "138****8001" in shown


def test_an_existing_installation_takes_the_case_rights_away(world):
    from django.apps import apps as django_apps
    from django.contrib.auth.models import Group, Permission

    group = Group.objects.get(name="业务配置管理员")
    group.permissions.add(Permission.objects.get(content_type__app_label="cases", codename="view_case"))
    migration = importlib.import_module("cases.migrations.0008_encrypt_party_address_role_rights")
    migration.drop_config_case_rights(django_apps, None)
    assert not group.permissions.filter(content_type__app_label="cases").exists()
