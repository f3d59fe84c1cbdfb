"""研判 (issue 13): the rollups (daily and monthly) equal live counts after every kind of write;
every figure equals a direct ORM query over the same scope and period — also for a period read
from whole months plus edge days; scope (a street admin counts its street only);
dimensions from FieldDefs; derived demographics and coordinates; drill-through; Excel; archive."""
from __future__ import annotations

import datetime as dt
import io
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis import rollup
from analysis.models import (CaseDaily, CaseMonthly, HelpDaily, PartyDaily, PartyMonthly, PartyRef, TagDaily,
                             TagMonthly)

ID_M_1985 = "11010519850307001X"   # 17th digit 1 → male, born 1985
ID_F_1960 = "110105196001010026"   # 17th digit 2 → female, born 1960


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the on-commit work (hooks, rollup refreshes) of a block, as after a real commit."""
    def run():
        return django_capture_on_commit_callbacks(execute=True)
    return run


def live_rollup():
    """What CaseDaily must hold, computed straight from the cases."""
    from cases.models import Case

    out = Counter()
    for c in Case.objects.select_related("result"):
        r = getattr(c, "result", None) if hasattr(c, "result") else None
        out[(rollup.local_day(c.registered_at), c.region_id, c.case_type, c.mediation_type, c.source, c.status,
             c.level, r.outcome if r else "")] += 1
    return out


def stored_rollup():
    out = Counter()
    for row in CaseDaily.objects.all():
        out[(row.day, row.region_id, row.case_type, row.mediation_type, row.source, row.status, row.level,
             row.outcome)] += row.n
    return +out


def live_tags():
    from cases.models import Case

    return +Counter((rollup.local_day(c.registered_at), c.region_id, t) for c in Case.objects.all() for t in c.tags)


def stored_tags():
    return +Counter({(r.day, r.region_id, r.tag): r.n for r in TagDaily.objects.all()})


def stored_parties():
    return sum(PartyDaily.objects.values_list("n", flat=True))


def by_month(counts: Counter) -> Counter:
    """Day-keyed counts (the day first) summed per month (its first day)."""
    out = Counter()
    for (day, *rest), n in counts.items():
        out[(day.replace(day=1), *rest)] += n
    return +out


def stored_monthly():
    out = Counter()
    for row in CaseMonthly.objects.all():
        out[(row.month, row.region_id, row.case_type, row.mediation_type, row.source, row.status, row.level,
             row.outcome)] += row.n
    return +out


def stored_monthly_tags():
    out = Counter()
    for r in TagMonthly.objects.all():
        out[(r.month, r.region_id, r.tag)] += r.n
    return +out


def parties_by_month():
    """Parties per (month, region, kind, age band, sex): the monthly table and the live parties."""
    from analysis.derive import age_band
    from cases.models import Party

    stored, live = Counter(), Counter()
    for r in PartyMonthly.objects.all():
        stored[(r.month, r.region_id, r.party_kind, r.age_band, r.sex)] += r.n
    for p in Party.objects.select_related("case"):
        day = rollup.local_day(p.case.registered_at)
        live[(day.replace(day=1), p.case.region_id, p.party_kind, age_band(p.birth_year, day.year), p.sex)] += 1
    return +stored, +live


def assert_rollups_equal_live():
    live = live_rollup()
    assert stored_rollup() == live
    assert stored_monthly() == by_month(live)
    assert stored_tags() == live_tags()
    assert stored_monthly_tags() == by_month(live_tags())
    stored, live_parties = parties_by_month()
    assert stored == live_parties
    from cases.models import HelpRequest, Party

    live_help = Counter((rollup.local_day(h.requested_at), h.case.region_id, h.kind, h.case.case_type)
                        for h in HelpRequest.objects.select_related("case"))
    stored_help = Counter()
    for r in HelpDaily.objects.all():
        stored_help[(r.day, r.region_id, r.kind, r.case_type)] += r.n
    assert +stored_help == +live_help
    assert sorted(PartyRef.objects.values_list("bidx", "case_id", "region_id")) == sorted(
        (p.id_number_bidx, p.case_id, p.case.region_id) for p in Party.objects.select_related("case")
        if p.id_number_bidx)


@pytest.mark.backend  # date functions, bulk writes, prefix matching
def test_rollups_equal_live_counts_after_create_edit_move_delete(make_case, commit):
    from cases import actions
    from cases.models import Case, HelpRequest, MediationResult, Party
    from lowcode import hooks
    from orgs.models import Region

    with commit():
        a = make_case("湖滨社区", "neighbor", tags=["group"])
        b = make_case("溪口社区", "labor_wage", source="hotline12345")
        c = make_case("湖滨社区", "neighbor", registered_at=timezone.now() - dt.timedelta(days=3))
        d = make_case("溪口社区", "housing", registered_at=timezone.now() - dt.timedelta(days=40), tags=["repeat"])
    assert stored_rollup() == live_rollup() and sum(stored_rollup().values()) == 4
    assert stored_tags() == live_tags() == Counter({(rollup.local_day(a.registered_at), a.region_id, "group"): 1,
                                                   (rollup.local_day(d.registered_at), d.region_id, "repeat"): 1})
    assert stored_parties() == Party.objects.count() == 4
    assert_rollups_equal_live()
    assert len({m for m, *_ in stored_monthly()}) >= 2  # two months at least (d is 40 days back)

    with commit():  # edit through save()
        a.case_type, a.tags = "housing", ["group", "repeat"]
        a.save()
    with commit():  # a status moved by update() (as the workflow actions do) announces itself by hook
        Case.objects.filter(pk=b.pk).update(status="mediating")
        hooks.fire("records_changed", kind="case", ids=[b.pk])
    with commit():  # a result: outcome and handling time
        MediationResult.objects.create(case=b, outcome="success", submitted_at=b.registered_at + dt.timedelta(days=5))
    with commit():  # region move and a new registration day
        c.region = Region.objects.get(name="翠苑社区")
        c.registered_at = c.registered_at - dt.timedelta(days=2)
        c.save()
    with commit():  # a move to another region and another month: the month it left is recounted
        d.region = Region.objects.get(name="湖滨社区")
        d.registered_at = d.registered_at - dt.timedelta(days=31)
        d.tags = ["repeat", "group"]
        d.save()
    with commit():  # a help request
        HelpRequest.objects.create(case=c, kind="escalate", reason="需要提级")
    with commit():  # parties added and removed
        Party.objects.create(case=b, name="李四", id_number=ID_F_1960)
        Party.objects.filter(case=a).delete()
    assert stored_rollup() == live_rollup()
    assert stored_tags() == live_tags()
    assert stored_parties() == Party.objects.count() == 4
    assert_rollups_equal_live()
    assert CaseDaily.objects.get(case_type="labor_wage").days_sum == pytest.approx(5.0)
    assert CaseMonthly.objects.get(case_type="labor_wage").days_sum == pytest.approx(5.0)
    assert CaseMonthly.objects.get(case_type="labor_wage").on_time == 1

    with commit():
        a.delete()
    with commit():
        d.delete()
    assert stored_rollup() == live_rollup() and sum(stored_rollup().values()) == 2
    assert_rollups_equal_live()
    assert not CaseDaily.objects.filter(case_type="housing").exists()
    assert not CaseMonthly.objects.filter(case_type="housing").exists()

    # the rebuild command gives the same
    CaseDaily.objects.all().delete()
    CaseMonthly.objects.all().delete()
    rollup.rebuild()
    assert stored_rollup() == live_rollup()
    assert stored_tags() == live_tags()
    assert stored_parties() == Party.objects.count()
    assert_rollups_equal_live()
    assert actions  # imported: the real actions module stays importable with the analysis hooks


@pytest.mark.backend  # date functions, bulk writes, prefix matching
def test_period_of_whole_months_and_edge_days_equals_direct_queries(make_case, commit, client_for):
    """A custom range from the 10th of a month to the 20th two months later: the whole month in
    between comes from the monthly tables, the edges from the daily ones; every figure still
    equals a direct query — at the edges' first and last minutes too."""
    from accounts.models import User
    from analysis.periods import plan
    from cases.models import Case, MediationResult, Party

    m3 = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    m2 = (m3 - dt.timedelta(days=1)).replace(day=1)
    m1 = (m2 - dt.timedelta(days=1)).replace(day=1)
    start, end = m1 + dt.timedelta(days=9), m3 + dt.timedelta(days=19)  # > 62 days: a monthly trend

    def at(day, hour=12, minute=0):
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))

    with commit():
        make_case("湖滨社区", "neighbor", registered_at=at(start - dt.timedelta(days=1), 23, 59))  # the previous period
        make_case("湖滨社区", "neighbor", registered_at=at(start, 0, 1), tags=["group"],
                  parties=[{"name": "甲", "id_number": ID_M_1985}])
        done = make_case("文昌社区", "labor_wage", registered_at=at(m1 + dt.timedelta(days=20)), status="mediated",
                         mediation_type="people", deadline=at(m2))
        make_case("溪口社区", "housing", registered_at=at(m2, 0, 1), tags=["repeat"])
        make_case("湖滨社区", "neighbor", registered_at=at(m2 + dt.timedelta(days=15)), source="hotline12345")
        make_case("文昌社区", "neighbor", registered_at=at(m3 - dt.timedelta(days=1), 23, 59), status="mediated")
        make_case("文昌社区", "neighbor", registered_at=at(end, 23, 59), parties=[{"name": "乙", "id_number": ID_F_1960}])
        make_case("湖滨社区", "neighbor", registered_at=at(end + dt.timedelta(days=1), 0, 1))  # after the period
        MediationResult.objects.create(case=done, outcome="success", submitted_at=at(m1 + dt.timedelta(days=23)))
    days, months = plan(start, end)
    assert months == (m2, m2) and days == [(start, m2 - dt.timedelta(days=1)), (m3, end)]
    custom = f"range=custom&start={start.isoformat()}&end={end.isoformat()}"
    lo, hi = at(start, 0, 0), at(end + dt.timedelta(days=1), 0, 0)
    prev_lo = lo - (hi - lo)

    def check(username):
        c = client_for(username)
        prefix = User.objects.get(username=username).region.path
        cur = Case.objects.filter(region_path__startswith=prefix, registered_at__gte=lo, registered_at__lt=hi)
        prev = Case.objects.filter(region_path__startswith=prefix, registered_at__gte=prev_lo, registered_at__lt=lo)
        over = c.get(f"/analysis/data/overview/?{custom}")
        assert kpi(over, "登记案件") == (cur.count(), prev.count())
        assert kpi(over, "已办结")[0] == cur.filter(status__in=_closed()).count()
        assert kpi(over, "调解成功率(%)")[0] == (100.0 if cur.filter(result__isnull=False).exists() else None)
        types = c.get(f"/analysis/data/dim/?dim=case_type&{custom}").json()
        want = dict(cur.values_list("case_type").annotate(n=Count("id")))
        assert sorted(r[1] for r in types["rows"] if r[1]) == sorted(want.values())
        regions = c.get(f"/analysis/data/region/?{custom}").json()
        assert sum(r[1] for r in regions["rows"]) == cur.count()
        tags = {r[0]: r[1] for r in c.get(f"/analysis/data/tags/?{custom}").json()["rows"]}
        assert sum(tags.values()) == sum(len(t) for t in cur.values_list("tags", flat=True))
        people = c.get(f"/analysis/data/people/?{custom}").json()["rows"]
        assert sum(sum(v or 0 for v in r[1:]) for r in people if "重复" not in r[0]) == \
            Party.objects.filter(case__in=cur).count()
        trend = c.get(f"/analysis/data/trend/?{custom}").json()["rows"]
        assert [r[0] for r in trend] == [m.strftime("%Y-%m") for m in (m1, m2, m3)]
        edges = [lo, at(m2, 0, 0), at(m3, 0, 0), hi]
        assert [r[1] for r in trend] == [cur.filter(registered_at__gte=edges[i], registered_at__lt=edges[i + 1]).count()
                                         for i in range(3)]
        effect = c.get(f"/analysis/data/effect/?{custom}").json()["rows"]
        assert sum(r[1] for r in effect if r[0].startswith("用时·")) == cur.filter(result__isnull=False).count()
        assert c.get(f"/analysis/data/map/?{custom}").json()["total"] == cur.count()
        comms = c.get(f"/analysis/data/communities/?{custom}").json()["rows"]
        assert sum(r[1] for r in comms) == cur.count()
        return cur.count()

    assert check("demo_district") == 6
    assert check("demo_street") == 5
    # the whole month is read from the monthly table: without its day rows the figures stay the same
    CaseDaily.objects.filter(day__gte=m2, day__lt=m3).delete()
    from analysis import datacache

    datacache.bump()  # a direct delete is no refresh: recount, or the cached sums would answer
    assert check("demo_district") == 6
    CaseMonthly.objects.filter(month=m2).delete()  # … and the monthly rows are what answers
    datacache.bump()
    with pytest.raises(AssertionError):
        check("demo_district")


