"""Bulk Excel for cases through the admin: metadata-generated templates, imports with a preview
that never half-imports, and exports of exactly what the user may see."""
from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = pytest.mark.backend  # depends on the database backend: import transactions


TEMPLATE_URL = "/admin/cases/case/excel/template/"
IMPORT_URL = "/admin/cases/case/excel/import/"
EXPORT_URL = "/admin/cases/case/excel/export/"
ID_NUMBER = "11010519491231002X"
HEADERS = ["*案件标题", "*案件类型", "*纠纷简要情况", "所属区域", "涉及人数", "*申请人姓名", "申请人证件号码", "申请人电话"]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def xlsx(headers, rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "导入数据"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(title="邻里噪音纠纷", case_type="邻里纠纷", description="楼上楼下噪音扰民", region="湖滨社区",
        party_count=2, name="张三", id_number=ID_NUMBER, phone="13800138000"):
    return [title, case_type, description, region, party_count, name, id_number, phone]


def upload(client, content: bytes, name="案件导入.xlsx"):
    return client.post(IMPORT_URL, {"action": "upload", "file": SimpleUploadedFile(name, content)})


def confirm(client, token, skip=False):
    data = {"action": "confirm", "token": token}
    if skip:
        data["skip_errors"] = "1"
    return client.post(IMPORT_URL, data)


def workbook(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return openpyxl.load_workbook(io.BytesIO(content))


def exported(response) -> list[dict]:
    ws = workbook(response).active
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def cases():
    from cases.models import Case

    return Case.objects.all()


@pytest.fixture
def amount_field(metadata):
    """A business admin adds a required decimal field for 劳动争议 only, at runtime."""
    from lowcode.models import FieldDef

    return FieldDef.objects.create(entity="case", code="amount", label="涉及金额(万元)", fieldtype="decimal",
                                   reqd=True, scope=["labor"], precision=2, min_value=0, idx=240)


# --- template -----------------------------------------------------------------------------
def test_template_has_chinese_headers_required_marks_and_dictionary_dropdowns(client_for):
    response = client_for("demo_mediator").get(TEMPLATE_URL)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    wb = workbook(response)
    assert wb.sheetnames[:2] == ["导入数据", "填写说明"]
    ws = wb["导入数据"]
    headers = [c.value for c in ws[1]]
    assert {"*案件标题", "*案件类型", "*纠纷简要情况", "调解类型", "*申请人姓名", "申请人证件号码"} <= set(headers)
    assert "所属区域" in headers  # the mediator's own community fills it when left empty
    case_type_col = openpyxl.utils.get_column_letter(headers.index("*案件类型") + 1)
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    dv = next(dv for dv in lists if f"{case_type_col}2" in str(dv.sqref))
    assert dv.showErrorMessage
    hidden = wb[dv.formula1.split("!")[0].strip("'")]
    assert hidden.sheet_state == "hidden"
    values = [c.value for c in hidden[dv.formula1.split("!$")[1][0]]][1:]
    assert "邻里纠纷" in values and "欠薪" in values
    help_rows = list(wb["填写说明"].iter_rows(values_only=True))
    assert any(r[0] == "案件类型" and r[1] == "必填" and "邻里纠纷" in (r[3] or "") for r in help_rows)


def test_field_added_at_runtime_appears_in_its_type_template_and_not_a_neighbours(client_for, amount_field):
    c = client_for("demo_mediator")
    labor = [x.value for x in workbook(c.get(TEMPLATE_URL, {"scope": "labor"}))["导入数据"][1]]
    assert "*涉及金额(万元)" in labor and "用人单位" in labor
    wage = [x.value for x in workbook(c.get(TEMPLATE_URL, {"scope": "labor_wage"}))["导入数据"][1]]
    assert "*涉及金额(万元)" in wage and "欠薪月数" in wage  # a child type inherits its parent's fields
    neighbor = [x.value for x in workbook(c.get(TEMPLATE_URL, {"scope": "neighbor"}))["导入数据"][1]]
    assert not any("涉及金额" in h for h in neighbor) and "用人单位" not in neighbor


def test_field_added_at_runtime_is_validated_on_import_with_the_form_message(client_for, amount_field):
    from lowcode import registry
    from lowcode.forms import formfield_for
    from django.core.exceptions import ValidationError

    meta = registry.get_meta("case")
    with pytest.raises(ValidationError) as bad_decimal:
        formfield_for(meta, meta.fields["amount"]).clean("十二万")
    with pytest.raises(ValidationError) as required:
        formfield_for(meta, meta.fields["amount"]).clean("")

    headers = HEADERS + ["涉及金额(万元)", "用人单位"]
    content = xlsx(headers, [
        row(title="欠薪纠纷甲", case_type="欠薪") + ["12.5", ""],       # row 2: fine
        row(title="欠薪纠纷乙", case_type="劳动争议") + ["十二万", ""],  # row 3: not a number
        row(title="欠薪纠纷丙", case_type="劳动争议") + ["", ""],        # row 4: required
        row(title="邻里纠纷丁", case_type="邻里纠纷") + ["3", ""],       # row 5: not a labor case
        row(title="群体欠薪", case_type="欠薪", party_count=30) + ["8", ""],  # row 6: required-if
    ])
    c = client_for("demo_mediator")
    response = upload(c, content)
    assert response.status_code == 200
    preview = response.context["preview"]
    errors = {r.number: r.errors for r in preview.rows}
    assert errors[2] == {}
    assert errors[3] == {"涉及金额(万元)": bad_decimal.value.messages}
    assert errors[4] == {"涉及金额(万元)": required.value.messages}
    assert "不适用于" in errors[5]["涉及金额(万元)"][0]
    assert errors[6] == {"用人单位": ["“用人单位”为必填项（条件：涉及人数 >= 10）"]}
    html = response.content.decode()
    assert bad_decimal.value.messages[0] in html and "cell-error" in html

    done = confirm(c, response.context["token"], skip=True)
    assert done.status_code == 302, done.context.get("error")
    imported = cases().get()
    assert imported.title == "欠薪纠纷甲" and imported.case_type == "labor_wage"
    assert imported.extra["amount"] == 12.5


def test_field_added_at_runtime_is_exported_for_its_type(client_for, make_case, amount_field):
    make_case("湖滨社区", case_type="labor", title="劳动争议案", extra={"amount": 3.5})
    make_case("湖滨社区", case_type="neighbor", title="邻里案")
    c = client_for("demo_mediator")
    labor = exported(c.get(EXPORT_URL, {"case_type": "labor"}))
    assert [r["案件标题"] for r in labor] == ["劳动争议案"]
    assert labor[0]["涉及金额(万元)"] == 3.5
    neighbor = exported(c.get(EXPORT_URL, {"case_type": "neighbor"}))
    assert [r["案件标题"] for r in neighbor] == ["邻里案"] and "涉及金额(万元)" not in neighbor[0]


# --- import: preview, skip, all-or-nothing --------------------------------------------------
def test_file_with_a_bad_row_imports_nothing_unless_bad_rows_are_skipped(client_for):
    content = xlsx(HEADERS, [row(title="第一起"), row(title="第二起", party_count="很多", case_type="不存在的类型"),
                             row(title="第三起", id_number="110105194912310021")])
    c = client_for("demo_mediator")
    response = upload(c, content)
    assert response.status_code == 200
    preview = response.context["preview"]
    assert (preview.total, preview.valid_count, preview.error_count) == (3, 1, 2)
    bad = {r.number: r for r in preview.rows if r.errors}
    assert set(bad) == {3, 4}
    assert set(bad[3].errors) == {"涉及人数", "案件类型"}
    assert bad[4].errors == {"申请人证件号码": ["身份证号码格式或校验位不正确"]}
    assert "跳过错误行" in response.content.decode()
    assert cases().count() == 0  # the preview saves nothing

    refused = confirm(c, response.context["token"])
    assert refused.status_code == 200
    assert "未导入任何数据" in refused.content.decode()
    assert cases().count() == 0

    done = confirm(c, response.context["token"], skip=True)
    assert done.status_code == 302
    assert list(cases().values_list("title", flat=True)) == ["第一起"]
    case = cases().get()
    assert case.region.name == "湖滨社区" and case.registrant.username == "demo_mediator"
    party = case.parties.get()
    assert (party.name, party.id_number, party.phone, party.role) == ("张三", ID_NUMBER, "13800138000", "applicant")
    assert case.history.count() == 1 and party.history.count() == 1
    assert case.history.get().history_user.username == "demo_mediator"
    assert "成功导入 1 条记录，跳过 2 行" in " ".join(str(m) for m in c.get(done.url).context["messages"])


def test_clean_file_is_imported_in_full_on_confirm(client_for):
    content = xlsx(HEADERS, [row(title=f"纠纷{i}", region="339901001001" if i % 2 else "湖滨社区第1网格")
                             for i in range(5)])
    c = client_for("demo_mediator")
    response = upload(c, content)
    assert response.context["preview"].error_count == 0
    assert confirm(c, response.context["token"]).status_code == 302
    assert cases().count() == 5
    # the same file cannot be confirmed twice
    again = confirm(c, response.context["token"])
    assert again.status_code == 200 and "已过期" in again.content.decode()
    assert cases().count() == 5


def test_cells_are_converted_like_the_edit_form(client_for):
    import datetime as dt

    from django.utils import timezone

    headers = HEADERS + ["案件标签", "是否群体性纠纷", "发生时间", "调解类型", "案件来源"]
    content = xlsx(headers, [
        row(title="转换") + ["群体性、重复来访", "是", dt.datetime(2026, 1, 5, 9, 30), "人民调解", None],
        row(title="坏标签", id_number=110105194912310021) + ["群体性、不存在", "也许", "2026-13-45", "", ""],
    ])
    c = client_for("demo_mediator")
    response = upload(c, content)
    bad = response.context["preview"].rows[1].errors
    assert set(bad) == {"案件标签", "是否群体性纠纷", "发生时间", "申请人证件号码"}
    assert "存成了数字" in bad["申请人证件号码"][0]
    assert "不存在" in bad["案件标签"][0] and bad["是否群体性纠纷"] == ["“是否群体性纠纷”请填写“是”或“否”"]
    confirm(c, response.context["token"], skip=True)
    case = cases().get()
    assert case.tags == ["group", "repeat"] and case.extra["group_dispute"] is True
    assert timezone.localtime(case.occurred_at).strftime("%Y-%m-%d %H:%M") == "2026-01-05 09:30"
    assert (case.mediation_type, case.source, case.party_count) == ("people", "local", 2)


def test_confirm_validates_the_stored_file_again(client_for):
    from lowcode.models import DictItem

    c = client_for("demo_mediator")
    response = upload(c, xlsx(HEADERS, [row(title="甲"), row(title="乙", case_type="物业纠纷")]))
    assert response.context["preview"].error_count == 0
    # between preview and confirm a business admin retires 物业纠纷
    item = DictItem.objects.get(dictionary__code="case_type", code="property_mgmt")
    item.is_active = False
    item.save()
    refused = confirm(c, response.context["token"])
    assert refused.status_code == 200
    assert refused.context["preview"].error_count == 1 and "未导入任何数据" in refused.content.decode()
    assert cases().count() == 0


@pytest.mark.parametrize("library_transaction", [True, False], ids=["with", "without-library-transaction"])
def test_failure_while_saving_rolls_back_the_whole_import(client_for, monkeypatch, library_transaction):
    """All or nothing. django-import-export runs its own transaction too; without it (a library
    upgrade, another setting) the import's own transaction.atomic() alone keeps the promise."""
    from cases.excel import CaseExcelHooks
    from cases.models import Party
    from lowcode import excel

    if not library_transaction:
        def run_without(resource, dataset, *, dry_run):
            return resource.import_data(dataset, dry_run=dry_run, use_transactions=dry_run,
                                        raise_errors=not dry_run, rollback_on_validation_errors=True)
        monkeypatch.setattr(excel, "_run", run_without)
    original = CaseExcelHooks.after_save
    calls = []

    def failing(self, obj, row):
        calls.append(row.number)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return original(self, obj, row)

    monkeypatch.setattr(CaseExcelHooks, "after_save", failing)
    c = client_for("demo_mediator")
    response = upload(c, xlsx(HEADERS, [row(title="甲"), row(title="乙"), row(title="丙")]))
    result = confirm(c, response.context["token"])
    assert result.status_code == 200
    assert "第 3 行保存失败" in result.content.decode() and "已全部撤销" in result.content.decode()
    assert cases().count() == 0 and Party.objects.count() == 0
    assert "disk full" not in result.content.decode()


def test_region_outside_the_users_scope_is_rejected(client_for):
    c = client_for("demo_mediator")
    response = upload(c, xlsx(HEADERS, [row(region="溪口社区"), row(region="339901002001")]))
    preview = response.context["preview"]
    assert preview.error_count == 2
    assert all("不是您可登记的区域" in r.errors["所属区域"][0] for r in preview.rows)


def test_confirm_token_belongs_to_the_uploaders_session(client_for):
    response = upload(client_for("demo_mediator"), xlsx(HEADERS, [row()]))
    other = confirm(client_for("demo_street"), response.context["token"])
    assert other.status_code == 200 and "不存在或已过期" in other.content.decode()
    forged = client_for("demo_mediator").post(IMPORT_URL, {"action": "confirm", "token": "../../etc/passwd"})
    assert forged.status_code == 200 and "不存在或已过期" in forged.content.decode()
    assert cases().count() == 0


def test_formula_like_text_is_neutralised_on_export_and_kept_as_text_on_import(client_for, make_case):
    make_case("湖滨社区", title='=HYPERLINK("http://evil.example","点我")', address="@SUM(A1)")
    rows = exported(client_for("demo_mediator").get(EXPORT_URL))
    assert rows[0]["案件标题"] == "'=HYPERLINK(\"http://evil.example\",\"点我\")"
    assert rows[0]["纠纷发生地"] == "'@SUM(A1)"

    c = client_for("demo_mediator")
    response = upload(c, xlsx(HEADERS, [row(title="=1+1", description="-2+3")]))
    assert response.context["preview"].error_count == 0
    confirm(c, response.context["token"])
    case = cases().get(title="=1+1")
    assert case.description == "-2+3"


def test_csv_upload_in_gbk_is_read(client_for):
    text = ",".join(h.strip("*") for h in HEADERS) + "\n" + ",".join(str(v) for v in row(title="CSV导入")) + "\n"
    c = client_for("demo_mediator")
    response = upload(c, text.encode("gb18030"), name="cases.csv")
    assert response.context["preview"].valid_count == 1
    confirm(c, response.context["token"])
    assert cases().get().title == "CSV导入"


def _truncated():
    content = xlsx(HEADERS, [row()])
    return content[: len(content) // 2]


def _zip_without_workbook():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    return buf.getvalue()


@pytest.mark.parametrize("name,content,expected", [
    ("empty.xlsx", b"", "空的"),
    ("truncated.xlsx", None, "不是有效的 Excel"),
    ("notes.xlsx", "这不是表格".encode(), "不是有效的 Excel"),
    ("zip.xlsx", None, "不是有效的 Excel"),
    ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, ".xls"),
    ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "文件格式不支持"),
])
def test_unreadable_uploads_show_a_chinese_message_and_the_form_again(client_for, name, content, expected):
    content = {"truncated.xlsx": _truncated, "zip.xlsx": _zip_without_workbook}.get(name, lambda: content)()
    response = upload(client_for("demo_mediator"), content, name=name)
    assert response.status_code == 200
    html = response.content.decode()
    assert expected in html and 'type="file"' in html
    assert cases().count() == 0


def test_wrong_headers_are_reported_before_any_row(client_for):
    response = upload(client_for("demo_mediator"), xlsx(["名字", "*案件类型", "备注"], [["张三", "邻里纠纷", "x"]]))
    assert response.status_code == 200
    errors = " ".join(response.context["preview"].file_errors)
    assert "无法识别的列：名字、备注" in errors and "缺少必填列：案件标题、纠纷简要情况、申请人姓名" in errors
    assert 'name="token"' not in response.content.decode()


def test_too_many_rows_or_bytes_are_refused(client_for, settings):
    c = client_for("demo_mediator")
    settings.IMPORT_MAX_ROWS = 2
    response = upload(c, xlsx(HEADERS, [row(), row(), row()]))
    assert response.status_code == 200 and "最多 2 行" in response.content.decode()
    settings.IMPORT_MAX_BYTES = 1024
    response = upload(c, xlsx(HEADERS, [row()]))
    assert response.status_code == 200 and "文件太大" in response.content.decode()


# --- export ------------------------------------------------------------------------------
def test_export_contains_only_cases_the_user_may_see_and_respects_the_filters(client_for, make_case):
    make_case("湖滨社区", case_type="neighbor", title="湖滨邻里")
    make_case("湖滨社区第1网格", case_type="labor", title="湖滨劳动")
    make_case("溪口社区", case_type="neighbor", title="溪口邻里")
    c = client_for("demo_mediator")
    assert sorted(r["案件标题"] for r in exported(c.get(EXPORT_URL))) == ["湖滨劳动", "湖滨邻里"]
    assert [r["案件标题"] for r in exported(c.get(EXPORT_URL, {"case_type": "labor"}))] == ["湖滨劳动"]
    assert [r["案件标题"] for r in exported(c.get(EXPORT_URL, {"q": "邻里"}))] == ["湖滨邻里"]
    everyone = exported(client_for("demo_district").get(EXPORT_URL, {"o": "2"}))
    assert {r["案件标题"] for r in everyone} == {"湖滨邻里", "湖滨劳动", "溪口邻里"}
    row = everyone[0]
    assert row["案件编号"].startswith("LOC") and row["案件状态"] == "已登记" and row["所属区域"]


def test_export_masks_identity_without_the_sensitive_permission(client_for, make_case):
    make_case("湖滨社区", parties=[{"name": "王五", "id_number": ID_NUMBER, "phone": "13812345678"}])
    masked = exported(client_for("demo_mediator").get(EXPORT_URL))[0]
    assert (masked["申请人证件号码"], masked["申请人电话"]) == ("1101**********002X", "138****5678")
    full = exported(client_for("demo_district").get(EXPORT_URL))[0]
    assert (full["申请人证件号码"], full["申请人电话"]) == (ID_NUMBER, "13812345678")

    from accounts.models import User

    User.objects.get(username="demo_mediator").user_permissions.add(
        Permission.objects.get(codename="view_sensitive_party"))
    granted = exported(client_for("demo_mediator").get(EXPORT_URL))[0]
    assert granted["申请人证件号码"] == ID_NUMBER


def test_export_over_the_row_limit_is_refused_with_a_message(client_for, make_case, settings):
    settings.EXPORT_MAX_ROWS = 1
    make_case("湖滨社区", title="一")
    make_case("湖滨社区", title="二")
    c = client_for("demo_mediator")
    response = c.get(EXPORT_URL, {"case_type": "neighbor"})
    assert response.status_code == 302 and "case_type=neighbor" in response.url
    assert "超过单次导出上限 1 条" in " ".join(str(m) for m in c.get(response.url).context["messages"])


def test_changelist_shows_the_excel_buttons_by_permission(client_for, world):
    mediator = client_for("demo_mediator").get("/admin/cases/case/", {"case_type": "labor"}).content.decode()
    assert "下载导入模板" in mediator and "导入" in mediator
    assert f"{TEMPLATE_URL}?scope=labor" in mediator and f"{EXPORT_URL}?case_type=labor" in mediator
    dept = client_for("demo_dept").get("/admin/cases/case/").content.decode()
    assert "导出Excel" in dept and "下载导入模板" not in dept


def test_users_without_add_permission_cannot_download_templates_or_import(client_for, world):
    c = client_for("demo_dept")
    assert c.get(TEMPLATE_URL).status_code == 403
    assert c.get(IMPORT_URL).status_code == 403
    assert upload(c, xlsx(HEADERS, [row()])).status_code == 403
    assert c.get(EXPORT_URL).status_code == 200
