"""A field a business admin marks 敏感（加密+脱敏） is SM4-encrypted at rest in the entity's JSON
column, masked on every screen for users without the "view sensitive" right, found by its exact
value, and converted when the flag is switched (issue 20; lowcode.sensitive)."""
from __future__ import annotations

import base64
import io
import json
from unittest import mock

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import override_settings

from tests.sm4_reference import sm4_encrypt_block, sm4_gcm_decrypt

pytestmark = pytest.mark.backend  # depends on the database backend: JSON storage of encrypted values

ACCOUNT = "6222021234567890123"
MASKED = "***"  # secure.masking's fallback for a kind without its own rule (text)
FIELD_FORM = {
    "entity": "case", "code": "bank_account", "label": "银行账号", "fieldtype": "data",
    "dictionary": "", "idx": 310, "mandatory_depends_on": "", "depends_on": "", "min_value": "",
    "max_value": "", "max_length": "", "precision": "", "pattern": "", "pattern_message": "",
    "default": "", "description": "", "query_mode": "single", "sensitive": "on", "search_index": "on",
    "in_list_view": "on", "in_import": "on",
}

# known answer of the storage path: GB/T 32907's example key, a fixed nonce
KAT_SM4_KEY = "0123456789abcdeffedcba9876543210"
KAT_INDEX_KEY = "a5" * 32
KAT_NONCE = bytes.fromhex("000102030405060708090a0b")
KAT_TOKEN = "sm4gcm1:AAECAwQFBgcICQoLdxcqo4OBmy5Ws7ee7WtebLjIG55i4AsGUIg7KV8qrRBPTy5Qwg=="
KAT_INDEX = "0cd019024389fa3bce720b1375402491643fe877ba1374da4e7e6803ec56ae57"


def case_form(region_id, **overrides):
    data = {
        "title": "工资代发纠纷", "case_type": "neighbor", "mediation_type": "people", "source": "local",
        "description": "工资打错账户", "occurred_at": "", "address": "湖滨路1号",
        "region": region_id, "party_count": "1", "group_dispute": "",
        "parties-TOTAL_FORMS": "1", "parties-INITIAL_FORMS": "0", "parties-MIN_NUM_FORMS": "1",
        "parties-MAX_NUM_FORMS": "1000", "parties-0-role": "applicant",
        "parties-0-party_kind": "person", "parties-0-name": "陈伟",
        "parties-0-id_number": "11010519491231002X", "parties-0-phone": "13800138000",
        "parties-0-address": "", "bank_account": ACCOUNT,
    }
    data.update(overrides)
    return data


def h5_case_form(region_id, **overrides):
    data = {
        "case_type": "neighbor", "title": "邻里借款纠纷", "description": "借款未还", "mediation_type": "",
        "source": "local", "occurred_at": "2026-01-05T09:30", "address": "湖滨路 8 号",
        "region": region_id, "party_count": "2", "bank_account": ACCOUNT,
        "parties-TOTAL_FORMS": "1", "parties-INITIAL_FORMS": "0", "parties-MIN_NUM_FORMS": "1",
        "parties-MAX_NUM_FORMS": "1000", "parties-0-role": "applicant", "parties-0-party_kind": "person",
        "parties-0-name": "孙八", "parties-0-id_number": "11010519491231002X",
        "parties-0-phone": "13812345678", "parties-0-address": "",
    }
    data.update(overrides)
    return data