def _closed():
    from cases import states

    return states.closed_states()


@pytest.mark.backend  # date functions, bulk writes, prefix matching
def test_help_analysis_equals_direct_queries(fixture_cases, client_for, commit):
    """求助分析 from HelpDaily equals the live help requests, reviews and results in scope."""
    from cases.models import HelpRequest, Review

    now = timezone.now()
    first = fixture_cases[0].registered_at
    with commit():
        for case, kind in ((fixture_cases[0], "escalate"), (fixture_cases[1], "escalate"),
                           (fixture_cases[2], "dispatch"), (fixture_cases[4], "escalate")):
            HelpRequest.objects.create(case=case, kind=kind, reason="需要帮助", requested_at=first)
        Review.objects.create(case=fixture_cases[0], kind="escalation", state="x", status="approve",
                              submitted_at=first, decided_at=first + dt.timedelta(hours=3))
        Review.objects.create(case=fixture_cases[1], kind="escalation", state="x", status="reject",
                              submitted_at=first, decided_at=first + dt.timedelta(hours=5))
        Review.objects.create(case=fixture_cases[2], kind="dispatch", state="x", status="pending", submitted_at=now)
    rows = {r[0]: r[1:] for r in client_for("demo_street").get("/analysis/data/help/?range=month").json()["rows"]}
    # 东湖街道: two escalations (one approved after 3 h, one rejected after 5 h; one has a failed
    # result), one dispatch (pending review, a successful result); 溪口社区's request not counted
    assert rows["提级"] == [2, 50.0, 4.0, 0.0]
    assert rows["发单"] == [1, None, None, 100.0]
    assert rows["类型·邻里纠纷"][0] == 2 and rows[f"类型·{r_label('labor_wage')}"][0] == 1
    district = {r[0]: r[1] for r in client_for("demo_district").get("/analysis/data/help/?range=month").json()["rows"]}
    assert district["提级"] == 3


