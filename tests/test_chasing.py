"""办理时限与催办 (cases.chasing): overdue cases, review reminders and escalation, stale cases.
Time is controlled by passing ``now``; every threshold comes from the shipped metadata
(neighbor disputes: 15 days; reviews: remind 24 h, escalate 48 h; registered/mediating: 7 days)."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.utils import timezone

from cases import actions, chasing
from cases.models import Case, CaseEvent, Review
from notices.models import Notice

pytestmark = pytest.mark.backend  # depends on the database backend: date arithmetic of time limits


H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def notices(kind, case, username=None):
    qs = Notice.objects.filter(kind=kind, case=case)
    return qs.filter(recipient__username=username) if username else qs


@pytest.fixture
def pending_review(make_case):
    """A 湖滨社区 case whose result the mediator submitted: waiting for the street's review."""
    case = make_case("湖滨社区", title="湖滨社区噪音纠纷待审核", registrant=user("demo_mediator"))
    mediator = user("demo_mediator")
    actions.do_transition(case, "开始调解", mediator)
    actions.do_transition(case, "提交结果", mediator)
    review = Review.objects.get(case=case, status="pending")
    return case, review


def set_workflow_timers(timers):
    """What a business admin does in 业务配置 › 流程: edit the timers of the default case workflow."""
    from lowcode.models import Workflow

    wf = Workflow.objects.get(entity="case", scope_value="")
    wf.timers = timers
    wf.save()


# --- overdue -----------------------------------------------------------------------------
def test_overdue_case_is_flagged_once_and_its_handler_told(make_case):
    now = timezone.now()
    late = make_case("湖滨社区", title="超期的邻里纠纷", registered_at=now - 20 * D)   # neighbor: 15 days
    on_time = make_case("湖滨社区", title="未超期的邻里纠纷", registered_at=now - 10 * D)
    closed = make_case("湖滨社区", title="已调解的旧纠纷", registered_at=now - 40 * D, status="mediated")
    assert late.deadline == late.registered_at + 15 * D

    assert chasing.flag_overdue(now) == 1
    event = CaseEvent.objects.get(case=late, kind="overdue")
    assert "超过办理期限" in event.message and event.created_at == now
    assert notices("overdue", late, "demo_mediator").count() == 1
    assert not CaseEvent.objects.filter(case__in=[on_time, closed], kind="overdue").exists()

    # the next hourly runs do not repeat it
    assert chasing.flag_overdue(now + H) == 0
    assert chasing.flag_overdue(now + 30 * D) == 1  # only on_time is newly overdue by then
    assert CaseEvent.objects.filter(case=late, kind="overdue").count() == 1
    assert notices("overdue", late).count() == 1
    assert CaseEvent.objects.filter(case=closed).count() == 0


def test_time_limit_comes_from_the_case_type_metadata(make_case):
    from lowcode.models import DictItem

    item = DictItem.objects.get(dictionary__code="case_type", code="neighbor")
    item.attrs = {**item.attrs, "time_limit_days": 3}
    item.save()
    now = timezone.now()
    case = make_case("湖滨社区", registered_at=now - 4 * D)
    assert case.deadline == case.registered_at + 3 * D
    assert chasing.flag_overdue(now) == 1


