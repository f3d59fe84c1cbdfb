"""The hook's incremental re-evaluation (extensions.escalation.subscribers) leaves exactly what a
full recompute (the daily run) would: after a party's ID number or phone changes hands, and after
a case changes colour, every case colour and every 预警名单 row equals the daily run's. An edit
that leaves the parties alone re-evaluates that case and its own people only."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from extensions.escalation import evaluate, subscribers
from extensions.escalation.models import CaseWarning, PartyWarning

pytestmark = pytest.mark.backend  # depends on the database backend: incremental recomputation queries

LI = {"name": "李四", "id_number": "330102199001011237", "phone": "13911112222"}
WANG = {"name": "王五", "id_number": "330106198502020019", "phone": "13822223333"}
ZHAO = {"name": "赵六", "phone": "13700001111"}  # no ID: identified by phone


def snapshot() -> tuple[dict, dict]:
    cases = {w.case_id: (w.level, w.rule, w.reasons, w.facts_by_window) for w in CaseWarning.objects.all()}
    people = {w.person_key: (w.name, w.level, w.rule, w.reasons, w.facts) for w in PartyWarning.objects.all()}
    return cases, people


def assert_same_as_full_recompute():
    incremental = snapshot()
    evaluate.evaluate_all(notify=False)
    full = snapshot()
    assert incremental[0] == full[0]
    assert incremental[1] == full[1]


@pytest.fixture
def world(make_case, django_capture_on_commit_callbacks):
    """Li: 3 open disputes (a repeat party, yellow); Wang: 1; Zhao (phone only): 2; one case of
    Wang and Zhao together. Everything evaluated through the hooks, as saves do."""
    matters = iter([("楼上装修噪音", "装修噪音影响休息"), ("借款未还", "朋友借款两万元到期未还"),
                    ("物业费争议", "物业服务不到位拒交物业费"), ("宠物伤人", "邻居家狗咬伤小孩"),
                    ("租房押金", "退租后房东不退押金"), ("停车位占用", "车位长期被他人占用"),
                    ("漏水纠纷", "楼上卫生间漏水到楼下"), ("工资拖欠", "装修工人工资被拖欠")])

    def dispute(*people):
        title, description = next(matters)  # different matters: no "same dispute" reports
        return make_case(title=title, description=description, parties=[dict(p) for p in people],
                         registered_at=timezone.now() - dt.timedelta(days=2),
                         deadline=timezone.now() + dt.timedelta(days=10))

    with django_capture_on_commit_callbacks(execute=True):
        cases = {"li": [dispute(LI) for _ in range(3)], "wang": dispute(WANG),
                 "zhao": [dispute(ZHAO) for _ in range(2)], "both": dispute(WANG, ZHAO)}
    return cases


def test_the_world_starts_as_the_daily_run_sees_it(world):
    # Li's three disputes read as one dispute reported three times (duplicate model): red
    assert PartyWarning.objects.get(name="李四").facts["纠纷数"] == 3
    assert PartyWarning.objects.get(name="赵六").identity == "phone"
    assert_same_as_full_recompute()


def test_a_party_taking_another_persons_id_moves_the_case_between_people(
        world, django_capture_on_commit_callbacks):
    from cases.models import Party

    # Wang's own case turns out to be Li's: Li gains a dispute (4), Wang keeps only the joint one
    p = Party.objects.get(case=world["wang"])
    with django_capture_on_commit_callbacks(execute=True):
        p.name, p.id_number, p.phone = LI["name"], LI["id_number"], LI["phone"]
        p.save()
    assert PartyWarning.objects.get(name="李四").facts["纠纷数"] == 4
    assert CaseWarning.objects.get(pk=world["li"][0].pk).facts["当事人最多纠纷数"] == 4
    assert_same_as_full_recompute()


def test_a_changed_phone_moves_a_person_without_id(world, django_capture_on_commit_callbacks):
    from cases.models import Party

    # one of Zhao's cases gets a new phone number: Zhao (by phone) is down to 2 disputes
    p = Party.objects.get(case=world["zhao"][0])
    with django_capture_on_commit_callbacks(execute=True):
        p.phone = "13600009999"
        p.save()
    assert CaseWarning.objects.get(pk=world["zhao"][1].pk).facts["当事人最多纠纷数"] == 2
    assert_same_as_full_recompute()


def test_a_case_turning_red_moves_its_people_only(world, django_capture_on_commit_callbacks):
    from cases.models import MediationLog
    from extensions.escalation.models import WarningRule

    # the shipped 涉红色预警案件 party rule is off (issue 19: no contagion); a site may enable it —
    # saved as the rule screen saves it, and applied to everyone by the next daily run
    rule = WarningRule.objects.get(code="party_red_case")
    rule.enabled = True
    rule.save()
    evaluate.evaluate_all(notify=False)
    with django_capture_on_commit_callbacks(execute=True):
        MediationLog.objects.create(case=world["both"], content="一方扬言要持刀报复")
    assert CaseWarning.objects.get(pk=world["both"].pk).level == "red"
    assert PartyWarning.objects.get(name="王五").level == "red"  # 红色案件数 ≥ 1
    assert PartyWarning.objects.get(name="赵六").level == "red"
    assert_same_as_full_recompute()


def test_an_edit_that_leaves_the_parties_alone_touches_nobody_else(
        world, django_capture_on_commit_callbacks, monkeypatch):
    from extensions.escalation import party

    cases_seen, people_seen = [], []
    real_cases, real_persons = evaluate.evaluate_cases, party.evaluate_persons

    def spy_cases(pks, **kw):
        cases_seen.append(sorted(pks))
        return real_cases(pks, **kw)

    def spy_persons(keys, **kw):
        people_seen.append(set(keys))
        return real_persons(keys, **kw)

    monkeypatch.setattr(evaluate, "evaluate_cases", spy_cases)
    monkeypatch.setattr(party, "evaluate_persons", spy_persons)
    case = world["li"][0]
    with django_capture_on_commit_callbacks(execute=True):
        case.title += "（补充材料）"
        case.save()
    assert cases_seen == [[case.pk]]
    assert len(people_seen) == 1 and len(people_seen[0]) == 1  # Li alone
    assert_same_as_full_recompute()


# --- ingest chunks ---------------------------------------------------------------------------------
def _police_calls(tmp_path, n: int, phone: str):
    import json

    when = timezone.localtime() - dt.timedelta(days=1)
    path = tmp_path / "police110.jsonl"
    path.write_text("\n".join(json.dumps({
        "警情编号": f"POL20261125{i:05d}", "报警时间": when.strftime("%Y/%m/%d %H:%M"), "报警人": "李四",
        "联系电话": phone, "警情类别": "纠纷-邻里纠纷", "简要警情": f"报警人李四称与邻居发生争执第{i}次",
        "发生地点": "湖滨社区文化路18号", "处理结果": "现场调解"}, ensure_ascii=False) for i in range(n)),
        encoding="utf-8")
    return path


def _ingest(path, capture):
    from clues.ingest import ingest
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])
    with capture(execute=True):
        ingest("police110", path, origin="command")


def test_an_ingest_chunk_updates_the_list_at_once_under_tests(world, tmp_path, django_capture_on_commit_callbacks):
    from lowcode import hooks

    assert hooks.queue_enabled() is False
    before = PartyWarning.objects.get(name="李四").facts
    assert before["报警次数"] == 0
    _ingest(_police_calls(tmp_path, 2, LI["phone"]), django_capture_on_commit_callbacks)
    w = PartyWarning.objects.get(name="李四")
    assert w.facts["报警次数"] == 2
    assert_same_as_full_recompute()


def test_with_a_worker_expected_the_chunk_is_queued_and_the_task_catches_up(
        world, tmp_path, django_capture_on_commit_callbacks, settings, monkeypatch):
    import django_q.tasks
    from django.utils.module_loading import import_string

    settings.HOOKS_QUEUE = True
    queued = []
    monkeypatch.setattr(django_q.tasks, "async_task", lambda func, *args, **kw: queued.append((func, args, kw)))
    _ingest(_police_calls(tmp_path, 2, LI["phone"]), django_capture_on_commit_callbacks)
    assert [args[0] for _, args, _ in queued] == ["records_ingested"]  # one task for the chunk
    assert PartyWarning.objects.get(name="李四").facts["报警次数"] == 0  # the ingest did not pay for it
    for func, args, _ in queued:  # what the worker does
        import_string(func)(*args)
    assert PartyWarning.objects.get(name="李四").facts["报警次数"] == 2