def test_party_demographics_and_coordinates_derived_at_save(make_case):
    check_case_coordinates_from_address_library_or_region_centre(make_case)

    case = make_case(parties=[{"name": "王五", "id_number": ID_M_1985}, {"name": "赵六", "id_number": ID_F_1960},
                              {"name": "某公司", "party_kind": "org", "id_number": "91330100MA27XXXX1X"},
                              {"name": "无证件", "id_number": ""}])
    got = {p.name: (p.birth_year, p.sex) for p in case.parties.all()}
    assert got == {"王五": (1985, "M"), "赵六": (1960, "F"), "某公司": (None, ""), "无证件": (None, "")}


@pytest.fixture
def fixture_cases(make_case, commit):
    """Cases in 东湖街道 (湖滨社区, 文昌社区) and 西溪街道 (溪口社区), this month and last month."""
    from cases.models import MediationResult

    now = timezone.now()
    first = timezone.localdate().replace(day=1)
    this_month = min(timezone.make_aware(dt.datetime.combine(first, dt.time(0, 1))), now)
    prev = this_month - dt.timedelta(days=1)  # the last day of the previous period
    with commit():
        cases = [
            make_case("湖滨社区", "neighbor", registered_at=this_month, tags=["group"],
                      parties=[{"name": "甲", "id_number": ID_M_1985}]),
            make_case("湖滨社区", "labor_wage", registered_at=this_month, source="hotline12345",
                      mediation_type="people", parties=[{"name": "乙", "id_number": ID_F_1960}]),
            make_case("文昌社区", "neighbor", registered_at=this_month, status="mediated", mediation_type="people",
                      deadline=now - dt.timedelta(days=1)),
            make_case("文昌社区", "neighbor", registered_at=this_month, deadline=now - dt.timedelta(days=1)),
            make_case("溪口社区", "neighbor", registered_at=this_month, source="police110"),
            make_case("溪口社区", "housing", registered_at=this_month),
            make_case("湖滨社区", "neighbor", registered_at=prev),
        ]
        MediationResult.objects.create(case=cases[2], outcome="success", submitted_at=this_month + dt.timedelta(hours=30))
        MediationResult.objects.create(case=cases[1], outcome="failed", submitted_at=this_month + dt.timedelta(days=9))
    return cases


