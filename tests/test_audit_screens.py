"""Finding 4 as the assessor reported it, and the auditor's screens (审计管理员).

- Logins, failures, rights changes, exports (filter and row count) and views of unmasked ID
  numbers/phones leave rows with time, subject, source IP, object, event type and outcome.
- Only 审计管理员 opens the audit log and Django's action log (read-only); 系统管理员 and
  安全管理员 cannot; the list filters by time range, event type, outcome, account and IP,
  searches, shows a row, and exports to Excel — an export the log itself records.
- Excel exports carry the exporter and the time, and an exported file still reads as a table."""
from __future__ import annotations

import io

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone

from secure import audit
from secure.models import SecurityEvent

from .conftest import DEMO_PASSWORD

AUDIT_URL = "/admin/secure/securityevent/"
EXPORT_URL = AUDIT_URL + "export/"
LOGENTRY_URL = "/admin/admin/logentry/"
CASE_EXPORT_URL = "/admin/cases/case/excel/export/"
ID_NUMBER = "11010519491231002X"


def rows(**filters):
    return list(SecurityEvent.objects.filter(**filters).order_by("seq"))


def workbook(response):
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return openpyxl.load_workbook(io.BytesIO(content))


# --- finding 4, as reported ----------------------------------------------------------------
def test_finding4_logins_failures_exports_unmasked_views_and_rights_changes_are_audited(
        world, make_case, client_for):
    start = timezone.now()
    # a failed and a good login at the PC login page
    c = Client(REMOTE_ADDR="10.1.2.3")
    c.post("/admin/login/", {"username": "demo_district", "password": "wrong-password-1"})
    c.post("/admin/login/", {"username": "demo_district", "password": DEMO_PASSWORD})
    failed = rows(event="login_failed", username="demo_district")
    assert failed and failed[-1].outcome == "failure" and failed[-1].ip == "10.1.2.3" and failed[-1].at >= start
    ok = rows(event="login", username="demo_district")
    assert ok and ok[-1].outcome == "success" and ok[-1].ip == "10.1.2.3" and ok[-1].user.username == "demo_district"

    # an export: what, the filter and the row count
    case = make_case(title="湖滨邻里纠纷", parties=[{"name": "张三", "id_number": ID_NUMBER, "phone": "13800138000"}])
    make_case(title="湖滨劳动", case_type="labor")
    district = client_for("demo_district")
    assert district.get(CASE_EXPORT_URL, {"case_type": "neighbor"}).status_code == 200
    export = rows(event="export")[-1]
    assert export.username == "demo_district" and export.object_repr == "案件"
    assert export.detail["rows"] == 1 and export.detail["filters"] == {"case_type": "neighbor"}
    assert export.detail["unmasked"] == ["证件号码", "电话"]  # the district admin may see them in full

    # a view of the full ID number (case detail) — once per page, naming the party and the case
    before = SecurityEvent.objects.count()
    page = district.get(f"/admin/cases/case/{case.pk}/detail/")
    assert ID_NUMBER in page.content.decode()
    seen = rows(event="view_unmasked", seq__gt=before)
    assert len(seen) == 1
    assert seen[0].username == "demo_district" and case.exchange_id in seen[0].object_repr
    assert set(seen[0].detail["fields"]) == {"证件号码", "电话"} and seen[0].detail["path"].endswith("/detail/")

    # a rights change by the system admin
    from accounts.models import User

    mediator = User.objects.get(username="demo_mediator")
    sysadmin = client_for("demo_sysadmin")
    url = f"/admin/accounts/user/{mediator.pk}/change/"
    sysadmin.get(url)
    sysadmin.post(url, {
        "username": mediator.username, "display_name": mediator.display_name or "x", "email": "", "mobile": "",
        "is_active": "on", "region": mediator.region_id or "", "organization": mediator.organization_id or "",
        "groups": [Group.objects.get(name="社区调解员").pk, Group.objects.get(name="部门用户").pk], "_save": "保存"})
    change = rows(username="demo_sysadmin", event__in=["user_change", "group_change"])
    assert change and change[-1].object_repr == str(mediator)
    assert change[-1].detail["object"] == {"type": "accounts.user", "id": str(mediator.pk)}
    assert audit.verify_chain() == []


def test_a_user_without_the_right_sees_masked_values_and_no_unmasked_view_is_logged(make_case, client_for):
    case = make_case(parties=[{"name": "李四", "id_number": ID_NUMBER, "phone": "13800138000"}])
    page = client_for("demo_mediator").get(f"/admin/cases/case/{case.pk}/detail/")
    assert page.status_code == 200 and ID_NUMBER not in page.content.decode()
    assert not rows(event="view_unmasked")


