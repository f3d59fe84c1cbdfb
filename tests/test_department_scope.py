"""Finding 10 of the security assessment (部门用户): a department user saw every case of the district.
Now a 职能部门's users see only the cases routed to their department by a 转办/交办 (recorded in
the case's trace, notified to the department), answer it (办理反馈), and lose sight of the case
when the referral is withdrawn."""
from __future__ import annotations

import pytest

from cases.models import CaseEvent, CaseReferral
from notices.models import Notice
from orgs.models import Organization

pytestmark = pytest.mark.backend  # depends on the database backend: scope filters


DEPT = "示范区人力资源和社会保障局"


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def detail(case) -> str:
    return f"/admin/cases/case/{case.pk}/detail/"


def handle(case, form) -> str:
    return f"/admin/cases/case/{case.pk}/handle/?form={form}"


@pytest.fixture
def two_cases(make_case):
    wage = make_case("湖滨社区", title="湖滨社区某公司欠薪纠纷", case_type="labor_wage")
    other = make_case("湖滨社区", title="湖滨社区邻里噪音纠纷")
    return wage, other


def test_a_department_user_sees_no_case_until_one_is_referred(two_cases, client_for):
    wage, other = two_cases
    c = client_for("demo_dept")
    page = c.get("/admin/cases/case/").content.decode()
    assert wage.title not in page and other.title not in page
    assert c.get(detail(wage)).status_code in (302, 404)
    assert "张三" not in c.get("/admin/cases/party/").content.decode()
    assert other.title not in c.get("/admin/").content.decode()  # workbench: nothing of the district


def test_street_admin_refers_a_case_and_the_department_sees_only_that_one(two_cases, client_for):
    wage, other = two_cases
    street = client_for("demo_street")
    assert "转办/交办给部门" in street.get(detail(wage)).content.decode()
    form = street.get(handle(wage, "refer")).content.decode()
    assert DEPT in form
    dept = Organization.objects.get(name=DEPT)
    response = street.post(handle(wage, "refer"), {"department": dept.pk, "kind": "transfer",
                                                   "reason": "涉嫌欠薪，请人社局依法处理"})
    assert response.status_code == 302
    referral = CaseReferral.objects.get(case=wage)
    assert referral.state == "open" and referral.referred_by == user("demo_street")
    assert CaseEvent.objects.filter(case=wage, kind="referral", message__contains=DEPT).exists()
    notice = Notice.objects.get(recipient__username="demo_dept", case=wage)
    assert wage.exchange_id in notice.title and wage.title not in notice.title

    c = client_for("demo_dept")
    page = c.get("/admin/cases/case/").content.decode()
    assert wage.title in page and other.title not in page
    assert c.get(detail(wage)).status_code == 200
    assert c.get(detail(other)).status_code in (302, 404)
    assert "部门转办" in c.get(detail(wage)).content.decode()
    workbench = c.get("/admin/").content.decode()
    assert "待本部门反馈的转办（1）" in workbench and wage.exchange_id in workbench
    assert "部门转办（1）" in street.get("/admin/").content.decode()


def test_the_department_answers_and_the_referrer_is_told(two_cases, client_for):
    wage, _ = two_cases
    dept = Organization.objects.get(name=DEPT)
    client_for("demo_street").post(handle(wage, "refer"), {"department": dept.pk, "kind": "assign",
                                                           "reason": "请核查用工情况"})
    c = client_for("demo_dept")
    assert "办理反馈" in c.get(detail(wage)).content.decode()
    empty = c.post(handle(wage, "answer"), {"text": ""})
    assert empty.status_code == 200 and "请填写办理反馈" in empty.content.decode()
    assert c.post(handle(wage, "answer"), {"text": "已约谈用人单位，工资本周发放"}).status_code == 302
    referral = CaseReferral.objects.get(case=wage)
    assert referral.state == "answered" and referral.answered_by == user("demo_dept")
    assert Notice.objects.filter(recipient__username="demo_street", case=wage, kind="result").exists()
    assert c.get(detail(wage)).status_code == 200  # an answered referral stays visible to the department
    assert c.post(handle(wage, "answer"), {"text": "再次反馈"}).status_code == 403