def street_path() -> str:
    from orgs.models import Region

    return Region.objects.get(name="东湖街道").path


def kpi(resp, label):
    row = next(r for r in resp.json()["rows"] if r[0] == label)
    return row[1], row[2]


def orm_cases(prefix: str, previous=False):
    from cases.models import Case

    first = timezone.localdate().replace(day=1)
    days = (timezone.localdate() - first).days + 1
    start = timezone.make_aware(dt.datetime.combine(first - dt.timedelta(days=days) if previous else first, dt.time.min))
    end = start + dt.timedelta(days=days)
    return Case.objects.filter(region_path__startswith=prefix, registered_at__gte=start, registered_at__lt=end)


@pytest.mark.backend  # date functions, bulk writes, prefix matching
def test_overview_equals_direct_queries_in_scope(fixture_cases, client_for):
    for username in ("demo_street", "demo_district", "demo_mediator"):
        check_overview(client_for, username)


def check_overview(client_for, username):
    from accounts.models import User
    from cases import states

    prefix = User.objects.get(username=username).region.path
    resp = client_for(username).get("/analysis/data/overview/?range=month")
    assert resp.status_code == 200
    cur, prev = orm_cases(prefix), orm_cases(prefix, previous=True)
    assert kpi(resp, "登记案件") == (cur.count(), prev.count())
    assert kpi(resp, "汇聚案件")[0] == cur.exclude(source="local").count()
    assert kpi(resp, "已办结")[0] == cur.filter(status__in=states.closed_states()).count()
    assert kpi(resp, "超期案件")[0] == cur.filter(status__in=states.open_states(), deadline__lt=timezone.now()).count()
    results = cur.filter(result__isnull=False)
    ok = results.filter(result__outcome__in=states.success_outcomes()).count()
    rate = kpi(resp, "调解成功率(%)")[0]
    assert rate == (round(100.0 * ok / results.count(), 1) if results.count() else None)
    if username == "demo_street":  # 东湖街道 only: 溪口社区's cases are not counted
        assert kpi(resp, "登记案件") == (4, 1)
        assert rate == 50.0


