"""A business admin changes fields, layouts and lists in the admin — no code, no restart —
and staff see the change on their next request."""
from __future__ import annotations

import pytest

from lowcode.models import FieldDef, FormLayout, ListView

FIELD_FORM = {
    "entity": "case", "code": "amount_involved", "label": "涉及金额(万元)", "fieldtype": "decimal",
    "dictionary": "", "scope": ["labor"], "idx": 300, "reqd": "on", "mandatory_depends_on": "",
    "depends_on": "", "min_value": "0", "max_value": "", "max_length": "", "precision": "2",
    "pattern": "", "pattern_message": "", "default": "", "description": "", "query_mode": "range",
    "in_list_view": "on", "in_standard_filter": "on", "in_import": "on",
}


def case_form(region_id, **overrides):
    data = {
        "title": "务工人员讨薪", "case_type": "labor", "mediation_type": "people", "source": "local",
        "description": "12名工人被拖欠工资", "occurred_at": "", "address": "湖滨路1号",
        "region": region_id, "party_count": "3", "group_dispute": "",
        "parties-TOTAL_FORMS": "1", "parties-INITIAL_FORMS": "0", "parties-MIN_NUM_FORMS": "1",
        "parties-MAX_NUM_FORMS": "1000", "parties-0-role": "applicant",
        "parties-0-party_kind": "person", "parties-0-name": "陈伟",
        "parties-0-id_number": "11010519491231002X", "parties-0-phone": "13800138000",
        "parties-0-address": "",
    }
    data.update(overrides)
    return data


@pytest.fixture
def community(world):
    from orgs.models import Region

    return Region.objects.get(name="湖滨社区")


@pytest.fixture
def amount_field(client_for):
    response = client_for("demo_config").post("/admin/lowcode/fielddef/add/", FIELD_FORM)
    assert response.status_code == 302, response.content.decode()[:3000]
    return FieldDef.objects.get(entity="case", code="amount_involved")


def test_added_field_shows_in_its_case_types_forms_only(amount_field, client_for):
    c = client_for("demo_mediator")
    assert "涉及金额(万元)" in c.get("/admin/cases/case/add/?scope=labor").content.decode()
    assert "涉及金额(万元)" in c.get("/admin/cases/case/add/?scope=labor_wage").content.decode()  # child type
    assert "涉及金额(万元)" not in c.get("/admin/cases/case/add/?scope=neighbor").content.decode()


def test_required_extra_field_error_is_chinese_and_keeps_what_was_typed(amount_field, client_for, community):
    response = client_for("demo_mediator").post("/admin/cases/case/add/", case_form(community.pk))
    html = response.content.decode()
    assert response.status_code == 200
    assert "这个字段是必填项" in html
    assert "务工人员讨薪" in html and "12名工人被拖欠工资" in html and "陈伟" in html


def test_extra_field_is_validated_against_its_definition(amount_field, client_for, community):
    c = client_for("demo_mediator")
    html = c.post("/admin/cases/case/add/", case_form(community.pk, amount_involved="很多")).content.decode()
    assert "输入一个数字" in html
    html = c.post("/admin/cases/case/add/", case_form(community.pk, amount_involved="-1")).content.decode()
    assert "确保该值大于或等于0" in html


def test_saved_extra_value_shows_in_list_detail_and_filter(amount_field, client_for, community):
    from cases.models import Case

    c = client_for("demo_mediator")
    response = c.post("/admin/cases/case/add/", case_form(community.pk, amount_involved="12.5"))
    assert response.status_code == 302
    case = Case.objects.get(title="务工人员讨薪")
    assert case.extra["amount_involved"] == 12.5 and case.parties.count() == 1
    listing = c.get("/admin/cases/case/").content.decode()
    assert "涉及金额(万元)" in listing and "12.5" in listing
    assert "amount_involved__gte" in listing  # the range filter is offered
    assert "务工人员讨薪" in c.get("/admin/cases/case/", {"amount_involved__gte": "10", "amount_involved__lte": "20"}).content.decode()
    assert "务工人员讨薪" not in c.get("/admin/cases/case/", {"amount_involved__gte": "13"}).content.decode()
    assert "12.5" in c.get(f"/admin/cases/case/{case.pk}/detail/").content.decode()