# --- reviews -----------------------------------------------------------------------------
def test_review_reminded_after_24h_and_escalated_to_the_district_after_48h(pending_review):
    case, review = pending_review
    t0 = review.submitted_at
    assert chasing.chase_reviews(t0 + 23 * H) == {"reminded": 0, "escalated": 0}

    # 25 h: the street (who reviews a community's result) is reminded — once
    assert chasing.chase_reviews(t0 + 25 * H) == {"reminded": 1, "escalated": 0}
    review.refresh_from_db()
    assert review.reminded_at == t0 + 25 * H and review.escalated_at is None
    assert list(notices("remind", case).values_list("recipient__username", flat=True)) == ["demo_street"]
    remind = CaseEvent.objects.get(case=case, kind="remind")
    assert "东湖街道管理员" in remind.message and "25 小时" in remind.message
    assert chasing.chase_reviews(t0 + 26 * H) == {"reminded": 0, "escalated": 0}

    # 49 h: the street's superior, the district admin, is told — once
    assert chasing.chase_reviews(t0 + 49 * H) == {"reminded": 0, "escalated": 1}
    review.refresh_from_db()
    assert review.escalated_at == t0 + 49 * H
    assert list(notices("remind", case, "demo_district").values_list("title", flat=True)) == \
        [f"审核超时上报：{case.exchange_id}（邻里纠纷）（结果待审核）"]  # number and type, not the title
    assert notices("remind", case, "demo_street").count() == 1
    escalate = CaseEvent.objects.get(case=case, kind="escalate")
    assert "区矛调中心管理员" in escalate.message and "东湖街道管理员 尚未审核" in escalate.message
    assert chasing.chase_reviews(t0 + 80 * H) == {"reminded": 0, "escalated": 0}
    assert CaseEvent.objects.filter(case=case, kind__in=["remind", "escalate"]).count() == 2


def test_first_run_after_48h_reminds_and_escalates_together(pending_review):
    case, review = pending_review
    counts = chasing.check_all(review.submitted_at + 50 * H)
    assert (counts["reminded"], counts["escalated"]) == (1, 1)
    assert notices("remind", case, "demo_street").count() == 1
    assert notices("remind", case, "demo_district").count() == 1


def test_a_decided_review_is_not_chased(pending_review):
    case, review = pending_review
    actions.do_transition(case, "审核通过", user("demo_street"))
    assert chasing.chase_reviews(review.submitted_at + 100 * H) == {"reminded": 0, "escalated": 0}
    assert not CaseEvent.objects.filter(case=case, kind__in=["remind", "escalate"]).exists()


def test_street_handled_case_escalation_has_no_superior_above_the_district(pending_review):
    """A case handled at the street (after 提级) is reviewed by the district; with nobody above
    the district the escalation chases the district again, still once, and says so on the case."""
    case, review = pending_review
    Case.objects.filter(pk=case.pk).update(level=2)
    counts = chasing.chase_reviews(review.submitted_at + 49 * H)
    assert counts == {"reminded": 1, "escalated": 1}
    assert set(notices("remind", case).values_list("recipient__username", flat=True)) == {"demo_district"}
    assert "已无上级可上报" in CaseEvent.objects.get(case=case, kind="escalate").message


def test_business_admin_changes_the_timers_without_code(pending_review, make_case):
    case, review = pending_review
    t0 = review.submitted_at
    set_workflow_timers([{"state": "pending_review", "remind_after_hours": 2, "escalate_after_hours": 4},
                         {"state": "registered", "stale_after_days": 30}])
    assert chasing.chase_reviews(t0 + 1 * H) == {"reminded": 0, "escalated": 0}
    assert chasing.chase_reviews(t0 + 3 * H) == {"reminded": 1, "escalated": 0}
    assert chasing.chase_reviews(t0 + 5 * H) == {"reminded": 0, "escalated": 1}

    # registered cases are now flagged after 30 days, mediating ones not at all
    now = timezone.now()
    registered = make_case("湖滨社区", title="久未处理的登记案件", registered_at=now - 10 * D)
    mediating = make_case("湖滨社区", title="久未处理的调解案件", registered_at=now - 40 * D, status="mediating")
    assert chasing.flag_stale(now) == 0
    assert chasing.flag_stale(now + 21 * D) == 1
    assert CaseEvent.objects.filter(case=registered, kind="stale").exists()
    assert not CaseEvent.objects.filter(case=mediating, kind="stale").exists()