def test_dimensions_regions_tags_people_effect(fixture_cases, client_for):
    c = client_for("demo_street")
    prefix = street_path()
    cur = orm_cases(prefix)
    types = c.get("/analysis/data/dim/?dim=case_type&range=month").json()
    want = dict(cur.values_list("case_type").annotate(n=Count("id")))
    assert {r[0]: r[1] for r in types["rows"]} == {"邻里纠纷" if k == "neighbor" else r_label(k): n for k, n in want.items()}
    regions = c.get("/analysis/data/region/?range=month").json()
    assert {r[0]: r[1] for r in regions["rows"]} == {"湖滨社区": 2, "文昌社区": 2}
    tags = c.get("/analysis/data/tags/?range=month").json()
    assert tags["rows"] == [["群体性", 1, 0]]
    people = c.get("/analysis/data/people/?range=month").json()
    by_band = {r[0]: r[1:] for r in people["rows"]}
    # 甲 (male, 1985); 乙 (female, 1960) and make_case's default 张三 (female, 1949) on the two 文昌社区 cases
    assert by_band["30-44岁"] == [1, 0, 0] and by_band["60岁及以上"] == [0, 3, 0]
    effect = c.get("/analysis/data/effect/?range=month").json()
    rows = {r[0]: r[1:] for r in effect["rows"]}
    assert rows["层级·社区级"] == [2, 50.0, rows["层级·社区级"][2]]
    assert rows["用时·3天以内"][0] == 1 and rows["用时·8-15天"][0] == 1


def r_label(code):
    from lowcode import registry

    return registry.get_dictionary("case_type")[code].label


def check_drill_through_lists_the_same_cases(fixture_cases, client_for):
    c = client_for("demo_street")
    table = c.get("/analysis/data/dim/?dim=case_type&range=month").json()
    i = next(i for i, r in enumerate(table["rows"]) if r[0] == "邻里纠纷")
    page = c.get("/analysis/cases/?" + table["drill"][i])
    assert page.status_code == 200
    html = page.content.decode()
    assert f'id="an-drill-count">{table["rows"][i][1]}<' in html
    assert "溪口社区" not in html
    overdue = c.get("/analysis/data/overview/?range=month").json()
    j = next(i for i, r in enumerate(overdue["rows"]) if r[0] == "超期案件")
    assert f'id="an-drill-count">{overdue["rows"][j][1]}<' in c.get("/analysis/cases/?" + overdue["drill"][j]).content.decode()