def test_bad_filter_value_is_ignored_with_a_message(amount_field, client_for):
    response = client_for("demo_mediator").get("/admin/cases/case/", {"amount_involved__gte": "abc"})
    assert response.status_code == 200
    assert "格式不正确" in response.content.decode()


def test_parent_case_type_filter_includes_child_types(client_for, make_case):
    make_case(case_type="labor_wage", title="欠薪子类纠纷")
    make_case(case_type="neighbor", title="邻里纠纷一件")
    html = client_for("demo_mediator").get("/admin/cases/case/", {"case_type": "labor"}).content.decode()
    assert "欠薪子类纠纷" in html and "邻里纠纷一件" not in html


def test_required_if_expression_applies_only_when_it_holds(client_for, community):
    c = client_for("demo_mediator")
    # shipped: 用人单位 is required for 劳动争议 when 涉及人数 >= 10
    html = c.post("/admin/cases/case/add/", case_form(community.pk, party_count="12")).content.decode()
    assert "“用人单位”为必填项" in html
    assert c.post("/admin/cases/case/add/", case_form(community.pk, party_count="3")).status_code == 302


def test_visible_if_drops_values_of_hidden_fields(client_for, community):
    from cases.models import Case

    FieldDef.objects.create(entity="case", code="group_leader", label="牵头人", fieldtype="data",
                            depends_on="涉及人数 >= 10")
    c = client_for("demo_mediator")
    assert c.post("/admin/cases/case/add/", case_form(community.pk, party_count="2",
                                                      group_leader="老王")).status_code == 302
    assert "group_leader" not in Case.objects.get().extra
    rules = c.post("/lowcode/form-rules/case/", {"party_count": "2", "case_type": "labor"}).json()
    assert "group_leader" in rules["hidden"]
    rules = c.post("/lowcode/form-rules/case/", {"party_count": "15", "case_type": "labor"}).json()
    assert "group_leader" not in rules["hidden"] and "employer_name" in rules["required"]


def test_pattern_validation_uses_the_admins_message(client_for, community):
    html = client_for("demo_mediator").post("/admin/cases/case/add/", case_form(
        community.pk, case_type="traffic", accident_no="坏编号")).content.decode()
    assert "事故认定书编号为 6-30 位字母、数字或短横线" in html


def test_hidden_field_leaves_the_form(client_for):
    FieldDef.objects.filter(entity="case", code="group_dispute").update(hidden=True)
    FieldDef.objects.get(entity="case", code="title").save()  # any save bumps the version
    assert "是否群体性纠纷" not in client_for("demo_mediator").get("/admin/cases/case/add/?scope=neighbor").content.decode()


def test_layout_change_reorders_sections_at_once(client_for):
    c = client_for("demo_mediator")
    layout = FormLayout.objects.get(entity="case", screen="edit", scope_value="", role="")
    layout.sections = [{"title": "纠纷情况", "fields": ["description", "region", "party_count"]},
                       {"title": "基本信息", "fields": ["title", "case_type"]}]
    layout.save()
    html = c.get("/admin/cases/case/add/?scope=neighbor").content.decode()
    assert html.index("纠纷情况") < html.index("基本信息")
    assert 'name="mediation_type"' not in html


def test_list_columns_and_page_size_follow_the_list_view(client_for, make_case):
    for i in range(3):
        make_case(title=f"第{i}件")
    lv = ListView.objects.get(entity="case", role="")
    lv.columns = ["title", "address"]
    lv.page_size = 2
    lv.save()
    html = client_for("demo_mediator").get("/admin/cases/case/").content.decode()
    assert "纠纷发生地" in html and "登记时间</a>" not in html
    assert html.count('class="action-checkbox"') <= 2 or html.count("第") >= 2


def test_unknown_field_in_an_expression_is_refused_in_chinese(client_for):
    response = client_for("demo_config").post("/admin/lowcode/fielddef/add/", {
        **FIELD_FORM, "code": "x1", "mandatory_depends_on": "不存在的字段 > 1"})
    assert response.status_code == 200
    assert "表达式中有未知字段：不存在的字段" in response.content.decode()


