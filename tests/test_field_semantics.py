"""A field's meaning is decided in one place (issue 12): a field type is one registry entry that
the form, the list filter and the Excel template and import all follow, and required-if / shown-if
are decided by the compiled FieldSpec for the form, the Excel import and the live form-rules
endpoint alike."""
from __future__ import annotations

import io
from decimal import Decimal, InvalidOperation

import openpyxl
import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.test_business_admin_reconfigures import case_form

ADD_URL = "/admin/cases/case/add/"
LIST_URL = "/admin/cases/case/"
RULES_URL = "/lowcode/form-rules/case/"
TEMPLATE_URL = "/admin/cases/case/excel/template/"
IMPORT_URL = "/admin/cases/case/excel/import/"
BASE_HEADERS = ["*案件标题", "*案件类型", "*纠纷简要情况", "所属区域", "涉及人数", "*申请人姓名", "申请人证件号码",
                "申请人电话"]


@pytest.fixture
def community(world):
    from orgs.models import Region

    return Region.objects.get(name="湖滨社区")


def xlsx(headers, rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "导入数据"
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def base_row(title: str, case_type: str = "劳动争议", party_count: int = 2) -> list:
    return [title, case_type, "工资拖欠", "湖滨社区", party_count, "张三", "11010519491231002X", "13800138000"]


def preview_errors(client, headers, rows) -> dict[int, dict[str, list[str]]]:
    response = client.post(IMPORT_URL, {"action": "upload", "file": SimpleUploadedFile("导入.xlsx", xlsx(headers, rows))})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert not preview.file_errors, preview.file_errors
    return {r.number: r.errors for r in preview.rows}


def workbook(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return openpyxl.load_workbook(io.BytesIO(content))


# --- a new field type is one registry entry --------------------------------------------------
def _percent_cell(value, text, spec):
    """"12.5%" as typed, or 0.125 from a cell Excel formats as a percentage."""
    if isinstance(value, float) and not text.endswith("%") and abs(value) <= 1:
        return str(Decimal(str(value)) * 100)
    return text.strip().rstrip("%％").strip()


def _percent_from_json(v):
    try:
        return None if v in (None, "") else Decimal(str(v))
    except InvalidOperation:
        return None


@pytest.fixture
def percent_type(monkeypatch):
    """百分比: registered in ONE entry, here, in the test — nothing else is told about it."""
    from lowcode import fieldtypes

    def percent_field(**kw):
        kw.setdefault("decimal_places", 2)
        return fieldtypes.apply_bounds(forms.DecimalField(max_digits=5, **kw))

    entry = fieldtypes.FieldType(
        "percent", "百分比", percent_field,
        to_json=lambda v: None if v in (None, "") else float(v), from_json=_percent_from_json,
        filter_kind="range", numeric=True, bounds="number", parse_filter=fieldtypes.parse_filter_number,
        filter_input="number", display=lambda v: f"{float(v):g}%", excel_note=lambda spec, labels: "百分数，如 12.5%",
        parse_cell=_percent_cell, format_cell=lambda v: float(v) / 100)
    monkeypatch.setitem(fieldtypes.REGISTRY, "percent", entry)
    return entry


@pytest.fixture
def settled_share(metadata, percent_type):
    from lowcode.models import FieldDef

    return FieldDef.objects.create(entity="case", code="settled_share", label="已履行比例", fieldtype="percent",
                                   min_value=0, max_value=100, in_standard_filter=True, in_list_view=True,
                                   query_mode="range", idx=400)


def test_a_field_type_added_in_one_entry_works_on_the_form(settled_share, client_for, community):
    from cases.models import Case

    c = client_for("demo_mediator")
    html = c.get(ADD_URL + "?scope=neighbor").content.decode()
    assert "已履行比例" in html and 'name="settled_share"' in html
    refused = c.post(ADD_URL, case_form(community.pk, case_type="neighbor", settled_share="120"))
    assert refused.status_code == 200 and "settled_share" in refused.context["adminform"].form.errors
    assert c.post(ADD_URL, case_form(community.pk, case_type="neighbor", settled_share="62.5")).status_code == 302
    assert Case.objects.get().extra["settled_share"] == 62.5


def test_a_field_type_added_in_one_entry_filters_the_list(settled_share, client_for, community):
    from cases.models import Case

    c = client_for("demo_mediator")
    for title, share in (("履行一半", "50"), ("全部履行", "100")):
        assert c.post(ADD_URL, case_form(community.pk, case_type="neighbor", title=title,
                                         settled_share=share)).status_code == 302
    assert Case.objects.count() == 2
    response = c.get(LIST_URL, {"settled_share__gte": "80"})
    cl = response.context["cl"]
    assert any(getattr(f, "code", "") == "settled_share" and f.input_type == "number" for f in cl.filter_specs)
    assert [o.title for o in cl.result_list] == ["全部履行"]
    from django.urls import reverse

    detail = c.get(reverse("admin:cases_case_detail", args=[cl.result_list[0].pk])).context["sections"]
    assert ("已履行比例", "100%") in [row for _, rows in detail for row in rows]  # as the type displays it


def test_a_field_type_added_in_one_entry_is_in_the_excel_template_and_import(settled_share, client_for):
    from cases.models import Case

    c = client_for("demo_mediator")
    wb = workbook(c.get(TEMPLATE_URL))
    assert "已履行比例" in [x.value for x in wb["导入数据"][1]]
    help_rows = {r[0]: r for r in wb["填写说明"].iter_rows(values_only=True) if r and r[0]}
    assert help_rows["已履行比例"][2] == "百分比" and "百分数，如 12.5%" in help_rows["已履行比例"][3]

    headers = BASE_HEADERS + ["已履行比例"]
    rows = [base_row("甲", "邻里纠纷") + ["12.5%"], base_row("乙", "邻里纠纷") + [0.4],
            base_row("丙", "邻里纠纷") + ["很多"]]
    errors = preview_errors(c, headers, rows)
    assert errors[2] == {} and errors[3] == {}
    assert list(errors[4]) == ["已履行比例"]  # the form field's own message
    response = c.post(IMPORT_URL, {"action": "upload", "file": SimpleUploadedFile("导入.xlsx", xlsx(headers, rows[:2]))})
    token = response.context["token"]
    assert c.post(IMPORT_URL, {"action": "confirm", "token": token}).status_code in (200, 302)
    assert sorted(Case.objects.values_list("extra__settled_share", flat=True)) == [12.5, 40.0]
    ws = workbook(c.get("/admin/cases/case/excel/export/")).active
    rows = list(ws.iter_rows(values_only=True))
    column = rows[0].index("已履行比例")
    assert sorted(r[column] for r in rows[1:]) == [0.125, 0.4]  # cells as the type writes them (a fraction)


# --- required-if / shown-if: one decision, three consumers ----------------------------------
# employer_name (劳动争议 only) is shipped with mandatory_depends_on "涉及人数 >= 10"; the test adds
# group_leader, required but shown only when 涉及人数 >= 10.
CASES = [
    # 涉及人数, 用人单位, 牵头人 → group_leader shown?, fields required for these values
    (2, "", "", False, set()),
    (15, "", "", True, {"employer_name", "group_leader"}),
    (15, "某建筑公司", "老王", True, {"employer_name", "group_leader"}),
    (2, "", "老王", False, set()),
    (10, "某建筑公司", "", True, {"employer_name", "group_leader"}),
]


@pytest.fixture
def group_leader(metadata):
    from lowcode.models import FieldDef

    return FieldDef.objects.create(entity="case", code="group_leader", label="牵头人", fieldtype="data",
                                   reqd=True, depends_on="涉及人数 >= 10", scope=["labor"], idx=410)


def _empty_required(required: set[str], employer: str, leader: str) -> set[str]:
    return {c for c, v in (("employer_name", employer), ("group_leader", leader)) if c in required and not v}


@pytest.mark.parametrize("party_count, employer, leader, shown, required", CASES)
def test_required_if_is_decided_once_for_form_import_and_live_rules(
        group_leader, client_for, community, party_count, employer, leader, shown, required):
    from cases.models import Case
    from lowcode import registry

    meta = registry.get_meta("case")
    values = meta.expression_values({"party_count": party_count, "case_type": "labor"})
    # the spec decides …
    assert meta.fields["group_leader"].visible_when(values) is shown
    assert {c for c in ("employer_name", "group_leader") if meta.fields[c].required_when(values)} == required
    missing = _empty_required(required, employer, leader)
    c = client_for("demo_mediator")

    # … the form follows it
    response = c.post(ADD_URL, case_form(community.pk, party_count=str(party_count), employer_name=employer,
                                         group_leader=leader))
    if missing:
        assert response.status_code == 200
        assert set(response.context["adminform"].form.errors) == missing
    else:
        assert response.status_code == 302
        extra = Case.objects.get().extra
        assert ("group_leader" in extra) is (shown and bool(leader))  # a hidden field keeps nothing

    # … the Excel import follows it
    errors = preview_errors(c, BASE_HEADERS + ["用人单位", "牵头人"],
                            [base_row("讨薪", party_count=party_count) + [employer, leader]])[2]
    labels = {"employer_name": "用人单位", "group_leader": "牵头人"}
    assert set(errors) == {labels[code] for code in missing}
    for code in missing:
        assert errors[labels[code]] == [meta.fields[code].missing_message()]

    # … and so does the live endpoint the form asks while values are typed
    rules = c.post(RULES_URL, {"party_count": str(party_count), "case_type": "labor", "employer_name": employer,
                               "group_leader": leader}).json()
    assert ("group_leader" in rules["hidden"]) is not shown
    assert set(rules["required"]) & {"employer_name", "group_leader"} == required


def test_the_live_endpoint_reads_values_as_the_form_fields_do(group_leader, client_for):
    """A half-typed number is no number (None), not an error; a number typed with spaces is."""
    c = client_for("demo_mediator")
    assert "group_leader" in c.post(RULES_URL, {"party_count": "1x"}).json()["hidden"]
    assert "group_leader" not in c.post(RULES_URL, {"party_count": " 12 "}).json()["hidden"]


def test_read_only_and_hidden_fields_are_not_imported_and_bounds_come_from_the_spec(metadata):
    from lowcode import excel, registry
    from lowcode.forms import formfield_for
    from lowcode.models import FieldDef

    FieldDef.objects.create(entity="case", code="note_ro", label="只读备注", fieldtype="data", read_only=True, idx=420)
    FieldDef.objects.create(entity="case", code="months", label="月数", fieldtype="int", min_value=1,
                            max_value=12, idx=421)
    registry.clear_cache()
    meta = registry.get_meta("case")
    assert not meta.fields["note_ro"].importable and not excel.importable(meta.fields["note_ro"])
    field = formfield_for(meta, meta.fields["months"])
    assert field.clean("12") == 12
    with pytest.raises(ValidationError):
        field.clean("13")