def test_site_fielddef_with_dictionary_is_a_dimension(fixture_cases, client_for, make_case, commit):
    from lowcode import registry
    from lowcode.models import Dictionary, DictItem, FieldDef

    d = Dictionary.objects.create(code="an_channel_kind", name="纠纷渠道")
    DictItem.objects.create(dictionary=d, code="walkin", label="来访", sort=1)
    DictItem.objects.create(dictionary=d, code="phone", label="来电", sort=2)
    FieldDef.objects.create(entity="case", code="an_kind", label="纠纷渠道", fieldtype="select", dictionary=d)
    registry.clear_cache()
    with commit():
        make_case("湖滨社区", extra={"an_kind": "walkin"}, registered_at=fixture_cases[0].registered_at)
        make_case("湖滨社区", extra={"an_kind": "walkin"}, registered_at=fixture_cases[0].registered_at)
        make_case("溪口社区", extra={"an_kind": "phone"}, registered_at=fixture_cases[0].registered_at)
    c = client_for("demo_street")
    rows = {r[0]: r[1] for r in c.get("/analysis/data/dim/?dim=an_kind&range=month").json()["rows"]}
    assert rows["来访"] == 2 and "来电" not in rows
    assert "/analysis/data/dim/?dim=an_kind" in c.get("/analysis/case-analysis/?range=month").content.decode()


def check_excel_export_holds_the_table(fixture_cases, client_for):
    from openpyxl import load_workbook

    resp = client_for("demo_street").get("/analysis/data/region/?range=month&format=xlsx")
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0] == ["区域", "本期", "上期"]
    assert sorted(values[1:]) == [["文昌社区", 2, 0], ["湖滨社区", 2, 1]]


def test_bad_input_and_users_outside_the_region_tree(fixture_cases, client_for):
    from orgs.models import Region

    c = client_for("demo_street")
    other = Region.objects.get(name="西溪街道")
    for url, text in [("/analysis/data/overview/?range=century", "时间范围"),
                      ("/analysis/data/overview/?range=custom&start=2026-13-01&end=2026-01-01", "不是有效日期"),
                      ("/analysis/data/overview/?range=custom&start=2026-02-01&end=2026-01-01", "不能早于"),
                      (f"/analysis/data/overview/?region={other.pk}", "不在您的管辖范围内"),
                      ("/analysis/data/dim/?dim=nope", "不存在"),
                      ("/analysis/cases/?kpi=nope", "不存在")]:
        resp = c.get(url)
        assert resp.status_code == 400, url
        assert text in resp.content.decode(), url
    for username in ("demo_dept", "demo_tp_mediator"):
        resp = client_for(username).get("/analysis/data/overview/")
        assert resp.status_code == 403 and "无权" in resp.json()["error"]


def check_cockpit_pages_render(fixture_cases, client_for):
    c = client_for("demo_street")
    for url in ("/analysis/", "/analysis/?screen=1", "/analysis/case-analysis/", "/analysis/help-analysis/",
                "/analysis/map/"):
        resp = c.get(url)
        assert resp.status_code == 200, url
        html = resp.content.decode()
        assert "/static/vendor/" in html and "http://" not in html.replace("http://testserver", "")
    assert "data-url=\"/analysis/data/overview/\"" in c.get("/analysis/").content.decode()


def check_case_coordinates_from_address_library_or_region_centre(make_case):
    from addresses import matching
    from addresses.models import StandardAddress
    from orgs.models import Region

    hubin = Region.objects.get(name="湖滨社区")
    Region.objects.filter(pk=hubin.pk).update(lng=120.1, lat=30.2)
    StandardAddress.objects.create(text="示范区东湖街道湖滨社区解放路18号", region=hubin,
                                   longitude="120.123456", latitude="30.234567")
    matching.reset()
    try:
        placed = make_case("湖滨社区", address="示范区东湖街道湖滨社区解放路18号")
        centre = make_case("湖滨社区", address="不知道在哪里")
    finally:
        matching.reset()
    placed.refresh_from_db()
    centre.refresh_from_db()
    assert (placed.lng, placed.lat, placed.geo_source) == (pytest.approx(120.123456), pytest.approx(30.234567), "address")
    assert (centre.lng, centre.lat, centre.geo_source) == (120.1, 30.2, "region")