def test_a_search_by_full_id_number_is_audited_with_the_number_masked(make_case, client_for):
    make_case(parties=[{"name": "王五", "id_number": ID_NUMBER, "phone": "13900139000"}])
    resp = client_for("demo_mediator").get("/admin/cases/case/", {"q": ID_NUMBER})
    assert resp.status_code == 200
    search = rows(event="search_sensitive")[-1]
    assert search.username == "demo_mediator" and search.detail["fields"] == ["证件号码"]
    assert search.detail["term"] == "1101**********002X" and ID_NUMBER not in str(search.detail)


def test_h5_case_page_with_full_values_is_audited(make_case, client_for):
    from django.contrib.auth.models import Permission

    from accounts.models import User

    mediator = User.objects.get(username="demo_mediator")
    mediator.user_permissions.add(Permission.objects.get(codename="view_sensitive_party"))
    case = make_case(parties=[{"name": "赵六", "id_number": ID_NUMBER, "phone": "13700137000"}])
    page = client_for("demo_mediator").get(f"/h5/cases/{case.pk}/")
    assert page.status_code == 200 and ID_NUMBER in page.content.decode()
    seen = rows(event="view_unmasked")[-1]
    assert case.exchange_id in seen.object_repr and set(seen.detail["fields"]) == {"证件号码", "电话"}


# --- the auditor's screen ----------------------------------------------------------------------
@pytest.fixture
def events(world):
    audit.record("login_failed", username="alice", outcome="failure")
    audit.record("login", username="alice")
    audit.record("export", username="bob", obj="案件", rows=3)
    return SecurityEvent.objects.order_by("seq")


def listed(response) -> list[str]:
    return [r.username for r in response.context["cl"].result_list]


def test_only_the_auditor_opens_the_audit_and_action_logs(events, client_for):
    auditor = client_for("demo_auditor")
    assert auditor.get(AUDIT_URL).status_code == 200
    assert auditor.get(LOGENTRY_URL).status_code == 200
    assert auditor.get(f"{AUDIT_URL}{events.first().pk}/change/").status_code == 200
    for username in ("demo_sysadmin", "demo_secadmin", "demo_district", "demo_mediator"):
        c = client_for(username)
        for url in (AUDIT_URL, EXPORT_URL, LOGENTRY_URL, f"{AUDIT_URL}{events.first().pk}/change/"):
            assert c.get(url).status_code in (302, 403), (username, url)


