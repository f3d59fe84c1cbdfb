"""Issue 19: the duplicate and warning models on data they were not tuned on.

Duplicate model: anonymised counterparties (某装修公司, XX公司, 该公司) and phrases ending in a
unit word (电梯长期故障拒交物业费) name no unit, so two templated complaints against two unnamed
shops are not 同案不同人; a group needs a real anchor, and says which; a short 110 record is
matched on time, place and phone.

Warnings: reports counted around the dispute's own time, amounts read from the text, group size
from the duplicate model's 同案不同人 group, overdue only where the case is handled locally, and
a person's colour from their own pattern (no contagion from an overdue case)."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from extensions.dedup import features, score
from extensions.dedup.conf import Conf

T0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(scope="module")
def conf():
    return Conf.from_shipped()


def rec(key, text, *, channel="hotline12345", address="", parties=(), day=0, case_type="consumer", title=""):
    return {"key": key, "kind": "clue", "obj_id": 1, "channel": channel, "region_path": "", "case_type": case_type,
            "reported_at": T0 + dt.timedelta(days=day), "title": title, "text": text, "address": address,
            "address_id": None, "parties": list(parties)}


def person(name="", surname="", phone="", phone_bidx="", id_bidx=""):
    return {"name": name, "known": bool(name), "surname": surname or name[:1], "id_bidx": id_bidx,
            "phone_bidx": phone_bidx, "phone": phone}


def verdict(conf, a, b):
    return score.compare(features.build(a, conf), features.build(b, conf), conf)


# --- placeholders and phrases ------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["被某装修公司拖欠工程款", "XX公司欠薪三个月", "该公司起诉催缴", "在某健身房办卡",
                                  "投诉楼下某烧烤店", "在XX健身房充值", "这家店关门了"])
def test_a_placeholder_counterparty_is_no_unit_name(text):
    assert features.employers(text) == []


def test_a_phrase_ending_in_a_unit_word_is_no_unit_name():
    assert features.employers("业主称电梯长期故障拒交物业费，物业上门催费") == []
    # a real name in the same sentence still is one
    assert features.employers("电梯长期故障拒交物业费，隆盛物业服务有限公司停止门禁") == ["隆盛物业"]
    assert features.employers("在众诚装饰工程有限公司打工") == ["众诚装饰工程"]


def test_two_prepaid_card_complaints_against_unnamed_shops_are_not_similar(conf):
    a = rec("minhu:1", "王芳在某健身房办卡充值3000元，现门店关门跑路，要求退款", address="中山路12号翡翠城3幢",
            parties=[person("王芳", phone_bidx="p1")])
    b = rec("minhu:2", "李强在某健身房办卡充值5000元，现门店关门跑路，要求退款", address="建设路80号御景园9幢",
            parties=[person("李强", phone_bidx="p2")], day=3)
    v, _, reasons = verdict(conf, a, b)
    assert v is None, reasons


def test_stock_phrase_complaints_in_two_estates_are_not_similar(conf):
    a = rec("jczz:1", "香樟园业主来电：电梯长期故障拒交物业费，物业上门催费", address="香樟园5幢",
            parties=[person("赵敏")], case_type="property")
    b = rec("jczz:2", "天悦小区业主来电：电梯长期故障拒交物业费，物业上门催费", address="天悦小区4幢",
            parties=[person("钱伟")], case_type="property", day=2)
    v, _, reasons = verdict(conf, a, b)
    assert v is None, reasons
    assert not any(r.startswith("涉及单位一致") for r in reasons)


def test_workers_of_one_named_employer_are_similar_and_the_reason_names_the_anchor(conf):
    a = rec("province:1", "周杰诉称：其在鼎盛鸿泽制衣厂工作期间被拖欠工资8100元，共3个月", address="工农路158号香樟园9幢",
            parties=[person("周杰", id_bidx="i1")], case_type="labor_wage")
    b = rec("xltj:2", "关于吴涛与鼎盛鸿泽制衣厂劳动报酬争议：该厂拖欠13400元未付", address="香樟园9幢",
            parties=[person("吴涛", id_bidx="i2")], case_type="labor_wage", day=4)
    v, _, reasons = verdict(conf, a, b)
    assert v == "similar"
    assert reasons[:2] == ["同案不同人", "共同锚点：同一具名单位"]


def test_the_same_placeholder_employer_at_two_sites_is_no_group(conf):
    a = rec("province:1", "周杰诉称：其在某劳务公司工作期间被拖欠工资8100元", address="工农路158号香樟园9幢",
            parties=[person("周杰", id_bidx="i1")], case_type="labor_wage")
    b = rec("xltj:2", "吴涛诉称：其在某劳务公司工作期间被拖欠工资6100元", address="人民大道7号星河湾2幢",
            parties=[person("吴涛", id_bidx="i2")], case_type="labor_wage", day=2)
    assert verdict(conf, a, b)[0] is None


# --- police and other short records ------------------------------------------------------------------
def case_report(day=0):
    return rec("odr:1", "邻里纠纷：楼上卜辰家卫生间漏水，泡坏张伟家天花板，要求赔偿8600元，双方协商不成",
               channel="odr", address="和平路204号丽景苑16幢2单元1504室", case_type="neighbor", day=day,
               parties=[person("张伟", phone="135****8462", id_bidx="i9")])


def test_a_110_call_with_the_callers_phone_is_the_same_dispute(conf):
    call = rec("police110:1", "张先生报警：因漏水与对方发生口角。", channel="police110", case_type="",
               address="丽景苑16幢2单元", day=2, parties=[person("", surname="张", phone="13577778462", phone_bidx="p7")])
    v, _, reasons = verdict(conf, case_report(), call)
    assert v == "same", reasons


def test_a_110_call_with_only_a_surname_at_the_building_is_the_same_dispute(conf):
    call = rec("police110:1", "报警称与人因漏水发生纠纷，请求处理。", channel="police110", case_type="",
               address="丽景苑16幢", day=1, parties=[person("", surname="张", phone_bidx="p8")])
    assert verdict(conf, case_report(), call)[0] == "same"


def test_the_same_caller_weeks_later_is_another_matter(conf):
    call = rec("police110:1", "张先生报警：因漏水与对方发生口角。", channel="police110", case_type="",
               address="丽景苑16幢2单元", day=40, parties=[person("", surname="张", phone="13577778462")])
    assert verdict(conf, case_report(), call)[0] != "same"


def test_a_short_call_by_a_same_surname_elsewhere_is_not_the_same(conf):
    call = rec("police110:1", "报警称与人因漏水发生纠纷，请求处理。", channel="police110", case_type="",
               address="星河湾3幢", day=1, parties=[person("", surname="张", phone_bidx="p8")])
    assert verdict(conf, case_report(), call)[0] is None


# --- warning facts -----------------------------------------------------------------------------------
def test_amounts_are_read_from_the_text():
    from extensions.escalation.facts import text_amounts

    assert text_amounts("涉及金额约41000元") == [41000.0]
    assert text_amounts("欠薪１.２万，共3个月") == [12000.0]
    assert text_amounts("拖欠3个月，5人") == []


PERSON = {"name": "韩梅", "id_number": "330102199001011237", "phone": "13911112222"}


@pytest.fixture
def warn(make_case):
    from extensions.escalation import evaluate
    from extensions.escalation.models import CaseWarning

    def run(*cases):
        evaluate.evaluate_cases([c.pk for c in cases])
        return [CaseWarning.objects.get(pk=c.pk) for c in cases]
    return run


@pytest.mark.django_db
def test_an_amount_written_in_the_text_makes_a_large_amount_case_orange(make_case, warn):
    case = make_case(description="拖欠工程款，涉及金额约12.5万元", parties=[dict(PERSON)],
                     deadline=timezone.now() + dt.timedelta(days=10))
    w, = warn(case)
    assert w.facts["涉及金额"] == 125000
    assert w.level == "orange" and any("涉及金额" in r for r in w.reasons)


@pytest.mark.django_db
def test_reports_are_counted_around_the_disputes_own_time(make_case):
    from extensions.dedup.api import RecordRef
    from extensions.escalation import config, facts, party

    spring = timezone.now() - dt.timedelta(days=200)
    case = make_case(parties=[dict(PERSON)], registered_at=spring, deadline=spring + dt.timedelta(days=30))
    party.sync_links([case])
    facts.load([case])
    refs = [RecordRef(kind="clue", pk=i, key=f"police110:{i}", channel=ch, reported_at=spring + dt.timedelta(days=i),
                      verdict="same", score=0.9, confirmed=False)
            for i, ch in ((1, "police110"), (2, "hotline12345"), (3, "police110"))]
    ctx = facts.Context(config.load())
    f = facts.case_facts(case, ctx, 30, {}, refs)
    assert (f["报告次数"], f["报警次数"]) == (4, 2)
    assert (f["近期报告次数"], f["近期报警次数"]) == (0, 0)
    late = RecordRef(kind="clue", pk=9, key="minhu:9", channel="minhu", reported_at=timezone.now(),
                     verdict="same", score=0.9, confirmed=False)
    f = facts.case_facts(case, ctx, 30, {}, refs + [late])
    assert f["报告次数"] == 4 and f["近期报告次数"] == 1


@pytest.mark.django_db
def test_a_group_filed_worker_by_worker_counts_its_workers(make_case, warn):
    from extensions.dedup.api import keys_of
    from extensions.dedup.models import Pair

    workers = [make_case(case_type="labor_wage", description=f"被宏达制衣厂拖欠工资{3000 + i}元",
                         parties=[{"name": n, "phone": f"1390000000{i}"}], deadline=timezone.now() + dt.timedelta(days=9))
               for i, n in enumerate(("甲一", "乙二", "丙三"))]
    keys = sorted(keys_of("case", [c.pk for c in workers]).values())
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            Pair.objects.create(a_key=a, b_key=b, verdict="similar", score=0.8,
                                reasons=["同案不同人", "共同锚点：同一具名单位"])
    ws = warn(*workers)
    assert [w.facts["同案人数"] for w in ws] == [3, 3, 3]
    assert all(w.level == "orange" for w in ws)
    assert "同案不同人" in "；".join(ws[0].reasons)
    # a rejected verdict does not count
    Pair.objects.filter(a_key=keys[0]).update(status="rejected")
    ws = warn(*workers)
    assert ws[0].facts["同案人数"] == 1 and ws[0].level == "green"


@pytest.mark.django_db
def test_an_aggregated_case_handled_on_its_source_platform_is_not_overdue_here(make_case, warn):
    late = timezone.now() - dt.timedelta(days=40)
    agg = make_case(source="province", extra={"aggregation": {"record_key": "province:P1"}}, parties=[dict(PERSON)],
                    registered_at=late, deadline=late + dt.timedelta(days=10))
    local = make_case(parties=[{"name": "李雷", "phone": "13700001111"}], registered_at=late,
                      deadline=late + dt.timedelta(days=10))
    w_agg, w_local = warn(agg, local)
    assert w_agg.facts["来源平台办理"] and not w_agg.facts["已超期"] and w_agg.level == "green"
    assert w_local.facts["已超期"] and w_local.level == "orange"
    # once worked on here, our time limit applies
    from cases.models import MediationLog

    MediationLog.objects.create(case=agg, content="本地介入调解")
    w_agg, = warn(agg)
    assert w_agg.facts["已超期"] and w_agg.level == "orange"


@pytest.mark.django_db
def test_a_person_does_not_inherit_orange_from_an_overdue_case(make_case):
    from extensions.escalation import evaluate, party
    from cases.models import HelpRequest
    from extensions.escalation.models import PartyWarning

    late = timezone.now() - dt.timedelta(days=25)
    overdue = make_case(parties=[dict(PERSON)], registered_at=late, deadline=late + dt.timedelta(days=5))
    report = evaluate.evaluate_cases([overdue.pk])
    party.evaluate_persons(report.persons)
    assert not PartyWarning.objects.filter(name="韩梅").exists()  # one overdue case: the case's matter
    # the person's own pattern: a second dispute, one of them escalated
    second = make_case(parties=[dict(PERSON)], deadline=timezone.now() + dt.timedelta(days=5))
    HelpRequest.objects.create(case=second, kind="escalate", reason="调解不成")
    report = evaluate.evaluate_cases([overdue.pk, second.pk])
    party.evaluate_persons(report.persons)
    w = PartyWarning.objects.get(name="韩梅")
    assert w.level == "orange" and "提级或调解失败 1 件" in "；".join(w.reasons)


# --- staff feedback and the calibration report -----------------------------------------------------
@pytest.mark.django_db
def test_dedup_feedback_reports_precision_per_verdict_kind_and_channel_pair(tmp_path):
    import json

    from django.core.management import call_command
    from django.core.management.base import CommandError
    from io import StringIO

    from extensions.dedup.models import Pair

    for i, status in enumerate(("confirmed", "confirmed", "confirmed", "rejected")):
        Pair.objects.create(a_key=f"odr:{i}", b_key=f"police110:{i}", verdict="same", score=0.8, reasons=[], status=status)
    Pair.objects.create(a_key="jczz:1", b_key="minhu:1", verdict="similar", score=0.7, status="rejected",
                        reasons=["同案不同人", "共同锚点：同一楼栋/门牌"])
    Pair.objects.create(a_key="jczz:2", b_key="minhu:2", verdict="similar", score=0.7, status="proposed",
                        reasons=["同案不同人"])  # not decided: no label
    out = StringIO()
    labels = tmp_path / "labels.jsonl"
    call_command("dedup_feedback", "--labels-out", str(labels), stdout=out)
    text = out.getvalue()
    assert "同一案件\todr ~ police110\t3\t1\t75.0%" in text
    assert "同案不同人\tjczz ~ minhu\t0\t1\t0.0%" in text
    assert len(labels.read_text().splitlines()) == 5
    out = StringIO()
    call_command("dedup_feedback", "--format", "json", stdout=out)
    rows = [json.loads(x) for x in out.getvalue().splitlines()]
    assert {"kind": "同一案件", "channels": "合计", "confirmed": 3, "rejected": 1, "precision": 0.75} in rows
    with pytest.raises(CommandError, match="时间格式不对"):
        call_command("dedup_feedback", "--since", "昨天")


@pytest.fixture
def two_cases(make_case):
    from extensions.escalation import evaluate

    late = timezone.now() - dt.timedelta(days=40)
    overdue = make_case(parties=[dict(PERSON)], registered_at=late, deadline=late + dt.timedelta(days=10))
    quiet = make_case(case_type="labor_wage", parties=[{"name": "李雷", "phone": "13700001111"}],
                      deadline=timezone.now() + dt.timedelta(days=10))
    evaluate.evaluate_cases([overdue.pk, quiet.pk])
    return overdue, quiet


@pytest.mark.django_db
def test_the_calibration_command_shows_colours_by_type_and_a_rule_change(two_cases, tmp_path):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    out = StringIO()
    call_command("warning_calibration", "--by", "case_type", stdout=out)
    text = out.getvalue()
    assert "全部 2 件" in text and "严重超期 1（50%）" in text
    rules = tmp_path / "rules.yaml"
    rules.write_text("- code: long_overdue\n  condition: 超期天数 >= 60\n", encoding="utf-8")
    out = StringIO()
    call_command("warning_calibration", "--rules", str(rules), stdout=out)
    assert "规则修改后变色 1 件" in out.getvalue()
    rules.write_text("- code: long_overdue\n  condition: 不存在的事实 >= 60\n", encoding="utf-8")
    with pytest.raises(CommandError, match="规则 long_overdue"):
        call_command("warning_calibration", "--rules", str(rules))


@pytest.mark.django_db
def test_the_calibration_page_compares_a_pasted_rule_change(two_cases, client_for):
    from django.urls import reverse

    c = client_for("demo_district")
    url = reverse("admin:escalation_casewarning_calibration")
    page = c.get(url).content.decode()
    assert "预警校准报告" in page and "严重超期" in page
    page = c.post(url, {"rules": "- code: long_overdue\n  condition: 超期天数 >= 60\n"}).content.decode()
    assert "规则修改后变色 1 件" in page
    page = c.post(url, {"rules": "- [不是规则"}).content.decode()
    assert "YAML 格式错误" in page or "应为规则或参数的列表" in page
    page = c.post(url, {"rules": "  "}).content.decode()
    assert "请先粘贴修改后的规则或参数" in page  # an empty comparison says why nothing changed