def check_map_points_are_scoped(fixture_cases, client_for):
    from cases.models import Case
    from orgs.models import Region

    Region.objects.update(lng=120.1, lat=30.2)
    for case in Case.objects.all():
        case.save()
    data = client_for("demo_street").get("/analysis/data/map/?range=month").json()
    assert {m["no"] for m in data["markers"]} == set(orm_cases(street_path()).values_list("exchange_id", flat=True))
    assert data["total"] == 4


def test_archive_masks_parties_and_respects_scope(fixture_cases, client_for):
    from cases.models import Party

    case = fixture_cases[0]
    c = client_for("demo_mediator")
    html = c.get(f"/analysis/cases/{case.pk}/archive/").content.decode()
    assert case.exchange_id in html and ID_M_1985 not in html and "登记案件" in html
    party = Party.objects.get(case=case)
    person = c.get(f"/analysis/parties/{party.pk}/archive/").content.decode()
    assert case.exchange_id in person and ID_M_1985 not in person
    other = fixture_cases[4]  # 溪口社区
    assert c.get(f"/analysis/cases/{other.pk}/archive/").status_code == 404
    assert c.get(f"/analysis/parties/{other.parties.first().pk}/archive/").status_code == 404


def test_drill_through_export_map_and_pages(fixture_cases, client_for):
    check_drill_through_lists_the_same_cases(fixture_cases, client_for)
    check_excel_export_holds_the_table(fixture_cases, client_for)
    check_cockpit_pages_render(fixture_cases, client_for)
    check_map_points_are_scoped(fixture_cases, client_for)


def test_repeat_parties_count_is_cached_until_the_rollups_change(make_case, commit, client_for):
    """重复涉案当事人 is counted once for many viewers and recounted as soon as a case changes it."""
    c = client_for("demo_street")

    def repeat():
        rows = c.get("/analysis/data/people/?range=month").json()["rows"]
        return next(r[3] for r in rows if r[0] == "重复涉案当事人（人）")

    with commit():
        make_case("湖滨社区", parties=[{"name": "甲", "id_number": ID_M_1985}])
    assert repeat() == 0
    from analysis import datacache

    with CaptureQueriesContext(connection) as seen:
        assert repeat() == 0
    assert not [q for q in seen.captured_queries if PartyRef._meta.db_table in q["sql"]]  # from the cache
    with commit():
        make_case("文昌社区", parties=[{"name": "甲", "id_number": ID_M_1985}])  # the same person again
    assert repeat() == 1
    before = datacache.version()
    with commit():
        make_case("溪口社区", parties=[{"name": "乙", "id_number": ID_F_1960}])  # another street
    assert datacache.version() > before and repeat() == 1


@pytest.mark.backend  # year extraction in the local zone, date-time differences compared with durations
def test_age_band_and_handling_time_rows_drill_to_their_cases(fixture_cases, client_for):
    """Every 年龄段 row of 高发人群 and every 用时 row of 调解成效 opens the cases behind it: the
    cases in scope with such a person (age when registered) / whose result took that long."""
    import re

    from analysis.derive import age_band
    from analysis.rollup import days_band
    from cases.models import Party

    c = client_for("demo_street")
    cases = list(orm_cases(street_path()).select_related("result"))

    def drilled(query):
        page = c.get("/analysis/cases/?" + query)
        assert page.status_code == 200
        return int(re.search(r'id="an-drill-count">(\d+)<', page.content.decode()).group(1))

    people = c.get("/analysis/data/people/?range=month").json()
    checked = 0
    for row, query in zip(people["rows"], people["drill"]):
        if not query or "dim=age_band" not in query:
            continue
        want = {p.case_id for p in Party.objects.filter(case__in=cases, party_kind="person")
                if (age_band(p.birth_year, timezone.localtime(p.case.registered_at).year) or "未知") == row[0]}
        assert drilled(query) == len(want), row
        checked += bool(want)
    assert checked >= 2
    effect = c.get("/analysis/data/effect/?range=month").json()
    checked = 0
    for row, query in zip(effect["rows"], effect["drill"]):
        if not row[0].startswith("用时·"):
            continue
        want = [x for x in cases if getattr(x, "result", None) and x.result.submitted_at
                and days_band(max((x.result.submitted_at - x.registered_at).total_seconds() / 86400, 0)) == row[0][3:]]
        assert drilled(query) == len(want) == row[1], row
        checked += bool(want)
    assert checked >= 2
    assert c.get("/analysis/cases/?dim=age_band&value=200岁").status_code == 400