def stored_extra(case_pk) -> dict:
    """cases_case.extra as the database holds it (raw SQL, not the ORM)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT extra FROM cases_case WHERE id = %s", [case_pk])
        value = cursor.fetchone()[0]
    return json.loads(value) if isinstance(value, str) else value


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def region(world):
    from orgs.models import Region

    return Region.objects.get(name="湖滨社区")


@pytest.fixture
def bank_field(client_for):
    """Added in the admin by the business configuration admin, as a user would."""
    from lowcode.models import FieldDef

    response = client_for("demo_config").post("/admin/lowcode/fielddef/add/", FIELD_FORM)
    assert response.status_code == 302, html(response)[:3000]
    return FieldDef.objects.get(entity="case", code="bank_account")


@pytest.fixture
def pc_case(bank_field, client_for, region):
    from cases.models import Case

    response = client_for("demo_mediator").post("/admin/cases/case/add/", case_form(region.pk))
    assert response.status_code == 302, html(response)[:3000]
    return Case.objects.get(title="工资代发纠纷")


def test_storage_path_known_answer_decrypted_by_an_independent_sm4(client_for, region):
    """Fixed key and nonce: the PC form's save leaves exactly the precomputed SM4-GCM token and
    HMAC-SM3 index; the column, read by SQL, decrypts with a pure-Python SM4 written from the
    standard (so AES-GCM, or any other cipher, in secure.crypto fails here)."""
    from cases.models import Case

    key = bytes.fromhex(KAT_SM4_KEY)
    assert sm4_encrypt_block(key, key).hex() == "681edf34d206965e86b3e94f536e4246"  # GB/T 32907 A.1
    with override_settings(SM4_KEY=KAT_SM4_KEY, BLIND_INDEX_KEY=KAT_INDEX_KEY):
        added = client_for("demo_config").post("/admin/lowcode/fielddef/add/", FIELD_FORM)
        assert added.status_code == 302, (added.status_code, html(added)[:3000])
        with mock.patch("secure.crypto.new_nonce", return_value=KAT_NONCE):
            response = client_for("demo_mediator").post("/admin/cases/case/add/", case_form(region.pk))
        assert response.status_code == 302, html(response)[:3000]
        case = Case.objects.get(title="工资代发纠纷")
        stored = stored_extra(case.pk)["bank_account"]
        assert stored == {"c": KAT_TOKEN, "b": KAT_INDEX}
        assert case.extra["bank_account"] == stored  # the model keeps the stored shape too

    blob = base64.b64decode(stored["c"][len("sm4gcm1:"):])
    nonce, ciphertext, tag = blob[:12], blob[12:-16], blob[-16:]
    assert nonce == KAT_NONCE
    assert json.loads(sm4_gcm_decrypt(key, nonce, ciphertext, tag)) == ACCOUNT


def test_pc_form_and_h5_leave_only_ciphertext_in_the_database(pc_case, client_for, region):
    from cases.models import Case

    pc = stored_extra(pc_case.pk)
    assert set(pc["bank_account"]) == {"c", "b"} and ACCOUNT not in json.dumps(pc)

    response = client_for("demo_mediator").post("/h5/cases/new/", h5_case_form(region.pk))
    assert response.status_code == 302, html(response)[:3000]
    h5 = stored_extra(Case.objects.get(title="邻里借款纠纷").pk)
    assert set(h5["bank_account"]) == {"c", "b"} and ACCOUNT not in json.dumps(h5)
    assert h5["bank_account"]["b"] == pc["bank_account"]["b"]  # same value, same blind index
    assert h5["bank_account"]["c"] != pc["bank_account"]["c"]  # fresh nonce per value


def test_screens_mask_the_value_without_the_right(pc_case, client_for):
    c = client_for("demo_mediator")
    pages = {
        "list": html(c.get("/admin/cases/case/")),
        "detail": html(c.get(f"/admin/cases/case/{pc_case.pk}/detail/")),
        "review": html(c.get(f"/admin/cases/case/{pc_case.pk}/detail/?screen=review")),
        "change": html(c.get(f"/admin/cases/case/{pc_case.pk}/change/")),
        "h5": html(c.get(f"/h5/cases/{pc_case.pk}/")),
    }
    for name, page in pages.items():
        assert ACCOUNT not in page, name
        assert "银行账号" in page, name
    assert f'value="{MASKED}"' in pages["change"]
    assert f"<td class=\"field-x__bank_account\">{MASKED}</td>" in pages["list"]
    rows = exported(c.get("/admin/cases/case/excel/export/"))
    assert [r["银行账号"] for r in rows if r["案件标题"] == "工资代发纠纷"] == [MASKED]


def test_third_party_pages_of_an_awarded_case_mask_the_value(pc_case, client_for):
    from tests.dispatch_helpers import awarded_order_rows, tp_org, user

    order, _, _ = awarded_order_rows(pc_case, tp_org(), user("demo_tp_mediator"))
    for username, url in (("demo_tp_admin", f"/admin/cases/case/{pc_case.pk}/detail/"),  # 完整案件详情
                          ("demo_tp_admin", f"/tp/orders/{order.pk}/case/"),
                          ("demo_tp_mediator", f"/tp/m/orders/{order.pk}/case/")):
        response = client_for(username).get(url)
        assert response.status_code == 200, (username, url)
        assert ACCOUNT not in html(response), url
    detail = html(client_for("demo_tp_admin").get(f"/admin/cases/case/{pc_case.pk}/detail/"))
    assert "银行账号" in detail and MASKED in detail


def test_screens_show_the_value_with_the_right(pc_case, client_for):
    from secure.models import SecurityEvent

    c = client_for("demo_district")  # 区级管理员: cases.view_sensitive_party
    for url in ("/admin/cases/case/", f"/admin/cases/case/{pc_case.pk}/detail/",
                f"/admin/cases/case/{pc_case.pk}/change/"):
        assert ACCOUNT in html(c.get(url)), url
    seen = {e.detail["path"].rsplit("/", 2)[-2]: e.detail["fields"]
            for e in SecurityEvent.objects.filter(event="view_unmasked", username="demo_district")}
    assert "银行账号" in seen["detail"] and "银行账号" in seen["change"]  # full values audited, by label
    rows = exported(c.get("/admin/cases/case/excel/export/"))
    assert [r["银行账号"] for r in rows if r["案件标题"] == "工资代发纠纷"] == [ACCOUNT]
    export = SecurityEvent.objects.filter(event="export").order_by("seq").last()
    assert "银行账号" in export.detail["unmasked"]

    from accounts.models import User

    User.objects.get(username="demo_mediator").user_permissions.add(
        Permission.objects.get(codename="view_sensitive_party"))
    assert ACCOUNT in html(client_for("demo_mediator").get(f"/h5/cases/{pc_case.pk}/"))


def test_masked_value_posted_back_keeps_the_stored_value(pc_case, client_for, region):
    c = client_for("demo_mediator")
    party = pc_case.parties.get()
    form = case_form(region.pk, bank_account=MASKED, **{
        "parties-INITIAL_FORMS": "1", "parties-0-id": party.pk, "parties-0-case": pc_case.pk,
        "parties-0-id_number": "1101**********002X", "parties-0-phone": "138****8000",
        "description": "工资打错账户（已核实）"})
    response = c.post(f"/admin/cases/case/{pc_case.pk}/change/", form)
    assert response.status_code == 302, html(response)[:3000]
    pc_case.refresh_from_db()
    assert pc_case.description.endswith("（已核实）")
    assert json.loads(_decrypt(stored_extra(pc_case.pk)["bank_account"])) == ACCOUNT

    response = c.post(f"/admin/cases/case/{pc_case.pk}/change/", {**form, "bank_account": "6222000011112222"})
    assert response.status_code == 302
    assert json.loads(_decrypt(stored_extra(pc_case.pk)["bank_account"])) == "6222000011112222"


def test_excel_import_stores_ciphertext_and_the_import_preview_masks_it(bank_field, client_for, tmp_path,
                                                                        settings):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from cases.models import Case

    settings.MEDIA_ROOT = tmp_path / "media"
    wb = openpyxl.Workbook()
    wb.active.append(["*案件标题", "*案件类型", "*纠纷简要情况", "所属区域", "涉及人数", "*申请人姓名", "银行账号"])
    wb.active.append(["导入的纠纷", "邻里纠纷", "借款未还", "湖滨社区", 1, "张三", ACCOUNT])
    buf = io.BytesIO()
    wb.save(buf)
    c = client_for("demo_mediator")
    url = "/admin/cases/case/excel/import/"
    response = c.post(url, {"action": "upload", "file": SimpleUploadedFile("导入.xlsx", buf.getvalue())})
    assert response.context["preview"].error_count == 0, html(response)[:3000]
    assert ACCOUNT not in html(response)  # the preview of a user without the right
    assert c.post(url, {"action": "confirm", "token": response.context["token"]}).status_code == 302
    stored = stored_extra(Case.objects.get(title="导入的纠纷").pk)["bank_account"]
    assert set(stored) == {"c", "b"} and json.loads(_decrypt(stored)) == ACCOUNT


def test_exact_value_finds_the_case_and_a_part_does_not(pc_case, make_case, client_for):
    make_case(title="另一个案件")
    c = client_for("demo_mediator")
    c.get("/admin/cases/case/")  # no "added" message left over
    found = html(c.get("/admin/cases/case/", {"q": ACCOUNT}))
    assert "工资代发纠纷" in found and "另一个案件" not in found
    from secure.models import SecurityEvent

    searched = SecurityEvent.objects.filter(event="search_sensitive").order_by("seq").last()
    assert searched.detail["fields"] == ["银行账号"] and ACCOUNT not in json.dumps(searched.detail)
    assert "工资代发纠纷" not in html(c.get("/admin/cases/case/", {"q": ACCOUNT[:10]}))
    assert "工资代发纠纷" in html(c.get("/admin/cases/case/", {"q": "工资代发"}))  # other fields still
    assert "银行账号（加密字段，须输入完整值）" in html(c.get("/admin/cases/case/"))


def test_exact_value_filter_of_a_sensitive_choice(bank_field, client_for, region, world):
    """A sensitive dictionary field filtered in the list: matched through the blind index."""
    from cases.models import Case
    from lowcode.models import Dictionary, FieldDef

    FieldDef.objects.create(entity="case", code="mediation_kind", label="调解方式", fieldtype="select",
                            dictionary=Dictionary.objects.get(code="mediation_type"), sensitive=True,
                            in_standard_filter=True, idx=320)
    c = client_for("demo_mediator")
    for title, kind in (("甲案件", "people"), ("乙案件", "lawyer")):
        assert c.post("/admin/cases/case/add/", case_form(region.pk, title=title, mediation_kind=kind)).status_code == 302
    assert "people" not in json.dumps(stored_extra(Case.objects.get(title="甲案件").pk)["mediation_kind"])
    c.get("/admin/cases/case/")  # shows (and clears) the "added" messages naming both cases
    listing = html(c.get("/admin/cases/case/", {"mediation_kind": "people"}))
    assert "甲案件" in listing and "乙案件" not in listing


def test_switching_sensitive_off_previews_then_decrypts_and_on_encrypts(pc_case, make_case, client_for):
    other = make_case(title="第二个案件")
    other.extra = {"bank_account": _protect("6222999988887777")}
    other.save(update_fields=["extra"])
    make_case(title="没有账号的案件")
    c = client_for("demo_config")
    url = f"/admin/lowcode/fielddef/{pc_case_field_pk()}/change/"
    plain = {k: v for k, v in FIELD_FORM.items() if k != "sensitive"}

    preview = c.post(url, {**plain, "_preview": "1"})
    assert preview.status_code == 200
    assert 'id="preview-count">2</b>' in html(preview) and "解密" in html(preview)
    assert set(stored_extra(pc_case.pk)["bank_account"]) == {"c", "b"}  # nothing saved by a preview

    assert c.post(url, plain).status_code == 302
    assert stored_extra(pc_case.pk)["bank_account"] == ACCOUNT
    assert stored_extra(other.pk)["bank_account"] == "6222999988887777"

    preview = c.post(url, {**FIELD_FORM, "_preview": "1"})
    assert 'id="preview-count">2</b>' in html(preview) and "加密" in html(preview)
    assert c.post(url, FIELD_FORM).status_code == 302
    assert set(stored_extra(pc_case.pk)["bank_account"]) == {"c", "b"}
    assert json.loads(_decrypt(stored_extra(other.pk)["bank_account"])) == "6222999988887777"


def test_a_large_switch_is_queued_and_its_progress_shown(pc_case, make_case, client_for,
                                                         django_capture_on_commit_callbacks):
    from lowcode import sensitive

    for i in range(2):
        case = make_case(title=f"批量案件{i}")
        case.extra = {"bank_account": _protect(f"62220000{i}")}
        case.save(update_fields=["extra"])
    c = client_for("demo_config")
    url = f"/admin/lowcode/fielddef/{pc_case_field_pk()}/change/"
    plain = {k: v for k, v in FIELD_FORM.items() if k != "sensitive"}
    with override_settings(SENSITIVE_SYNC_LIMIT=2), \
            mock.patch("django_q.tasks.async_task") as queued, \
            django_capture_on_commit_callbacks(execute=True):
        assert "后台分批执行" in html(c.post(url, {**plain, "_preview": "1"}))
        assert c.post(url, plain).status_code == 302
    queued.assert_called_once()
    assert queued.call_args.args == (sensitive.CONVERT_TASK, "case", "bank_account")
    assert set(stored_extra(pc_case.pk)["bank_account"]) == {"c", "b"}  # not done in the request
    page = html(c.get(url))
    assert 'id="sensitive-pending"' in page and "<b>3</b>" in page
    # the screens read both shapes meanwhile
    assert ACCOUNT in html(client_for("demo_district").get(f"/admin/cases/case/{pc_case.pk}/detail/"))

    assert sensitive.convert_task("case", "bank_account") == 3  # what the worker runs
    assert stored_extra(pc_case.pk)["bank_account"] == ACCOUNT
    assert 'id="sensitive-pending"' not in html(c.get(url))


def test_existing_plaintext_is_encrypted_by_the_data_migration(bank_field, make_case):
    import importlib

    from django.apps import apps

    from cases.models import Case

    migration = importlib.import_module("lowcode.migrations.0004_sensitive_runtime_values_encrypted")
    cases = [make_case(title=f"旧案件{i}") for i in range(5)]
    # as the old code wrote them: plaintext in the JSON column (no model save path involved)
    for i, case in enumerate(cases):
        Case.objects.filter(pk=case.pk).update(extra={"bank_account": f"62220000000{i}", "other": i})
    Case.objects.filter(pk=cases[0].pk).update(extra={"other": 0})  # no value: left alone

    from lowcode import sensitive

    with mock.patch.object(sensitive, "CHUNK", 2):
        migration.encrypt(apps, None)
    for i, case in enumerate(cases[1:], start=1):
        stored = stored_extra(case.pk)
        assert set(stored["bank_account"]) == {"c", "b"} and stored["other"] == i
        assert json.loads(_decrypt(stored["bank_account"])) == f"62220000000{i}"
    assert stored_extra(cases[0].pk) == {"other": 0}
    before = {c.pk: stored_extra(c.pk) for c in cases}
    assert sensitive.encrypt_existing() == 0  # idempotent: nothing left to do
    assert before == {c.pk: stored_extra(c.pk) for c in cases}

    migration.decrypt(apps, None)  # the reverse migration
    assert stored_extra(cases[1].pk)["bank_account"] == "622200000001"


def test_switching_on_encrypts_the_history_rows_too(make_case, client_for):
    """Past versions (simple-history) hold the value as well: a field made sensitive later leaves
    no plaintext there either, and switching it off again gives the history back in clear."""
    from django.db import connection

    def history_extras(pk) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT extra FROM cases_historicalcase WHERE id = %s", [pk])
            return " ".join(str(row[0]) for row in cursor.fetchall())

    c = client_for("demo_config")
    plain = {k: v for k, v in FIELD_FORM.items() if k != "sensitive"}
    assert c.post("/admin/lowcode/fielddef/add/", plain).status_code == 302
    case = make_case(title="有历史的案件")
    case.extra = {"bank_account": ACCOUNT}
    case.save()
    assert ACCOUNT in history_extras(case.pk)

    url = f"/admin/lowcode/fielddef/{pc_case_field_pk()}/change/"
    assert c.post(url, FIELD_FORM).status_code == 302
    assert ACCOUNT not in history_extras(case.pk)
    assert c.post(url, plain).status_code == 302
    assert ACCOUNT in history_extras(case.pk)


# --- helpers ----------------------------------------------------------------------------------
def pc_case_field_pk() -> int:
    from lowcode.models import FieldDef

    return FieldDef.objects.get(entity="case", code="bank_account").pk


def _protect(value):
    from lowcode import sensitive

    return sensitive.protect("data", value)


def _decrypt(stored) -> str:
    from secure import crypto

    return crypto.decrypt(stored["c"])


def exported(response) -> list[dict]:
    content = b"".join(response.streaming_content) if response.streaming else response.content
    ws = openpyxl.load_workbook(io.BytesIO(content)).active
    rows = list(ws.iter_rows(values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_a_sensitive_phone_field_is_found_however_the_number_is_written(bank_field, client_for, region):
    """The blind index of a phone (an ID number) is normalised like the core columns' — a property of
    the field type (FieldType.index_kind) — so +86 and dashes find the stored number."""
    phone = {**FIELD_FORM, "code": "contact_phone", "label": "联系电话", "fieldtype": "phone", "idx": 330}
    assert client_for("demo_config").post("/admin/lowcode/fielddef/add/", phone).status_code == 302
    c = client_for("demo_mediator")
    assert c.post("/admin/cases/case/add/", case_form(region.pk, contact_phone="13912345678")).status_code == 302
    c.get("/admin/cases/case/")  # shows (and clears) the "added" message naming the case
    for typed in ("13912345678", "+86-139-1234-5678", "008613912345678"):
        assert "工资代发纠纷" in html(c.get("/admin/cases/case/", {"q": typed})), typed
    assert "工资代发纠纷" not in html(c.get("/admin/cases/case/", {"q": "13912345679"}))


def test_a_write_that_skips_the_forms_is_encrypted_too(bank_field, region):
    """Seeding, scripts and a shell save the model directly: the plaintext must still not reach
    the column (and a value the forms already protected is not encrypted twice)."""
    from accounts.models import User
    from cases.models import Case

    case = Case(title="脚本登记", case_type="labor_wage", region=region,
                registrant=User.objects.get(username="demo_mediator"), extra={"bank_account": ACCOUNT})
    case.save()
    stored = stored_extra(case.pk)["bank_account"]
    assert ACCOUNT not in json.dumps(stored)
    assert set(stored) == {"c", "b"}
    case.title = "脚本登记（改）"
    case.save()
    assert stored_extra(case.pk)["bank_account"] == stored  # protected once, not again
    assert Case.objects.get(pk=case.pk).extra["bank_account"] == stored
