"""考核评价 (issue #14): formulas, normalisation, cap, direction and weights on hand-computed
fixtures; indicators changed in the admin change the ranking without restart; snapshots are
immutable once their period is closed (recompute explicit and audited); scope; padding; Excel."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessment import scoring


def spec(**kw):
    base = {"code": "x", "name": "X", "dimension": "mediator", "formula": "办结数", "weight": 1, "direction": "higher",
            "normalisation": "target", "target": None, "worst": None, "cap": None, "period": "any", "description": ""}
    base.update(kw)
    return base


def facts(**by_unit):
    """Units with facts by code; every other additive fact 0 (derived facts computed)."""
    from assessment import facts as facts_mod

    return {k: facts_mod.complete("mediator", v) for k, v in by_unit.items()}


# --- pure scoring (no database) ---------------------------------------------------------------------
def test_target_normalisation_higher_and_lower_is_linear_between_worst_and_target_and_clamped():
    s = spec(formula="成功率", target=90, worst=40)
    raws = {"a": 65.0, "b": 95.0, "c": 30.0, "d": None}
    assert scoring.normalise(s, raws) == {"a": 50.0, "b": 100.0, "c": 0.0, "d": 0.0}
    low = spec(formula="平均办理天数", direction="lower", target=7, worst=30)
    assert scoring.normalise(low, {"a": 18.5, "b": 5.0, "c": 40.0}) == {"a": 50.0, "b": 100.0, "c": 0.0}


def test_minmax_and_rank_normalisation_follow_the_direction():
    raws = {"a": 10.0, "b": 20.0, "c": 30.0}
    assert scoring.normalise(spec(normalisation="minmax"), raws) == {"a": 0.0, "b": 50.0, "c": 100.0}
    assert scoring.normalise(spec(normalisation="minmax", direction="lower"), raws) == {"a": 100.0, "b": 50.0, "c": 0.0}
    ranked = scoring.normalise(spec(normalisation="rank"), {"a": 10.0, "b": 20.0, "c": 20.0, "d": 40.0})
    assert ranked == pytest.approx({"a": 0.0, "b": 200 / 3, "c": 200 / 3, "d": 100.0})
    lower = scoring.normalise(spec(normalisation="rank", direction="lower"), {"a": 10.0, "b": 20.0, "d": 40.0})
    assert lower == {"a": 100.0, "b": 50.0, "d": 0.0}


def test_saturating_volume_gives_diminishing_returns_and_cap_truncates_before_normalising():
    sat = spec(normalisation="saturating", target=15)
    assert scoring.normalise(sat, {"a": 15.0, "b": 45.0, "c": 0.0}) == {"a": 50.0, "b": 75.0, "c": 0.0}
    capped = spec(normalisation="saturating", target=15, cap=60)
    f = facts(a={"closed": 100, "registered": 100}, b={"closed": 60, "registered": 60})
    scored = scoring.score_units([capped], "mediator", f)
    assert scored["a"].values["x"] == {"raw": 60.0, "score": 80.0}  # 100 capped at 60 → 100·60/75
    assert scored["a"].score == scored["b"].score == 80.0             # padding beyond the cap earns nothing


def test_formula_kinds_plain_fact_arithmetic_function_condition_and_missing_rate():
    f = facts(a={"registered": 20, "escalated": 5, "with_result": 10, "success": 9, "logs": 50},
              b={"registered": 0})
    names = {k: scoring.values_for_formula("mediator", v) for k, v in f.items()}
    assert scoring.raw_value(spec(formula="成功率"), names["a"]) == 90.0
    assert scoring.raw_value(spec(formula="提级数 * 100 / max(登记数, 1)"), names["a"]) == 25.0
    assert scoring.raw_value(spec(formula="min(件均日志数, 2)"), names["a"]) == 2.0
    assert scoring.raw_value(spec(formula="100 if 成功率 >= 90 else 0"), names["a"]) == 100.0
    assert scoring.raw_value(spec(formula="success_rate"), names["a"]) == 90.0  # the code works too
    assert scoring.raw_value(spec(formula="成功率"), names["b"]) is None          # no results: no value, 0 points
    assert scoring.raw_value(spec(formula="日志数 / 登记数"), names["b"]) is None   # division by zero: no value


def test_total_is_the_weighted_mean_plus_manual_points_and_ties_share_a_rank():
    one = spec(code="one", formula="成功率", target=100, worst=0, weight=1)
    three = spec(code="three", formula="办结数", normalisation="target", target=10, weight=3)
    f = facts(a={"with_result": 1, "success": 1, "closed": 0},      # 100·1 + 0·3 → 25
              b={"with_result": 1, "success": 0, "closed": 10},     # 0·1 + 100·3 → 75
              c={"with_result": 1, "success": 1, "closed": 0})
    scored = scoring.score_units([one, three], "mediator", f, manual={"c": 5})
    assert (scored["a"].score, scored["b"].score, scored["c"].score) == (25.0, 75.0, 30.0)
    assert (scored["b"].rank, scored["c"].rank, scored["a"].rank) == (1, 2, 3)
    tie = scoring.score_units([one], "mediator", facts(a={"with_result": 1, "success": 1},
                                                        b={"with_result": 1, "success": 1}, c={}))
    assert sorted(s.rank for s in tie.values()) == [1, 1, 3]


def test_indicator_validation_messages_are_chinese():
    from assessment.models import Indicator

    bad = Indicator(code="bad", name="坏", dimension="mediator", formula="不存在的事实 + 1", weight=1,
                    normalisation="target", direction="lower", target=7)
    errors = scoring.validate_indicator(bad)
    assert "未知字段" in errors["formula"] and "最差值" in errors["worst"]
    assert "目标值" in scoring.validate_indicator(Indicator(code="s", name="s", dimension="mediator", formula="办结数",
                                                         weight=1, normalisation="saturating"))["target"]


# --- database ------------------------------------------------------------------------------------------
@pytest.fixture
def people(world):
    from accounts import roles
    from accounts.models import User
    from orgs.models import Region

    hubin = Region.objects.get(name="湖滨社区")
    other = Region.objects.filter(level=Region.Level.COMMUNITY).exclude(path__startswith=hubin.parent.path).first()
    a = User.objects.get(username="demo_mediator")
    b = User.objects.create(username="as_other", display_name="外街道调解员", region=other)
    b.groups.add(roles.group("mediator"))
    return {"a": a, "b": b, "hubin": hubin, "other": other}


TITLES = ["装修噪音纠纷", "宠物伤人纠纷", "停车位争议", "漏水赔偿纠纷", "赡养费纠纷", "工资拖欠纠纷"]
TEXTS = ["楼上住户装修噪音扰民，多次协商未果", "邻居饲养的犬只咬伤小孩，就医疗费发生争执",
         "小区公共车位被长期占用，双方互不相让", "卫生间渗水导致楼下天花板受损，要求赔偿",
         "子女之间对父母赡养费分摊意见不一", "某装饰公司拖欠三名工人两个月工资"]


def _cases(make_case, user, region, when, n, success=0):
    """n cases registered by ``user``; the first ``success`` mediated successfully, the rest failed."""
    from cases.models import MediationResult

    made = []
    for i in range(n):
        c = make_case(region_name=region.name, registrant=user, registered_at=when, title=TITLES[i],
                      description=TEXTS[i])
        MediationResult.objects.create(case=c, outcome="success" if i < success else "failed")
        made.append(c)
    return made


def _month(offset=0):
    from assessment import periods

    p = periods.containing("month", timezone.localdate())
    for _ in range(-offset):
        p = p.previous()
    return p


def _when(period):
    start, _ = period.bounds()
    return start + dt.timedelta(hours=10)


def _only(indicators_code_weight):
    """Keep only the given mediator indicators enabled (site changes, as an admin would make)."""
    from assessment.models import Indicator

    Indicator.objects.filter(dimension="mediator").update(enabled=False)
    for code, weight in indicators_code_weight:
        Indicator.objects.filter(code=code).update(enabled=True, weight=weight)


@pytest.mark.backend  # GROUP BY aggregates, a sum of durations (handling days), date ranges
def test_compute_stores_facts_scores_and_rank_change(people, make_case):
    from assessment import compute
    from cases.models import Review

    last, before = _month(-1), _month(-2)
    _only([("mediator_success", 1)])
    _cases(make_case, people["a"], people["hubin"], _when(before), 2, success=0)
    _cases(make_case, people["b"], people["other"], _when(before), 2, success=2)
    mine = _cases(make_case, people["a"], people["hubin"], _when(last), 4, success=3)  # 75% → (75−40)/(90−40) = 70
    _cases(make_case, people["b"], people["other"], _when(last), 2, success=1)   # 50% → 20
    for case, days in zip(mine, (4, 6)):  # result reviews approved 4 and 6 days after registration
        Review.objects.create(case=case, kind="result", state="pending_review", status="approve",
                              decided_at=case.registered_at + dt.timedelta(days=days))
    compute.compute_period(before, ["mediator"])
    snap = compute.compute_period(last, ["mediator"])[0]
    rows = {r.key: r for r in compute.ranking(snap)}
    a, b = rows[str(people["a"].pk)], rows[str(people["b"].pk)]
    assert a.facts["registered"] == 4 and a.facts["success"] == 3 and a.facts["success_rate"] == 75.0
    assert a.facts["handled"] == 2 and a.facts["avg_days"] == 5.0 and b.facts["avg_days"] is None
    assert (a.score, b.score) == (70.0, 20.0)
    assert (a.rank, a.prev_rank, a.change) == (1, 2, 1)
    assert (b.rank, b.prev_rank, b.change) == (2, 1, -1)
    assert snap.status == "closed"


def test_ranking_page_scope_and_drill_down(people, make_case, client_for):
    from assessment import compute

    last = _month(-1)
    _only([("mediator_success", 1)])
    mine = _cases(make_case, people["a"], people["hubin"], _when(last), 3, success=1)
    _cases(make_case, people["b"], people["other"], _when(last), 2, success=2)
    compute.compute_period(last)
    district = client_for("demo_district").get(f"/assessment/mediator/?period={last.key}").content.decode()
    assert "湖滨社区调解员" in district and "外街道调解员" in district
    street = client_for("demo_street").get(f"/assessment/mediator/?period={last.key}").content.decode()
    assert "湖滨社区调解员" in street and "外街道调解员" not in street
    assert client_for("demo_street").get(f"/assessment/street/?period={last.key}").status_code == 200
    # a mediator sees the community's ranking, not the street's
    assert client_for("demo_mediator").get(f"/assessment/street/?period={last.key}").status_code == 404
    # drill: the cases behind 成功数 of this mediator
    page = client_for("demo_district").get(
        f"/assessment/mediator/unit/?unit={people['a'].pk}&period={last.key}&fact=success_rate").content.decode()
    assert mine[0].exchange_id in page and mine[1].exchange_id not in page
    # outside the scope: 404, never the figures
    assert client_for("demo_street").get(
        f"/assessment/mediator/unit/?unit={people['b'].pk}&period={last.key}").status_code == 404
    # a department sees only its own department
    dept = client_for("demo_dept")
    assert dept.get(f"/assessment/mediator/?period={last.key}").status_code == 404
    body = dept.get(f"/assessment/dept/?period={last.key}").content.decode()
    assert "人力资源和社会保障局" in body and "对象" in body
    # bad input: a Chinese message, not a 500
    bad = client_for("demo_district").get("/assessment/mediator/?period=2026-13", follow=True)
    assert bad.status_code == 200 and "期间格式不正确" in bad.content.decode()


def test_ranking_pages_are_ranked_paged_and_scoped_in_the_database(people, make_case, client_for, monkeypatch):
    from accounts import roles
    from accounts.models import User
    from assessment import compute, views

    last = _month(-1)
    _only([("mediator_success", 1)])
    c = User.objects.create(username="as_third", display_name="湖滨第二调解员", region=people["hubin"])
    c.groups.add(roles.group("mediator"))
    _cases(make_case, people["a"], people["hubin"], _when(last), 4, success=4)  # 100 → rank 1
    _cases(make_case, people["b"], people["other"], _when(last), 4, success=3)  # 75 → rank 2
    _cases(make_case, c, people["hubin"], _when(last), 4, success=2)            # 50 → rank 3
    compute.compute_period(last, ["mediator"])
    monkeypatch.setattr(views, "PAGE_SIZE", 1)
    district = client_for("demo_district")
    pages = [district.get(f"/assessment/mediator/?period={last.key}&page={n}").content.decode() for n in (1, 2, 3)]
    names = ["湖滨社区调解员", "外街道调解员", "湖滨第二调解员"]
    for n, page in enumerate(pages):
        assert names[n] in page and not any(other in page for other in names if other != names[n])
    mediators = compute.Snapshot.objects.get(dimension="mediator", period_key=last.key).unit_count
    assert f"共 {mediators} 个对象" in pages[0]
    # a street user's pages hold only the street's mediators, still in rank order
    street = client_for("demo_street")
    second = street.get(f"/assessment/mediator/?period={last.key}&page=2").content.decode()
    assert "湖滨第二调解员" in second and "外街道调解员" not in second and "湖滨社区调解员" not in second
    count = sum(1 for u in User.objects.filter(groups=roles.group("mediator"))
                if u.region_id and u.region.path.startswith(people["hubin"].parent.path))
    assert f"共 {count} 个对象" in second


def test_admin_adds_an_indicator_and_changes_a_weight_and_the_open_ranking_follows(people, make_case, client_for):
    from assessment import compute
    from assessment.models import Indicator

    now = _month(0)
    _only([("mediator_success", 1)])
    _cases(make_case, people["a"], people["hubin"], timezone.now() - dt.timedelta(minutes=5), 4, success=4)
    _cases(make_case, people["b"], people["other"], timezone.now() - dt.timedelta(minutes=5), 1, success=0)
    compute.compute_period(now, ["mediator"])

    def rank_of(user):
        snap = compute.Snapshot.objects.get(dimension="mediator", period_key=now.key)
        return {r.key: r for r in compute.ranking(snap)}[str(user.pk)]

    assert rank_of(people["a"]).rank == 1 and rank_of(people["b"]).score == 0
    admin = client_for("demo_config")
    # a new indicator: fewer cases is better (lower, min–max), weight 3 → b wins
    r = admin.post("/admin/assessment/indicator/add/", {
        "code": "fewer", "name": "少登记", "dimension": "mediator", "formula": "登记数", "weight": "3",
        "direction": "lower", "normalisation": "minmax", "period": "any", "sort": "99", "enabled": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert (rank_of(people["a"]).score, rank_of(people["b"]).score) == (25.0, 75.0)
    assert rank_of(people["b"]).rank == 1
    page = client_for("demo_district").get(f"/assessment/mediator/?period={now.key}").content.decode()
    assert "少登记" in page
    # the business admin lowers its weight to 0.5: a is first again (100·1 + 0·0.5)/1.5
    ind = Indicator.objects.get(code="fewer")
    r = admin.post(f"/admin/assessment/indicator/{ind.pk}/change/", {
        "code": "fewer", "name": "少登记", "dimension": "mediator", "formula": "登记数", "weight": "0.5",
        "direction": "lower", "normalisation": "minmax", "period": "any", "sort": "99", "enabled": "on"})
    assert r.status_code == 302
    assert (rank_of(people["a"]).score, rank_of(people["a"]).rank) == (66.67, 1)
    # the re-scored rows were written back once: the next page reads them as stored
    from assessment.models import SnapshotRow

    snap = compute.Snapshot.objects.get(dimension="mediator", period_key=now.key)
    assert SnapshotRow.objects.get(snapshot=snap, unit_key=str(people["a"].pk)).score == 66.67
    with CaptureQueriesContext(connection) as queries:
        compute.ensure_scored(snap)
    assert not [q for q in queries.captured_queries if q["sql"].startswith("UPDATE")]
    # a bad formula is refused with a Chinese message, nothing saved
    r = admin.post(f"/admin/assessment/indicator/{ind.pk}/change/", {
        "code": "fewer", "name": "少登记", "dimension": "mediator", "formula": "登记数 +", "weight": "0.5",
        "direction": "lower", "normalisation": "minmax", "period": "any", "sort": "99", "enabled": "on"})
    assert r.status_code == 200 and "语法错误" in r.content.decode()
    assert Indicator.objects.get(code="fewer").formula == "登记数"


def test_preview_shows_last_months_ranking_with_the_edited_weights_beside_the_current(people, make_case, client_for):
    from assessment import compute
    from assessment.models import Indicator

    last = _month(-1)
    _only([("mediator_success", 1), ("mediator_volume", 0)])
    _cases(make_case, people["a"], people["hubin"], _when(last), 1, success=1)   # 100% success, 1 case
    _cases(make_case, people["b"], people["other"], _when(last), 6, success=3)   # 50%, 6 cases
    compute.compute_period(last, ["mediator"])
    ind = Indicator.objects.get(code="mediator_volume")
    r = client_for("demo_config").post(f"/admin/assessment/indicator/{ind.pk}/change/", {
        "_preview": "1", "code": ind.code, "name": ind.name, "dimension": "mediator", "formula": "登记数",
        "weight": "10", "direction": "higher", "normalisation": "minmax", "period": "any", "sort": "10",
        "enabled": "on"})
    body = r.content.decode()
    assert r.status_code == 200 and "预览" in body and "修改后排名" in body
    rows = body.split('class="preview-row"')[1:]
    assert "外街道调解员" in rows[0]          # with volume weighted 10, b leads
    assert Indicator.objects.get(pk=ind.pk).weight == 0  # nothing saved


def test_closed_snapshot_is_immutable_and_recompute_is_explicit_and_audited(people, make_case, client_for):
    from assessment import compute
    from assessment.models import Indicator, RecomputeLog
    from cases.models import MediationResult
    from secure.models import SecurityEvent

    last = _month(-1)
    _only([("mediator_success", 1)])
    cases = _cases(make_case, people["a"], people["hubin"], _when(last), 2, success=1)
    snap = compute.compute_period(last, ["mediator"])[0]
    before = {r.key: r.score for r in compute.ranking(snap)}[str(people["a"].pk)]
    MediationResult.objects.filter(case=cases[1]).update(outcome="success")   # data changes
    Indicator.objects.filter(code="mediator_success").update(target=50)       # and the indicator
    snap.refresh_from_db()
    assert {r.key: r.score for r in compute.ranking(snap)}[str(people["a"].pk)] == before
    client = client_for("demo_district")
    r = client.post("/assessment/compute/", {"dimension": "mediator", "period": last.key}, follow=True)
    assert "已关闭" in r.content.decode()
    assert {r.key: r.score for r in compute.ranking(snap)}[str(people["a"].pk)] == before
    r = client.post("/assessment/compute/", {"dimension": "mediator", "period": last.key, "recompute": "1"},
                    follow=True)
    assert "须填写原因" in r.content.decode()
    r = client.post("/assessment/compute/", {"dimension": "mediator", "period": last.key, "recompute": "1",
                                             "reason": "补录调解结果"}, follow=True)
    snap.refresh_from_db()
    assert {r.key: r.score for r in compute.ranking(snap)}[str(people["a"].pk)] == 100.0
    log = RecomputeLog.objects.get(snapshot=snap)
    assert log.reason == "补录调解结果" and log.changed_units >= 1 and snap.recomputed == 1
    assert SecurityEvent.objects.filter(event="assessment_recompute").exists()
    # a user without the right cannot compute
    assert client_for("demo_mediator").post("/assessment/compute/", {"dimension": "mediator",
                                                                      "period": last.key}).status_code == 403


def test_excel_export_and_h5_personal_score(people, make_case, client_for):
    from openpyxl import load_workbook

    from assessment import compute

    last = _month(-1)
    _only([("mediator_success", 2)])
    _cases(make_case, people["a"], people["hubin"], _when(last), 4, success=3)
    _cases(make_case, people["b"], people["other"], _when(last), 2, success=1)
    compute.compute_period(last, ["mediator"])
    r = client_for("demo_street").get(f"/assessment/mediator/?period={last.key}&export=xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    ranking = [list(row) for row in wb["考核排名"].iter_rows(values_only=True)]
    assert ranking[1][:4] == ["排名", "上期排名", "变化", "对象"] and "调解成功率（得分）" in ranking[1]
    names = [row[3] for row in ranking[2:] if row and row[3]]
    assert "湖滨社区调解员" in names and "外街道调解员" not in names
    mine = next(row for row in ranking[2:] if row[3] == "湖滨社区调解员")
    assert mine[0] == 1 and mine[-1] == 70.0
    defs = [list(row) for row in wb["指标定义"].iter_rows(values_only=True)]
    assert defs[0][:4] == ["编码", "指标名称", "计算公式", "权重"]
    assert ["mediator_success", "调解成功率", "成功率", 2] == defs[1][:4]
    # the H5 个人中心 (slot h5.me_panels): my score, rank and what would raise it
    body = client_for("demo_mediator").get("/h5/me/").content.decode()
    assert "我的考核" in body and 'assessment-me-score">70' in body and 'assessment-me-rank">1/' in body
    assert "调解成功率（现 75" in body


def test_adjustment_is_approved_one_level_up_and_counts(people, make_case, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from assessment import compute
    from assessment.models import Adjustment

    last = _month(-1)
    _only([("mediator_success", 1)])
    _cases(make_case, people["a"], people["hubin"], _when(last), 4, success=3)
    street = client_for("demo_street")
    r = street.post("/admin/assessment/adjustment/add/", {
        "dimension": "mediator", "unit_key": str(people["a"].pk), "period_key": last.key, "points": "5",
        "reason": "化解重大矛盾受表彰", "evidence": SimpleUploadedFile("表彰.pdf", b"%PDF-1.4")})
    assert r.status_code == 302, r.content.decode()[:1500]
    adj = Adjustment.objects.get()
    street.post("/admin/assessment/adjustment/", {"action": "approve", "_selected_action": [adj.pk]})
    adj.refresh_from_db()
    assert adj.status == "pending"  # the street entered it: the district approves
    client_for("demo_district").post("/admin/assessment/adjustment/", {"action": "approve",
                                                                        "_selected_action": [adj.pk]})
    adj.refresh_from_db()
    assert adj.status == "approved"
    snap = compute.compute_period(last, ["mediator"], recompute=True, reason="加分")[0]
    assert {r.key: r for r in compute.ranking(snap)}[str(people["a"].pk)].score == 75.0


def test_padding_detector_flags_a_near_identical_case_of_the_same_person_and_not_another_persons(people, make_case):
    from assessment import compute, padding
    from assessment.models import PaddingFlag

    last = _month(-1)
    text = "楼上住户装修噪音扰民，多次协商未果，申请人要求停止夜间施工并赔偿损失"
    first = make_case(registrant=people["a"], registered_at=_when(last), title="装修噪音纠纷", description=text)
    copy = make_case(registrant=people["a"], registered_at=_when(last) + dt.timedelta(hours=1),
                     title="装修噪音纠纷", description=text + "。")
    make_case(registrant=people["a"], registered_at=_when(last), title="宠物伤人纠纷",
              description="邻居饲养的犬只咬伤申请人小孩，双方就医疗费用发生争执")
    other = make_case(region_name=people["other"].name, registrant=people["b"], registered_at=_when(last),
                      title="装修噪音纠纷", description=text)
    assert padding.detect(last) == 1
    flag = PaddingFlag.objects.get()
    assert (flag.case_id, flag.similar_to_id, flag.status) == (copy.pk, first.pk, "flagged")
    assert not PaddingFlag.objects.filter(case=other).exists()
    snap = compute.compute_period(last, ["mediator"])[0]
    assert {r.key: r for r in compute.ranking(snap)}[str(people["a"].pk)].facts["registered"] == 2
    assert padding.detect(last) == 0  # never flagged twice
    PaddingFlag.objects.update(status="cleared")  # a reviewer: not padding → counted again
    snap = compute.compute_period(last, ["mediator"], recompute=True, reason="复核后计分")[0]
    assert {r.key: r for r in compute.ranking(snap)}[str(people["a"].pk)].facts["registered"] == 3
    assert padding.detect(last) == 0  # a cleared case stays counted


def test_training_hours_of_the_roster_feed_the_yearly_training_indicator(people):
    from assessment import compute, periods
    from assessment.models import Indicator, TrainingRecord

    year = periods.containing("year", timezone.localdate()).previous()
    Indicator.objects.filter(dimension="mediator").exclude(code="mediator_training").update(enabled=False)
    TrainingRecord.objects.create(user=people["a"], title="人民调解业务培训", held_on=year.start, hours=12)
    TrainingRecord.objects.create(user=people["a"], title="法律知识讲座", held_on=year.start.replace(month=6), hours=8)
    TrainingRecord.objects.create(user=people["b"], title="下一年的培训", held_on=year.end, hours=50)
    snap = compute.compute_period(year, ["mediator"])[0]
    rows = {r.key: r for r in compute.ranking(snap)}
    a, b = rows[str(people["a"].pk)], rows[str(people["b"].pk)]
    assert a.facts["training_hours"] == 20 and a.values["mediator_training"] == {"raw": 20.0, "score": 50.0}
    assert b.facts["training_hours"] == 0 and b.score == 0
    assert TrainingRecord.objects.filter(user=people["a"]).first().region_path == people["a"].region.path
    # the monthly ranking does not use the yearly indicator
    month = compute.compute_period(periods.containing("month", year.start), ["mediator"])[0]
    assert [s["code"] for s in month.indicators] == []