def test_saved_views_shipped_saved_on_screen_scoped_and_validated(world, client_for):
    """常用视图 (metadata kind analysis_views): the shipped ones show on every analysis page; a
    district admin saves the view on screen (its region kept by 区划代码) and everyone opens it; a
    region outside the viewer's scope is dropped from the link; bad input is refused in Chinese."""
    from analysis.models import SavedView
    from lowcode.serialization import load_metadata
    from orgs.models import Region

    load_metadata(["analysis_views"])  # what make demo / deploying does for every kind
    assert SavedView.objects.filter(origin="shipped").count() >= 4
    street = client_for("demo_street")
    page = street.get("/analysis/").content.decode()
    assert "常用视图" in page and "本年总体态势" in page and "/analysis/?range=year" in page
    assert "保存当前视图" not in page  # a street admin uses views, the district saves them
    refused = street.post("/analysis/views/save/", {"page": "cases", "name": "越权", "query": "range=year"})
    assert refused.status_code == 403 and not SavedView.objects.filter(name="越权").exists()

    xikou = Region.objects.get(name="溪口社区")  # in 西溪街道: outside demo_street's 东湖街道
    district = client_for("demo_district")
    assert "保存当前视图" in district.get("/analysis/case-analysis/").content.decode()
    resp = district.post("/analysis/views/save/", {
        "page": "cases", "name": "溪口本年劳资", "query": f"range=year&region={xikou.pk}&dim=case_type&value=labor_wage"})
    assert resp.status_code == 302 and resp["Location"].startswith("/analysis/case-analysis/?")
    view = SavedView.objects.get(name="溪口本年劳资")
    assert view.origin == "site" and view.params == {
        "range": "year", "region_code": xikou.code, "dim": "case_type", "value": "labor_wage"}
    assert f"region={xikou.pk}" in district.get("/analysis/").content.decode()
    theirs = street.get("/analysis/").content.decode()
    assert "溪口本年劳资" in theirs and f"region={xikou.pk}" not in theirs  # not theirs to see: own scope
    # bad input: no name; a page that does not exist; a filter the view cannot hold
    empty = district.post("/analysis/views/save/", {"page": "cases", "name": " ", "query": "range=year"}, follow=True)
    assert "请填写视图名称" in empty.content.decode()
    assert district.post("/analysis/views/save/", {"page": "nowhere", "name": "x", "query": ""}).status_code == 400
    bad = district.post("/analysis/views/save/", {"page": "cases", "name": "坏范围", "query": "range=decade"}, follow=True)
    assert "时间范围 range 只能是" in bad.content.decode() and not SavedView.objects.filter(name="坏范围").exists()
    # the business admin edits a view in the admin: an unknown filter key is refused in Chinese
    admin = client_for("demo_config")
    r = admin.post(f"/admin/analysis/savedview/{view.pk}/change/", {
        "code": view.code, "name": view.name, "page": "cases", "params": '{"colour": "red"}', "sort": "100",
        "enabled": "on"})
    assert r.status_code == 200 and "不认识的筛选条件：colour" in r.content.decode()


def test_a_figure_counted_by_one_request_is_waited_for_not_counted_again():
    """Requests arriving while another one counts the same figure wait for its result (after a
    write many district users would otherwise all recount the same year at once)."""
    import threading
    import time

    from analysis import datacache

    datacache.invalidate()
    calls, results = [], []

    def slow():
        calls.append(1)
        time.sleep(0.3)
        return [("示范区", 42)]

    threads = [threading.Thread(target=lambda: results.append(datacache.cached("t", ["x"], slow))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and results == [[("示范区", 42)]] * 4
    datacache.invalidate()  # a refresh: counted again
    assert datacache.cached("t", ["x"], slow) == [("示范区", 42)] and len(calls) == 2