def test_a_state_without_timer_is_not_chased(pending_review):
    case, review = pending_review
    set_workflow_timers([])
    assert chasing.check_all(review.submitted_at + 1000 * H) == \
        {"overdue": 1, "reminded": 0, "escalated": 0, "stale": 0}  # the time limit still applies


# --- stale ---------------------------------------------------------------------------------
def test_stale_case_flagged_after_7_days_and_not_again_until_progress(make_case):
    t0 = timezone.now()
    case = make_case("湖滨社区", title="七天无进展的纠纷", registered_at=t0, registrant=user("demo_mediator"))
    assert chasing.flag_stale(t0 + 6 * D) == 0
    assert chasing.flag_stale(t0 + 8 * D) == 1
    event = CaseEvent.objects.get(case=case, kind="stale")
    assert "8 天无进展" in event.message and "湖滨社区调解员" in event.message
    assert notices("remind", case, "demo_mediator").count() == 1
    assert chasing.flag_stale(t0 + 9 * D) == 0
    assert chasing.flag_stale(t0 + 15 * D) == 0          # still no progress: not flagged again

    Case.objects.filter(pk=case.pk).update(last_progress_at=t0 + 16 * D, status="mediating")
    assert chasing.flag_stale(t0 + 20 * D) == 0          # 4 days since the progress
    assert chasing.flag_stale(t0 + 24 * D) == 1          # 8 days since the progress
    assert CaseEvent.objects.filter(case=case, kind="stale").count() == 2
    assert chasing.flag_stale(t0 + 25 * D) == 0


def test_a_mediation_log_is_progress(make_case):
    t0 = timezone.now() - 10 * D
    case = make_case("湖滨社区", registered_at=t0, status="mediating")
    actions.add_log(case, user("demo_mediator"), content="组织双方协商")
    assert chasing.flag_stale(timezone.now() + 1 * D) == 0
    assert chasing.flag_stale(timezone.now() + 8 * D) == 1


# --- entry points --------------------------------------------------------------------------
def test_command_prints_a_summary_and_json_counts(make_case):
    now = timezone.now()
    make_case("湖滨社区", title="命令行超期案件", registered_at=now - 20 * D)
    out = io.StringIO()
    call_command("check_deadlines", "--now", (now + H).isoformat(), stdout=out)
    lines = out.getvalue().strip().splitlines()
    assert any("超期案件" in line for line in lines)
    assert json.loads(lines[-1]) == {"overdue": 1, "reminded": 0, "escalated": 0, "stale": 1}
    out = io.StringIO()
    call_command("check_deadlines", "--now", (now + 2 * H).isoformat(), stdout=out)
    assert json.loads(out.getvalue().strip().splitlines()[-1]) == \
        {"overdue": 0, "reminded": 0, "escalated": 0, "stale": 0}


def test_command_refuses_a_bad_time(world):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="不是有效的时间"):
        call_command("check_deadlines", "--now", "明天", stdout=io.StringIO())


def test_task_entry_point_takes_an_iso_time(make_case):
    from cases import tasks

    now = timezone.now()
    make_case("湖滨社区", registered_at=now - 20 * D)
    assert tasks.check_deadlines((now + H).isoformat())["overdue"] == 1
    assert tasks.check_deadlines()["overdue"] == 0


def test_hourly_schedule_is_installed_once(db):
    import importlib

    from django.apps import apps
    from django_q.models import Schedule

    from cases import tasks

    migration = importlib.import_module("cases.migrations.0004_check_deadlines_schedule")

    class Editor:
        class connection:
            alias = "default"

    Schedule.objects.filter(name=tasks.SCHEDULE_NAME).delete()
    migration.create_schedule(apps, Editor)
    migration.create_schedule(apps, Editor)
    assert tasks.ensure_schedule() is False
    schedule = Schedule.objects.get(name="检查办理时限与催办")
    assert (schedule.func, schedule.schedule_type, schedule.repeats) == \
        ("cases.tasks.check_deadlines", Schedule.HOURLY, -1)
