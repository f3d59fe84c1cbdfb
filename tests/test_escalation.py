"""案件升级预警 (M-7.2): every shipped rule type turns a case the colour the metadata says, the
colour changes leave history and notify the handlers and their superiors (once), and the
warning shows on the case detail and the workbench."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from extensions.escalation import evaluate
from extensions.escalation.models import CaseWarning, KeyPerson, WarningEvent

pytestmark = pytest.mark.backend  # depends on the database backend: aggregates and date arithmetic in the warning facts

PERSON_A = {"name": "李四", "id_number": "330102199001011237", "phone": "13911112222"}


def colour(case) -> str:
    evaluate.evaluate_cases([case.pk])
    return CaseWarning.objects.get(pk=case.pk).level


def reasons(case) -> str:
    return "；".join(CaseWarning.objects.get(pk=case.pk).reasons)


@pytest.fixture
def quiet_case(make_case):
    """A case that trips no rule: one party, no keywords, not overdue."""
    def make(**fields):
        fields.setdefault("parties", [dict(PERSON_A)])
        fields.setdefault("deadline", timezone.now() + dt.timedelta(days=10))
        return make_case(**fields)
    return make


# --- rule types ------------------------------------------------------------------------------------
def test_a_plain_dispute_is_green(quiet_case):
    case = quiet_case(title="邻里噪音纠纷", description="楼上装修噪音影响休息")
    assert colour(case) == "green"
    assert reasons(case) == ""


def test_a_violence_keyword_in_a_mediation_log_turns_the_case_red(quiet_case):
    from cases.models import MediationLog

    case = quiet_case(title="邻里噪音纠纷", description="楼上装修噪音影响休息")
    assert colour(case) == "green"
    MediationLog.objects.create(case=case, content="调解中一方情绪激动，扬言要持刀报复对方")
    assert colour(case) == "red"
    assert "持刀" in reasons(case) and "报复" in reasons(case)


def test_keywords_match_whole_words_not_fragments(quiet_case):
    # 打人 is a keyword; 击打人行道 contains the characters but not the word
    case = quiet_case(title="施工噪音", description="工人用电镐击打人行道地砖，噪音很大")
    assert colour(case) == "green"
    case2 = quiet_case(title="口角", description="双方争吵后当场打人")
    assert colour(case2) == "red"


def test_a_keyword_the_admin_adds_counts_from_the_next_evaluation(quiet_case):
    from extensions.escalation.models import WarningKeyword

    case = quiet_case(title="土地纠纷", description="一方称要去挖祖坟泄愤")
    assert colour(case) == "green"
    WarningKeyword.objects.create(word="挖祖坟", category="extreme")
    assert colour(case) == "red"


def test_a_disabled_keyword_no_longer_counts(quiet_case):
    from extensions.escalation.models import WarningKeyword

    case = quiet_case(description="对方威胁要来闹事")
    assert colour(case) == "red"
    WarningKeyword.objects.filter(word="威胁").update(enabled=False)
    assert colour(case) == "green"


def test_the_extreme_tendency_tag_is_red(quiet_case):
    case = quiet_case(tags=["extreme"])
    assert colour(case) == "red"


def test_a_registered_key_person_among_the_parties_is_red(quiet_case, world):
    from orgs.models import Region

    case = quiet_case()
    assert colour(case) == "green"
    KeyPerson.objects.create(name="李四", id_number=PERSON_A["id_number"], reason="长期缠访",
                             region=Region.objects.get(name="湖滨社区"))
    assert colour(case) == "red"
    assert "李四" in reasons(case)


def test_a_key_person_released_from_control_no_longer_counts(quiet_case, world):
    from orgs.models import Region

    KeyPerson.objects.create(name="李四", phone=PERSON_A["phone"], reason="扬言报复", active=False,
                             region=Region.objects.get(name="湖滨社区"))
    assert colour(quiet_case()) == "green"


def test_a_key_person_cannot_be_registered_by_a_masked_number(world):
    from django.core.exceptions import ValidationError
    from orgs.models import Region

    kp = KeyPerson(name="王五", id_number="3301**********1234", reason="x", region=Region.objects.get(name="湖滨社区"))
    with pytest.raises(ValidationError, match="脱敏"):
        kp.full_clean()
    with pytest.raises(ValidationError, match="至少填写一项"):
        KeyPerson(name="王五", reason="x", region=kp.region).full_clean()


def test_a_group_dispute_at_the_size_threshold_is_red_and_the_threshold_is_metadata(quiet_case):
    from extensions.escalation.models import WarningSetting

    case = quiet_case(party_count=10)
    assert colour(case) == "red"
    assert "涉及 10 人" in reasons(case)
    WarningSetting.objects.filter(key="group_size").update(value=30)
    assert colour(case) == "green"


def test_the_group_tag_is_red(quiet_case):
    assert colour(quiet_case(tags=["group"])) == "red"


def test_a_large_amount_from_the_mediation_list_is_orange(quiet_case):
    from cases.models import MediationItem

    case = quiet_case(case_type="labor")
    MediationItem.objects.create(case=case, content="拖欠工资", claim_amount=Decimal("60000"))
    assert colour(case) == "green"
    MediationItem.objects.create(case=case, content="经济补偿", claim_amount=Decimal("50000"))
    assert colour(case) == "orange"
    assert "110000" in reasons(case)


def test_an_amount_in_an_extra_field_counts(quiet_case):
    case = quiet_case(extra={"amount": 250000})
    assert colour(case) == "orange"


def test_an_overdue_case_is_yellow_and_long_overdue_is_orange(quiet_case):
    now = timezone.now()
    case = quiet_case(deadline=now - dt.timedelta(days=2))
    assert colour(case) == "yellow"
    assert "已超期 2 天" in reasons(case)
    case.deadline = now - dt.timedelta(days=20)
    case.save()
    assert colour(case) == "orange"


def test_a_closed_case_is_not_overdue(quiet_case):
    case = quiet_case(deadline=timezone.now() - dt.timedelta(days=5), status="archived")
    assert colour(case) == "green"


def test_an_escalated_case_is_orange(quiet_case):
    from cases.models import HelpRequest

    case = quiet_case()
    HelpRequest.objects.create(case=case, kind="escalate", reason="矛盾复杂，需街道协调")
    assert colour(case) == "orange"


def test_a_resolved_case_turns_green_with_a_return_visit_pending(quiet_case):
    from cases.models import MediationResult, Visit

    case = quiet_case(description="双方打人后报警", status="mediating")
    assert colour(case) == "red"
    MediationResult.objects.create(case=case, outcome="success", agreement="赔偿医药费")
    case.status = "mediated"
    case.save()
    assert colour(case) == "green"
    assert "待回访" in reasons(case)
    Visit.objects.create(case=case, way="phone", satisfaction="satisfied")
    assert colour(case) == "green"
    assert "待回访" not in reasons(case)


def test_a_repeat_party_is_yellow_but_the_same_name_with_another_id_is_not(quiet_case):
    first = quiet_case(title="第一起")
    other = quiet_case(title="同名不同人", parties=[{"name": "李四", "id_number": "110101198003070018"}])
    assert colour(first) == "green"
    assert colour(other) == "green"
    second = quiet_case(title="第二起", description="又一次纠纷")
    assert colour(second) == "yellow"
    assert "2 起纠纷" in reasons(second)


def test_parties_without_id_are_matched_by_phone_and_masked_phones_match_nobody(quiet_case):
    p = {"name": "赵六", "phone": "13700001111"}
    colour(quiet_case(parties=[dict(p)]))
    assert colour(quiet_case(parties=[dict(p)])) == "yellow"
    masked = {"name": "钱七", "phone": "137****1111"}
    colour(quiet_case(parties=[dict(masked)]))
    assert colour(quiet_case(parties=[dict(masked)])) == "green"


def test_parties_without_id_or_phone_are_matched_by_name_and_address_only(quiet_case):
    p = {"name": "孙八", "address": "湖滨路 3 号"}
    colour(quiet_case(parties=[dict(p)]))
    assert colour(quiet_case(parties=[dict(p)])) == "yellow"
    no_address = {"name": "周九"}
    colour(quiet_case(parties=[dict(no_address)]))
    assert colour(quiet_case(parties=[dict(no_address)])) == "green"


def test_a_rule_the_admin_disables_stops_counting(quiet_case):
    from extensions.escalation.models import WarningRule

    case = quiet_case(party_count=50)
    assert colour(case) == "red"
    WarningRule.objects.filter(code="group_dispute").update(enabled=False)
    assert colour(case) == "green"


# --- history and notices -------------------------------------------------------------------------
def test_a_colour_change_notifies_the_handler_and_the_street_and_is_kept_in_history(quiet_case):
    from cases.models import MediationLog
    from notices.models import Notice

    case = quiet_case()
    colour(case)
    assert not Notice.objects.filter(kind="warning").exists()  # first green: nothing to say
    MediationLog.objects.create(case=case, content="一方扬言同归于尽")
    assert colour(case) == "red"
    got = set(Notice.objects.filter(kind="warning", case=case).values_list("recipient__username", flat=True))
    assert {"demo_mediator", "demo_street"} <= got
    assert "demo_tp_mediator" not in got and "demo_dept" not in got
    notice = Notice.objects.filter(kind="warning", case=case).first()
    assert "绿色 → 红色预警" in notice.title and "同归于尽" in notice.body and "街道主导" in notice.body
    event = WarningEvent.objects.get(case=case, to_level="red")
    assert event.from_level == "green" and event.rule == "criminal_or_violence"
    assert event.facts["命中关键词"] == "同归于尽"
    assert event.notified == len(got)


def test_no_notice_when_the_colour_stays_the_same(quiet_case):
    from cases.models import MediationLog
    from notices.models import Notice

    case = quiet_case(description="对方扬言报复")
    assert colour(case) == "red"
    sent = Notice.objects.filter(kind="warning").count()
    assert sent > 0
    MediationLog.objects.create(case=case, content="第二次调解，对方仍扬言报复")
    assert colour(case) == "red"
    assert Notice.objects.filter(kind="warning").count() == sent
    assert WarningEvent.objects.filter(case=case).count() == 1


def test_colours_follow_every_committed_change_through_the_hook(quiet_case, django_capture_on_commit_callbacks):
    from cases.models import MediationLog

    with django_capture_on_commit_callbacks(execute=True):
        case = quiet_case()
    assert CaseWarning.objects.get(pk=case.pk).level == "green"
    with django_capture_on_commit_callbacks(execute=True):
        MediationLog.objects.create(case=case, content="有人持刀到场")
    assert CaseWarning.objects.get(pk=case.pk).level == "red"


def test_the_daily_run_catches_cases_that_became_overdue_with_time(quiet_case):
    from extensions.escalation.tasks import evaluate_daily

    case = quiet_case(deadline=timezone.now() + dt.timedelta(days=1))
    assert colour(case) == "green"
    later = (timezone.now() + dt.timedelta(days=3)).isoformat()
    counts = evaluate_daily(later)
    assert counts["evaluated"] >= 1 and counts["changed"] >= 1
    assert CaseWarning.objects.get(pk=case.pk).level == "yellow"


def test_the_daily_schedule_exists(db):
    from django_q.models import Schedule

    s = Schedule.objects.get(name="升级预警每日研判")
    assert s.func == "extensions.escalation.tasks.evaluate_daily" and s.schedule_type == Schedule.DAILY


def test_the_command_prints_counts(quiet_case, capsys):
    import json

    from django.core.management import call_command

    quiet_case(description="扬言跳楼")
    call_command("evaluate_warnings")
    counts = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert counts["evaluated"] >= 1 and counts["changed"] >= 1


# --- screens -------------------------------------------------------------------------------------
def test_the_case_detail_shows_the_colour_the_reasons_and_the_history(quiet_case, client_for):
    case = quiet_case(description="对方扬言报复")
    colour(case)
    page = client_for("demo_mediator").get(f"/admin/cases/case/{case.pk}/detail/").content.decode()
    assert "升级预警" in page and "红色预警" in page and "报复" in page and "预警记录" in page
    assert "街道主导" in page


def test_the_workbench_shows_open_cases_by_colour_and_the_latest_changes(quiet_case, make_case, client_for):
    case = quiet_case(title="持刀威胁纠纷", description="对方持刀威胁")
    colour(case)
    other = make_case(region_name="溪口社区", title="溪口打人纠纷", description="当场打人")
    colour(other)
    page = client_for("demo_mediator").get("/admin/").content.decode()
    assert 'id="workbench-warnings"' in page
    assert "持刀威胁纠纷" in page
    assert "溪口打人纠纷" not in page  # another community's case


def test_the_warning_lists_are_scoped(quiet_case, make_case, client_for):
    colour(quiet_case(title="湖滨打人", description="当场打人"))
    colour(make_case(region_name="溪口社区", title="溪口打人", description="当场打人"))
    c = client_for("demo_mediator")
    page = c.get("/admin/escalation/casewarning/").content.decode()
    assert "湖滨打人" in page and "溪口打人" not in page
    page = c.get("/admin/escalation/warningevent/").content.decode()
    assert "湖滨打人" in page and "溪口打人" not in page
    page = c.get("/admin/escalation/casewarning/?level=red").content.decode()
    assert "湖滨打人" in page


# --- with the duplicate model ------------------------------------------------------------------------
def _same_dispute(make_case, n, **fields):
    """n reports of one dispute (same person, place and words, a day apart), through the hooks so
    the duplicate model sees each one."""
    made = []
    for i in range(n):
        made.append(make_case(
            title="楼上漏水多次协商无果", description="楼上卫生间漏水导致楼下天花板发霉，多次协商无果",
            address="湖滨路18号3幢2单元501室", case_type="neighbor",
            registered_at=timezone.now() - dt.timedelta(days=n - i),
            deadline=timezone.now() + dt.timedelta(days=10),
            parties=[{"name": "吴十", "id_number": "330102198801011233", "phone": "13600136000",
                      "address": "湖滨路18号3幢2单元501室"}], **fields))
    return made


def test_three_reports_of_the_same_dispute_in_30_days_turn_it_red(make_case, django_capture_on_commit_callbacks):
    from extensions.dedup.api import same_reports

    made = []
    for case in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            made += _same_dispute(make_case, 1)
    last = made[-1]
    assert same_reports("case", last.pk, days=30) == 2, "the duplicate model should hold them the same"
    w = CaseWarning.objects.get(pk=last.pk)
    assert w.level == "red" and w.rule == "repeat_reports"
    assert w.facts["报告次数"] == 3


def test_two_failed_mediations_of_the_same_dispute_turn_it_red(make_case, django_capture_on_commit_callbacks):
    from cases.models import MediationResult

    with django_capture_on_commit_callbacks(execute=True):
        first, second = _same_dispute(make_case, 2)
    with django_capture_on_commit_callbacks(execute=True):
        MediationResult.objects.create(case=first, outcome="failed")
    evaluate.evaluate_cases([second.pk])
    assert CaseWarning.objects.get(pk=second.pk).facts["调解失败次数"] == 1
    with django_capture_on_commit_callbacks(execute=True):
        MediationResult.objects.create(case=second, outcome="failed")
    w = CaseWarning.objects.get(pk=second.pk)
    assert w.facts["调解失败次数"] == 2 and w.level == "red"


def test_police_calls_about_the_same_dispute_count_when_the_clues_arrive(make_case, django_capture_on_commit_callbacks):
    from clues.models import Channel, Clue, ClueParty, RawRecord

    with django_capture_on_commit_callbacks(execute=True):
        case, = _same_dispute(make_case, 1)
    assert CaseWarning.objects.get(pk=case.pk).level == "green"
    ch, _ = Channel.objects.get_or_create(key="police110", defaults={"name": "110警情", "kind": "event"})
    for i in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            raw = RawRecord.objects.create(channel=ch, source_id=f"J{i}", record_key=f"police110:J{i}",
                                           payload={}, payload_hash=str(i))
            clue = Clue.objects.create(record_key=raw.record_key, raw=raw, channel=ch, source_id=raw.source_id,
                                       title="报警称楼上漏水协商无果", text="报警人称楼上卫生间漏水导致楼下天花板发霉，多次协商无果",
                                       address="湖滨路18号3幢2单元501室", region=case.region,
                                       region_path=case.region_path, occurred_at=timezone.now() - dt.timedelta(hours=i + 1))
            ClueParty.objects.create(clue=clue, name="吴十", phone="13600136000")
    w = CaseWarning.objects.get(pk=case.pk)
    assert w.facts["报警次数"] == 3 and w.facts["报告次数"] == 4
    assert w.level == "red" and "110报警 3 次" in "；".join(w.reasons)


def test_the_case_list_shows_the_colour_and_filters_by_it(quiet_case, client_for):
    red = quiet_case(title="持刀纠纷甲", description="对方持刀威胁")
    green = quiet_case(title="噪音纠纷乙", parties=[{"name": "王二", "phone": "13500000000"}])
    evaluate.evaluate_cases([red.pk, green.pk])
    c = client_for("demo_mediator")
    page = c.get("/admin/cases/case/").content.decode()
    assert page.count("badge mdtj-warning") == 2 and "持刀纠纷甲" in page and "噪音纠纷乙" in page
    page = c.get("/admin/cases/case/?warning=red").content.decode()
    assert "持刀纠纷甲" in page and "噪音纠纷乙" not in page


def test_exporting_with_a_broken_filter_explains_instead_of_failing(client_for, world):
    c = client_for("demo_mediator")
    response = c.get("/admin/escalation/partywarning/export/?nosuchfield=1")
    assert response.status_code == 302 and response["Location"] == "/admin/escalation/partywarning/"
    page = c.get(response["Location"]).content.decode()
    assert "筛选条件无效，请在列表中重新筛选后再导出" in page
    ok = c.get("/admin/escalation/partywarning/export/")
    assert ok.status_code == 200 and "spreadsheetml" in ok["Content-Type"]


def test_a_mediator_on_a_phone_logs_a_threat_and_reads_the_warning_in_the_h5_message_centre(
        quiet_case, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        case = quiet_case(title="装修噪音纠纷", status="mediating")
    c = client_for("demo_mediator")
    with django_capture_on_commit_callbacks(execute=True):
        response = c.post(f"/h5/cases/{case.pk}/logs/", {"content": "对方情绪激动，扬言要砍人", "place": "社区调解室",
                                                         "participants": "双方当事人",
                                                         "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code in (200, 302)
    assert CaseWarning.objects.get(pk=case.pk).level == "red"
    page = c.get("/h5/messages/").content.decode()
    assert "红色预警" in page and case.exchange_id in page  # the case by number: titles name parties
