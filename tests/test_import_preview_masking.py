"""The Excel import preview shows the parties' ID numbers and phones like every other screen: masked
for an uploader without the right to see sensitive values, in full for one with it — on good rows
and on rows with errors alike (secure.masking; lowcode.excel.preview_import)."""
from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

IMPORT_URL = "/admin/cases/case/excel/import/"
HEADERS = ["*案件标题", "*案件类型", "*纠纷简要情况", "所属区域", "涉及人数", "*申请人姓名", "申请人证件号码",
           "申请人电话", "被申请人姓名", "被申请人电话"]
ID_NUMBER, PHONE, RESPONDENT_PHONE = "11010519491231002X", "13800138000", "13912345678"
MASKED = ("1101**********002X", "138****8000", "139****5678")


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(client):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "导入数据"
    ws.append(HEADERS)
    ws.append(["邻里噪音纠纷", "邻里纠纷", "楼上噪音", "湖滨社区", 2, "张三", ID_NUMBER, PHONE, "李四", RESPONDENT_PHONE])
    # a bad row: its cells are shown beside the reasons, masked the same way
    ws.append(["", "邻里纠纷", "楼上噪音", "湖滨社区", 2, "王五", ID_NUMBER, PHONE, "赵六", RESPONDENT_PHONE])
    buf = io.BytesIO()
    wb.save(buf)
    response = client.post(IMPORT_URL, {"action": "upload", "file": SimpleUploadedFile("导入.xlsx", buf.getvalue())})
    assert response.status_code == 200
    preview = response.context["preview"]
    assert not preview.file_errors and preview.error_count == 1 and preview.valid_count == 1
    return response.content.decode()


def test_preview_masks_party_ids_and_phones_for_an_uploader_without_the_right(client_for):
    page = upload(client_for("demo_mediator"))
    for full in (ID_NUMBER, PHONE, RESPONDENT_PHONE):
        assert full not in page
    for masked in MASKED:
        assert page.count(masked) == 2  # the good row and the bad row


def test_preview_shows_them_in_full_to_an_uploader_with_the_right(client_for):
    from accounts.models import User

    assert User.objects.get(username="demo_district").has_perm("cases.view_sensitive_party")
    page = upload(client_for("demo_district"))
    for full in (ID_NUMBER, PHONE, RESPONDENT_PHONE):
        assert page.count(full) == 2
    for masked in MASKED:
        assert masked not in page