def test_nobody_changes_or_deletes_through_the_audit_screens(events, client_for):
    auditor = client_for("demo_auditor")
    row = events.first()
    page = auditor.get(f"{AUDIT_URL}{row.pk}/change/")
    assert 'name="_save"' not in page.content.decode()
    assert auditor.post(f"{AUDIT_URL}{row.pk}/change/", {"username": "x"}).status_code == 403
    assert auditor.post(f"{AUDIT_URL}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert auditor.get(f"{AUDIT_URL}add/").status_code == 403
    resp = auditor.post(AUDIT_URL, {"action": "delete_selected", "_selected_action": [row.pk]})
    assert SecurityEvent.objects.filter(pk=row.pk, username=row.username).exists() and resp.status_code in (200, 302)
    assert "delete_selected" not in auditor.get(AUDIT_URL).content.decode()


def test_the_auditor_filters_by_type_outcome_account_ip_time_and_searches(events, client_for):
    c = client_for("demo_auditor")
    assert listed(c.get(AUDIT_URL, {"event": "login_failed"})) == ["alice"]
    assert listed(c.get(AUDIT_URL, {"outcome": "failure"})) == ["alice"]
    assert sorted(listed(c.get(AUDIT_URL, {"username": "alice"}))) == ["alice", "alice"]
    assert listed(c.get(AUDIT_URL, {"q": "bob"})) == ["bob"]
    today = timezone.localdate().isoformat()
    assert len(listed(c.get(AUDIT_URL, {"at_from": today, "at_to": today, "username": "bob"}))) == 1
    assert listed(c.get(AUDIT_URL, {"at_to": "2000-01-01"})) == []
    audit.record("login", username="carol", request=type("R", (), {"META": {"REMOTE_ADDR": "192.168.9.9"},
                                                                     "user": None})())
    assert listed(c.get(AUDIT_URL, {"ip": "192.168.9"})) == ["carol"]
    # bad input: a message, not a 500
    resp = c.get(AUDIT_URL, {"at_from": "0000-99-99"})
    assert resp.status_code == 200 and "无效" in resp.content.decode()
    page = c.get(AUDIT_URL).content.decode()
    assert "登录失败" in page and "失败" in page


def test_the_auditor_exports_the_filtered_rows_and_the_export_is_audited(events, client_for):
    c = client_for("demo_auditor")
    resp = c.get(EXPORT_URL, {"username": "alice"})
    assert resp.status_code == 200
    wb = workbook(resp)
    data = list(wb.worksheets[0].iter_rows(values_only=True))
    assert data[0][:5] == ("序号", "时间", "事件类型", "结果", "账号")
    assert [r[4] for r in data[1:]] == ["alice", "alice"] and {r[2] for r in data[1:]} == {"登录", "登录失败"}
    info = dict(r[:2] for r in wb["导出信息"].iter_rows(values_only=True))
    assert "demo_auditor" in info["导出人"] and info["条数"] == 2
    last = rows(event="export")[-1]
    assert last.username == "demo_auditor" and last.object_repr == "安全审计日志"
    assert last.detail["rows"] == 2 and last.detail["filters"] == {"username": "alice"}


def test_logentry_screen_is_read_only(events, client_for):
    from django.contrib.admin.models import ADDITION, LogEntry
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import User

    actor = User.objects.get(username="demo_sysadmin")
    entry = LogEntry.objects.create(user=actor, content_type=ContentType.objects.get_for_model(User),
                                    object_id=str(actor.pk), object_repr="demo_mediator", action_flag=ADDITION,
                                    change_message="[]")
    c = client_for("demo_auditor")
    assert "demo_mediator" in c.get(LOGENTRY_URL).content.decode()
    assert c.post(f"{LOGENTRY_URL}{entry.pk}/change/", {"object_repr": "x"}).status_code == 403
    assert c.post(f"{LOGENTRY_URL}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LogEntry.objects.get(pk=entry.pk).object_repr == "demo_mediator"


# --- export provenance -------------------------------------------------------------------------
def test_case_export_carries_the_exporter_and_time_and_still_reads_as_a_table(make_case, client_for):
    from lowcode import excel

    make_case(title="湖滨邻里")
    resp = client_for("demo_mediator").get(CASE_EXPORT_URL)
    content = b"".join(resp.streaming_content)
    wb = openpyxl.load_workbook(io.BytesIO(content))
    data = wb.worksheets[0]
    stamp = timezone.localtime().strftime("%Y-%m-%d")
    assert "demo_mediator" in data.oddFooter.center.text and stamp in data.oddFooter.center.text
    assert "demo_mediator" in data.oddHeader.center.text
    assert wb.properties.creator == "demo_mediator"
    info = dict(r[:2] for r in wb["导出信息"].iter_rows(values_only=True))
    assert "demo_mediator" in info["导出人"] and info["导出时间"].startswith(stamp) and info["条数"] == 1
    table = excel.read_table(content, "案件.xlsx")  # the importer reads the data sheet, not the info
    assert "案件标题" in table.headers and [r[1][table.headers.index("案件标题")] for r in table.rows] == ["湖滨邻里"]


def test_party_warning_export_is_audited_and_carries_the_exporter(client_for):
    resp = client_for("demo_district").get("/admin/escalation/partywarning/export/", {"level": "red"})
    assert resp.status_code == 200
    wb = workbook(resp)
    assert "demo_district" in wb.worksheets[0].oddFooter.center.text and "导出信息" in wb.sheetnames
    last = rows(event="export")[-1]
    assert last.object_repr == "当事人预警名单" and last.username == "demo_district"
    assert last.detail["rows"] == 0 and last.detail["filters"] == {"level": "red"}


def test_statement_export_carries_the_exporter(client_for):
    from dispatch.statement import workbook_bytes

    from accounts.models import User

    class Result:
        rows, count, avg_score, total_fee = [], 0, None, 0

    class Org:
        name, pk = "和合商事调解中心", 1

    user = User.objects.get(username="demo_district")
    wb = openpyxl.load_workbook(io.BytesIO(workbook_bytes(Result, Org, timezone.localdate(), timezone.localdate(), user)))
    assert "demo_district" in str(wb.worksheets[0]["B2"].value)
    assert "demo_district" in wb.worksheets[0].oddFooter.center.text


def test_party_warning_list_with_full_values_is_audited(make_case, client_for):
    from extensions.escalation.models import PartyWarning, PersonCase

    case = make_case(parties=[{"name": "钱七", "id_number": ID_NUMBER, "phone": "13600136000"}])
    party = case.parties.get()
    PartyWarning.objects.create(party=party, name=party.name, level="red", identity="id",
                                person_key=f"id:{party.id_number_bidx}", reasons=["测试"])
    PersonCase.objects.create(person_key=f"id:{party.id_number_bidx}", case=case, party=party,
                              region_path=case.region_path)
    page = client_for("demo_district").get("/admin/escalation/partywarning/")
    assert page.status_code == 200 and ID_NUMBER in page.content.decode()
    seen = rows(event="view_unmasked")[-1]
    assert seen.username == "demo_district" and case.exchange_id in seen.object_repr
