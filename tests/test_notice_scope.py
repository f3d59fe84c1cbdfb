"""Finding 3 of the security assessment: notices leaked out-of-scope cases. A notice about a case
reaches only people who may see that case now (checked on sending, one query for all recipients)
and is hidden again when the case leaves the reader's scope (PC 消息中心, H5 and third-party H5
message centres, the workbench, the unread counts); titles name the case by number and type,
never by its title or its parties."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cases import chasing
from cases.models import Case
from notices.actions import notify
from notices.models import Notice
from orgs.models import Region

pytestmark = pytest.mark.backend  # depends on the database backend: scope filters


D = dt.timedelta(days=1)


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def move(case, region_name):
    """The case's region changes (re-registered to the right community)."""
    case.region = Region.objects.get(name=region_name)
    case.save()


@pytest.fixture
def late_case(make_case):
    """A 湖滨社区 case registered by the community mediator, past its deadline, with a party
    whose name is in the title (as real titles are)."""
    return make_case("湖滨社区", title="张三与李四相邻漏水纠纷", registrant=user("demo_mediator"),
                     registered_at=timezone.now() - 20 * D,
                     parties=[{"name": "张三", "id_number": "11010519491231002X", "phone": "13800138000"}])


# --- on sending ----------------------------------------------------------------------------------
def test_overdue_notice_skips_a_registrant_who_no_longer_sees_the_case(late_case):
    move(late_case, "溪口社区")  # another street: out of the mediator's (and 东湖街道's) scope
    assert chasing.flag_overdue() == 1
    got = set(Notice.objects.filter(case=late_case).values_list("recipient__username", flat=True))
    assert "demo_mediator" not in got
    assert not Notice.objects.filter(recipient__username__in=["demo_mediator", "demo_street"]).exists()


def test_overdue_notice_names_the_case_by_number_and_type_not_by_parties(late_case):
    assert chasing.flag_overdue() == 1
    notice = Notice.objects.get(case=late_case, recipient__username="demo_mediator")
    assert late_case.exchange_id in notice.title and "邻里纠纷" in notice.title
    for leaked in ("张三", "李四", late_case.title):
        assert leaked not in notice.title and leaked not in notice.body


def test_warning_notice_title_names_no_party(make_case):
    from extensions.escalation import evaluate

    case = make_case("湖滨社区", title="王五等十二人欠薪纠纷", party_count=12, registrant=user("demo_mediator"),
                     case_type="labor_wage", parties=[{"name": "王五", "phone": "13800000001"}])
    evaluate.evaluate_cases([case.pk])
    warned = Notice.objects.filter(case=case, kind="warning")
    assert warned.exists()
    assert all("王五" not in n.title and case.exchange_id in n.title for n in warned)


def test_notify_drops_recipients_outside_the_case_scope_in_one_query(make_case):
    case = make_case("湖滨社区")
    everyone = [user(u) for u in ("demo_mediator", "demo_street", "demo_district", "demo_dept", "demo_tp_mediator",
                                  "demo_config")]
    with CaptureQueriesContext(connection) as few:
        notify(everyone[:2], "system", "通知", case=case)
    with CaptureQueriesContext(connection) as many:
        sent = notify(everyone, "system", "通知", case=case)
    assert len(many.captured_queries) == len(few.captured_queries)  # not one query per recipient
    assert sent == 3
    assert set(Notice.objects.filter(case=case, title="通知").values_list("recipient__username", flat=True)) == \
        {"demo_mediator", "demo_street", "demo_district"}


def test_the_recipient_rule_agrees_with_the_scope_helper(make_case, world):
    """accounts.scope.case_viewers_q (who sees this case) is the dual of scope_queryset (which cases
    does this user see): both agree for every demo user, including a department with a referral and
    a third party with a guardian grant."""
    from accounts.models import User
    from accounts.scope import case_viewers_q, scope_queryset
    from cases.models import CaseReferral
    from dispatch import grants
    from orgs.models import Organization

    cases = [make_case("湖滨社区"), make_case("湖滨社区第1网格"), make_case("溪口社区"), make_case("南山村")]
    dept = Organization.objects.get(name="示范区人力资源和社会保障局")
    CaseReferral.objects.create(case=cases[2], department=dept, reason="欠薪线索", referred_by=user("demo_district"))
    CaseReferral.objects.create(case=cases[3], department=dept, reason="已撤回", state="withdrawn")
    grants.grant_case(Organization.objects.get(name="和合商事调解中心"), cases[1])
    users = list(User.objects.all())
    for case in cases:
        viewers = set(User.objects.filter(case_viewers_q(case)).values_list("username", flat=True))
        expected = {u.username for u in users if scope_queryset(u, Case.objects.filter(pk=case.pk)).exists()}
        assert viewers == expected, case.region


# --- on reading ------------------------------------------------------------------------------------
@pytest.fixture
def delivered(late_case):
    """The mediator got an overdue notice while the case was theirs; then the case moved away."""
    chasing.flag_overdue()
    notice = Notice.objects.get(case=late_case, recipient__username="demo_mediator")
    notify([user("demo_mediator")], "system", "系统维护通知")
    move(late_case, "溪口社区")
    return notice


def test_pc_message_centre_hides_a_notice_whose_case_left_the_scope(delivered, client_for):
    c = client_for("demo_mediator")
    page = c.get("/admin/notices/notice/").content.decode()
    assert "系统维护通知" in page and delivered.case.exchange_id not in page
    assert "我的消息（1）" in page
    assert c.get(f"/admin/notices/notice/{delivered.pk}/change/").status_code in (302, 404)
    assert c.get(f"/admin/cases/case/{delivered.case_id}/detail/").status_code in (302, 404)


def test_h5_message_centre_hides_it_too(delivered, client_for):
    c = client_for("demo_mediator")
    page = c.get("/h5/messages/").content.decode()
    assert "系统维护通知" in page and delivered.title not in page
    assert '<strong class="h5-unread-count">1</strong>' in page
    assert c.get(f"/h5/messages/{delivered.pk}/").status_code == 404


def test_third_party_message_centre_hides_notices_of_a_withdrawn_award(make_case, client_for):
    from dispatch import grants
    from orgs.models import Organization

    case = make_case("湖滨社区")
    org = Organization.objects.get(name="和合商事调解中心")
    grants.grant_case(org, case)
    notify([user("demo_tp_mediator")], "system", "中选通知：发单", case=case)
    assert "中选通知" in client_for("demo_tp_mediator").get("/tp/m/messages/").content.decode()
    grants.revoke_case(org, case)
    assert "中选通知" not in client_for("demo_tp_mediator").get("/tp/m/messages/").content.decode()