def test_withdrawing_takes_the_sight_away(two_cases, client_for):
    wage, _ = two_cases
    dept = Organization.objects.get(name=DEPT)
    street = client_for("demo_street")
    street.post(handle(wage, "refer"), {"department": dept.pk, "kind": "transfer", "reason": "欠薪"})
    referral = CaseReferral.objects.get(case=wage)
    assert street.post(handle(wage, "withdraw_referral"), {"referral": referral.pk, "reason": "已由属地化解"}).status_code == 302
    referral.refresh_from_db()
    assert referral.state == "withdrawn"
    c = client_for("demo_dept")
    assert c.get(detail(wage)).status_code in (302, 404)
    assert wage.title not in c.get("/admin/cases/case/").content.decode()
    # the earlier notice about the case is hidden now; the withdrawal notice carries no case link
    page = c.get("/admin/notices/notice/").content.decode()
    assert "转办已撤回" in page and f"/admin/cases/case/{wage.pk}/" not in page


def test_who_may_refer(two_cases, client_for, make_case):
    wage, _ = two_cases
    dept = Organization.objects.get(name=DEPT)
    assert client_for("demo_mediator").get(handle(wage, "refer")).status_code == 403  # no 转办 right
    assert client_for("demo_dept").get(handle(wage, "refer")).status_code in (302, 403, 404)
    far = make_case("溪口社区")
    street = client_for("demo_street")
    assert street.post(handle(far, "refer"), {"department": dept.pk, "reason": "x"}).status_code in (302, 404)
    assert not CaseReferral.objects.filter(case=far).exists()
    # a department is chosen from the 职能部门 only, with a reason
    gov = Organization.objects.get(name="示范区社会治理中心")
    page = street.post(handle(wage, "refer"), {"department": gov.pk, "kind": "transfer", "reason": ""}).content.decode()
    assert "请选择案件所在区域的职能部门" in page and "请填写转办事由" in page
    assert not CaseReferral.objects.exists()


def test_the_same_department_is_not_referred_twice_while_open(two_cases):
    from cases import referrals
    from cases.actions import ActionRefused

    wage, _ = two_cases
    dept = Organization.objects.get(name=DEPT)
    referrals.refer(wage, user("demo_district"), department=dept, reason="欠薪")
    with pytest.raises(ActionRefused, match="尚未反馈"):
        referrals.refer(wage, user("demo_district"), department=dept, reason="欠薪")


def test_excel_export_of_a_department_holds_only_referred_cases(two_cases, client_for):
    from cases import referrals

    wage, other = two_cases
    referrals.refer(wage, user("demo_district"), department=Organization.objects.get(name=DEPT), reason="欠薪")
    from tests.test_permission_matrix import body_text

    text = body_text(client_for("demo_dept").get("/admin/cases/case/excel/export/"))
    assert wage.exchange_id in text and other.exchange_id not in text


def test_demo_data_routes_a_few_labour_cases_to_the_demo_department(metadata, settings):
    from io import StringIO

    from django.core.management import call_command

    from accounts.scope import scope_queryset
    from cases.models import Case

    settings.DEBUG = True
    call_command("seed_demo", cases=60, stdout=StringIO())
    seeded = Case.objects.count()  # the 60 registered cases and the channel samples' aggregated ones
    call_command("seed_demo", cases=60, stdout=StringIO())  # idempotent
    assert Case.objects.count() == seeded
    referred = CaseReferral.objects.filter(department__name=DEPT)
    assert 1 <= referred.count() <= 3 and referred.filter(state="answered").count() == 1
    seen = set(scope_queryset(user("demo_dept"), Case.objects.all()).values_list("pk", flat=True))
    assert seen == set(referred.values_list("case_id", flat=True))
    assert Case.objects.filter(registrant__isnull=False).count() == 60