def test_field_code_clashing_with_a_core_column_is_refused(client_for):
    response = client_for("demo_config").post("/admin/lowcode/fielddef/add/", {**FIELD_FORM, "code": "status"})
    assert "与系统核心字段重名" in response.content.decode()


def test_metadata_change_is_in_history_with_user_and_can_be_rolled_back(amount_field, client_for):
    c = client_for("demo_config")
    form = {**FIELD_FORM, "label": "涉案金额(万元)"}
    assert c.post(f"/admin/lowcode/fielddef/{amount_field.pk}/change/", form).status_code == 302
    history = c.get(f"/admin/lowcode/fielddef/{amount_field.pk}/history/").content.decode()
    assert "涉及金额(万元)" in history and "涉案金额(万元)" in history and "业务配置管理员" in history
    first = amount_field.history.earliest()
    response = c.post(f"/admin/lowcode/fielddef/{amount_field.pk}/history/{first.history_id}/", form | {
        "label": "涉及金额(万元)"})
    assert response.status_code == 302
    amount_field.refresh_from_db()
    assert amount_field.label == "涉及金额(万元)"
    assert "涉及金额(万元)" in client_for("demo_mediator").get("/admin/cases/case/add/?scope=labor").content.decode()


def test_saving_unchanged_metadata_writes_no_history(amount_field):
    before = amount_field.history.count()
    amount_field.save()
    assert amount_field.history.count() == before


def test_metadata_changelog_lists_changes_across_record_kinds(amount_field, client_for):
    c = client_for("demo_config")
    c.post(f"/admin/lowcode/fielddef/{amount_field.pk}/change/", {**FIELD_FORM, "label": "涉案金额(万元)"})
    lv = ListView.objects.get(entity="case", role="")
    lv.page_size = 30
    lv.save()
    html = c.get("/lowcode/changes/").content.decode()
    assert "元数据变更记录" in html
    assert "涉及金额(万元) → 涉案金额(万元)" in html and "业务配置管理员" in html
    assert "20 → 30" in html
    assert client_for("demo_mediator").get("/lowcode/changes/").status_code == 403


def test_list_view_per_role_applies_only_to_that_role(client_for, make_case):
    make_case(title="按角色配置列表", address="湖滨路8号")
    ListView.objects.create(entity="case", role="mediator", columns=["title", "address"],
                            filters=["status"], ordering=["-registered_at"], page_size=10)
    mediator = client_for("demo_mediator").get("/admin/cases/case/").content.decode()
    district = client_for("demo_district").get("/admin/cases/case/").content.decode()
    assert "湖滨路8号" in mediator and "湖滨路8号" not in district


def test_layout_for_a_case_type_also_serves_its_subtypes(client_for):
    FormLayout.objects.create(entity="case", screen="edit", scope_value="labor", sections=[
        {"title": "劳动争议要素", "fields": ["title", "case_type", "employer_name", "description", "region", "party_count"]}])
    c = client_for("demo_mediator")
    assert "劳动争议要素" in c.get("/admin/cases/case/add/?scope=labor_wage").content.decode()
    assert "劳动争议要素" not in c.get("/admin/cases/case/add/?scope=neighbor").content.decode()


def test_changelog_also_lists_warning_rules_cleaning_rules_and_duplicate_settings(client_for):
    from clues.models import CleaningRule
    from lowcode.serialization import load_metadata
    from extensions.dedup.conf import get_settings
    from extensions.escalation.models import WarningRule

    load_metadata(["cleaning_rules"])
    rule = WarningRule.objects.order_by("pk").first()
    rule.message = "规则消息已改"
    rule.save()
    cleaning = CleaningRule.objects.get(source="hotline12345")
    cleaning.time_formats = ["%Y-%m-%d %H:%M"]
    cleaning.save()
    dedup = get_settings()
    dedup.same_threshold = 0.61
    dedup.save()
    html = client_for("demo_config").get("/lowcode/changes/").content.decode()
    for model, obj in ((WarningRule, rule), (CleaningRule, cleaning), (type(dedup), dedup)):
        assert str(model._meta.verbose_name) in html
        assert f"/admin/{model._meta.app_label}/{model._meta.model_name}/{obj.pk}/history/" in html
    assert "→ 规则消息已改" in html and "→ 0.61" in html
