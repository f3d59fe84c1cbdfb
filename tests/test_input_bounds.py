"""Input bounds (finding 9): what an assessor typing edge values notices.

- dates at the edge of the calendar (0001-01-01, 9999-12-31) in the H5 case form, the H5 and
  third-party logs, the PC log, admin date filters and exports, the third-party statement and
  analysis, the district statement: a Chinese message, never a 500 (the datetime no longer
  reaches the database, where converting it to UTC overflowed);
- an occurrence in the future (2099, next month) and a log dated 9999: refused;
- a negative claim amount: refused;
- control and bidi override characters in a title, a party name, an admin form: refused;
- a 100,000-character description: refused; line breaks and tabs in long text still fine;
- the engine: FieldDef 最小值/最大值 on a date field are days from today, checked on save.
Every refusal leaves nothing written."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases import actions
from cases.models import Case, MediationItem, MediationLog, Party

pytestmark = pytest.mark.backend  # depends on the database backend: column lengths are enforced only by PostgreSQL


RLO = "\u202e"


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def html(response) -> str:
    return response.content.decode()


def chinese_error(page: str) -> bool:
    return bool(re.search(r"(不能|不允许|请|确保|有效|控制字符|必填)", page))


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def mediator(client_for):
    return client_for("demo_mediator")


@pytest.fixture
def mediating(make_case):
    case = make_case("湖滨社区", title="湖滨社区邻里漏水纠纷", registrant=user("demo_mediator"))
    actions.do_transition(case, "开始调解", user("demo_mediator"))
    case.refresh_from_db()
    return case


def case_post(region_pk, **overrides):
    data = {
        "case_type": "neighbor", "title": "邻里噪音纠纷", "description": "楼上夜间噪音",
        "mediation_type": "", "source": "local", "occurred_at": "2026-01-05T09:30", "address": "湖滨路 8 号",
        "region": region_pk, "party_count": "2",
        "parties-TOTAL_FORMS": "1", "parties-INITIAL_FORMS": "0", "parties-MIN_NUM_FORMS": "1",
        "parties-MAX_NUM_FORMS": "1000",
        "parties-0-role": "applicant", "parties-0-party_kind": "person", "parties-0-name": "孙八",
        "parties-0-id_number": "", "parties-0-phone": "13812345678", "parties-0-address": "",
    }
    data.update(overrides)
    return data


def soon(days: int) -> str:
    return (timezone.localtime() + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


# --- the H5 case form --------------------------------------------------------------------------------
@pytest.mark.parametrize("value, says", [
    ("0001-01-01T00:00", "不能早于 1900-01-01"),
    ("9999-12-31T23:59", "不能晚于"),
    ("2099-06-01T10:00", "不能晚于"),
    ("next-month", "不能晚于当前时间"),
    ("2026-02-30T10:00", "有效"),
], ids=["year-1", "year-9999", "2099", "next-month", "30-february"])
def test_h5_case_form_refuses_an_occurrence_outside_the_past(mediator, value, says):
    value = soon(30) if value == "next-month" else value
    response = mediator.post("/h5/cases/new/", case_post(user("demo_mediator").region_id, occurred_at=value))
    assert response.status_code == 200
    assert says in html(response)
    assert not Case.objects.exists() and not Party.objects.exists()


def test_h5_case_form_accepts_an_occurrence_just_now(mediator):
    response = mediator.post("/h5/cases/new/", case_post(user("demo_mediator").region_id, occurred_at=soon(0)))
    assert response.status_code == 302 and Case.objects.count() == 1


@pytest.mark.parametrize("char", [RLO, "\u2066", "\u200f", "\u061c", "\x07", "\x1b", "\x85"],
                         ids=["RLO", "LRI", "RLM", "ALM", "BEL", "ESC", "NEL"])
def test_h5_case_form_refuses_control_and_bidi_characters(mediator, char):
    region = user("demo_mediator").region_id
    for field in ("title", "address", "parties-0-name"):
        response = mediator.post("/h5/cases/new/", case_post(region, **{field: f"张三{char}纠纷"}))
        assert response.status_code == 200, field
        assert "控制字符" in html(response), field
    # a line break is a control character too in a one-line field
    response = mediator.post("/h5/cases/new/", case_post(region, title="邻里\n噪音"))
    assert "控制字符" in html(response)
    assert not Case.objects.exists() and not Party.objects.exists()


def test_h5_case_form_bounds_the_description_and_keeps_line_breaks(mediator):
    region = user("demo_mediator").region_id
    response = mediator.post("/h5/cases/new/", case_post(region, description="长" * 100_000))
    assert response.status_code == 200 and "5000" in html(response)
    assert not Case.objects.exists()
    response = mediator.post("/h5/cases/new/", case_post(region, description="第一行\r\n第二行\t（附注）"))
    assert response.status_code == 302
    assert Case.objects.get().description == "第一行\r\n第二行\t（附注）"


def test_h5_case_form_refuses_a_party_count_below_its_field_minimum(mediator):
    response = mediator.post("/h5/cases/new/", case_post(user("demo_mediator").region_id, party_count="0"))
    assert response.status_code == 200 and "大于或等于1" in html(response).replace(" ", "")
    assert not Case.objects.exists()


# --- logs, items: H5, third party, PC ------------------------------------------------------------------
@pytest.mark.parametrize("value", ["0001-01-01T00:00", "9999-12-31T23:59", "next-week"])
def test_h5_log_dated_outside_the_past_is_refused(mediator, mediating, value):
    value = soon(7) if value == "next-week" else value
    response = mediator.post(f"/h5/cases/{mediating.pk}/logs/", {"content": "上门调解", "occurred_at": value})
    assert response.status_code == 200
    assert "调解日志未保存" in html(response) and ("不能早于" in html(response) or "不能晚于" in html(response))
    assert not MediationLog.objects.exists()


def test_pc_log_dated_outside_the_past_is_refused(client_for, mediating):
    c = client_for("demo_mediator")
    url = f"/admin/cases/case/{mediating.pk}/handle/?form=log"
    for value in ("0001-01-01T00:00", "9999-12-31T23:59", soon(3)):
        response = c.post(url, {"content": "电话调解", "occurred_at": value})
        assert response.status_code == 200, value
        assert "不能早于" in html(response) or "不能晚于" in html(response), value
    assert not MediationLog.objects.exists()


def test_third_party_log_dated_year_1_is_refused(tp_world, client_for):
    from dispatch import actions as dispatch_actions

    order = tp_world["own"]
    dispatch_actions.confirm_voucher(order, user("demo_tp_mediator"))
    before = MediationLog.objects.count()
    c = client_for("demo_tp_mediator")
    for value in ("0001-01-01T00:00", "9999-12-31T23:59"):
        response = c.post(f"/tp/m/orders/{order.pk}/logs/", {"content": "第三方调解", "occurred_at": value})
        assert response.status_code == 400 and "调解日志未保存" in html(response), value
    assert MediationLog.objects.count() == before


def test_negative_claim_amount_is_refused(mediator, mediating):
    response = mediator.post(f"/h5/cases/{mediating.pk}/items/", {"content": "赔偿损失", "claim_amount": "-500"})
    assert response.status_code == 200 and "大于或等于0" in html(response).replace(" ", "")
    response = mediator.post(f"/h5/cases/{mediating.pk}/items/", {"content": "赔偿损失", "claim_amount": "1e309"})
    assert response.status_code == 200 and chinese_error(html(response))
    assert not MediationItem.objects.exists()


def test_review_opinion_with_bidi_characters_is_refused(client_for, make_case):
    """The decide page posts the opinion straight into cases.actions.do_transition."""
    from cases.models import CaseEvent, Review

    case = make_case("湖滨社区", title="意见校验", registrant=user("demo_mediator"))
    actions.do_transition(case, "开始调解", user("demo_mediator"))
    actions.do_transition(case, "提交结果", user("demo_mediator"))
    review = Review.objects.get(case=case, status="pending")
    c = client_for("demo_street")
    response = c.post(f"/admin/cases/review/{review.pk}/decide/", {"action": "审核通过", "opinion": f"同意{RLO}意见"})
    assert response.status_code == 200 and "控制字符" in html(response)
    assert Review.objects.get(pk=review.pk).status == "pending"
    assert not CaseEvent.objects.filter(message__contains=RLO).exists()


# --- filters, exports and period queries -----------------------------------------------------------------
EDGE_DATES = ["0001-01-01", "9999-12-31", "2026-02-30", "1e309"]


@pytest.mark.parametrize("value", EDGE_DATES)
def test_case_list_and_export_ignore_an_edge_date_filter(client_for, make_case, value):
    make_case("湖滨社区", title="筛选测试案件")
    c = client_for("demo_district")
    for query in (f"registered_at__gte={value}", f"registered_at__lte={value}"):
        page = c.get(f"/admin/cases/case/?{query}")
        assert page.status_code == 200, query
        assert "已忽略" in html(page) and "筛选测试案件" in html(page), query
        export = c.get(f"/admin/cases/case/excel/export/?{query}")
        assert export.status_code == 200, query


@pytest.mark.parametrize("value", EDGE_DATES)
def test_admin_date_list_filters_ignore_edge_dates(client_for, value):
    c = client_for("demo_district")
    for url in (f"/admin/clues/clue/?occurred_at__gte={value}&occurred_at__lt={value}",
                f"/admin/dedup/pair/?updated_at__gte={value}+00:00:00&updated_at__lt={value}"):
        response = c.get(url)
        assert response.status_code in (200, 302), url   # the admin may answer ?e=1 (bad lookup)
        if response.status_code == 302:
            assert c.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("start, end", [("0001-01-01", "9999-12-31"), ("2026-01-01", "9999-12-31"),
                                        ("0001-01-01", "2026-01-01")])
def test_third_party_statement_and_analysis_answer_edge_dates_with_a_message(tp_world, client_for, start, end):
    c = client_for("demo_tp_admin")
    for url in ("/tp/statements/", "/tp/statements/?tab=vouchers", "/tp/analysis/"):
        sep = "&" if "?" in url else "?"
        response = c.get(f"{url}{sep}start={start}&end={end}")
        assert response.status_code == 200, url
        assert "不能早于" in html(response) or "不能晚于" in html(response), url


def test_district_statement_answers_edge_dates_with_a_message(tp_world, client_for):
    from orgs.models import Organization

    org = Organization.objects.get(name="和合商事调解中心")
    c = client_for("demo_district")
    for start, end in (("0001-01-01", "2026-01-01"), ("2026-01-01", "9999-12-31")):
        for extra in ("", "&export=1"):
            response = c.get(f"/admin/dispatch/awardedorder/statement/?organization={org.pk}"
                             f"&start={start}&end={end}{extra}")
            assert response.status_code == 200, (start, end, extra)
            assert "不能早于" in html(response) or "不能晚于" in html(response)


def test_an_oversize_search_is_answered_with_a_message(client_for, world):
    """A 100,000-character search: SQLite refused the LIKE pattern (500); now a 400 in Chinese."""
    c = client_for("demo_district")
    for url in ("/admin/cases/case/?q=", "/admin/orgs/region/?q=", "/h5/?q="):
        response = c.get(url + "长" * 100_000)
        assert response.status_code == 400 and "查询条件过长" in html(response), url
    assert c.get("/admin/orgs/region/?q=" + "长" * 200).status_code == 200


def test_json_settings_refuse_nan_and_infinity(client_for, metadata):
    """Python's json reads NaN/Infinity/1e309; stored, that is invalid JSON (a 500 on SQLite)."""
    from extensions.escalation.models import WarningSetting

    setting = WarningSetting.objects.order_by("pk").first()
    if setting is None:
        from lowcode.serialization import load_metadata

        load_metadata(["warning_settings"])
        setting = WarningSetting.objects.order_by("pk").first()
    before = setting.value
    c = client_for("demo_config")
    page = c.get(f"/admin/escalation/warningsetting/{setting.pk}/change/")
    assert page.status_code == 200
    for value in ("NaN", "Infinity", "1e309", '{"a": [1, NaN]}'):
        response = c.post(f"/admin/escalation/warningsetting/{setting.pk}/change/",
                          {"key": setting.key, "name": setting.name, "value": value,
                           "description": setting.description, "_save": "1"})
        assert response.status_code == 200 and "NaN" in html(response) and "无穷大" in html(response), value
    setting.refresh_from_db()
    assert setting.value == before


# --- admin model forms (every app): the model fields carry the bounds ------------------------------------
def test_admin_model_forms_refuse_bidi_characters(client_for, world):
    """The plain Django admin form of 组织机构 (no form code of its own)."""
    from orgs.models import Organization, Region

    c = client_for("demo_district")
    before = Organization.objects.count()
    region = Region.objects.get(name="湖滨社区")
    response = c.post("/admin/orgs/organization/add/", {"name": f"调解中心{RLO}txet", "kind": "third",
                                                        "region": region.pk, "contact": "", "is_active": "on"})
    assert response.status_code == 200 and "控制字符" in html(response)
    assert Organization.objects.count() == before
    assert not Organization.objects.filter(name__contains=RLO).exists()
    response = c.post("/admin/orgs/organization/add/", {"name": "调解中心", "kind": "third", "region": region.pk,
                                                        "contact": "王五", "is_active": "on"})
    assert Organization.objects.count() == before + 1   # the same form saves clean input


def test_model_fields_carry_the_bounds():
    """The rule behind the admin forms of every app: text and date columns validate."""
    from django.core.exceptions import ValidationError

    from cases.models import MediationLog as Log

    log = Log(content="ok" + RLO, occurred_at=timezone.now())
    with pytest.raises(ValidationError) as info:
        log.full_clean(exclude=["case", "created_by"])
    assert "content" in info.value.message_dict
    log = Log(content="ok", occurred_at=dt.datetime(1, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(ValidationError) as info:
        log.full_clean(exclude=["case", "created_by"])
    assert "不能早于 1900-01-01" in str(info.value.message_dict["occurred_at"])
    log = Log(content="多行\n文本\t可以", occurred_at=timezone.now())
    log.full_clean(exclude=["case", "created_by"])


# --- the engine: FieldDef bounds of date fields ------------------------------------------------------------
def test_fielddef_date_bounds_are_days_from_today(mediator, metadata):
    from lowcode.models import FieldDef

    FieldDef.objects.create(entity="case", code="visit_date", label="首次走访日期", fieldtype="date",
                            min_value=-30, max_value=0, idx=400)
    region = user("demo_mediator").region_id
    today = timezone.localdate()
    for value, says in (((today + dt.timedelta(days=1)).isoformat(), "不能晚于今天"),
                        ((today - dt.timedelta(days=31)).isoformat(), "不能早于"),
                        ("0001-01-01", "不能早于 1900-01-01")):
        response = mediator.post("/h5/cases/new/", case_post(region, visit_date=value))
        assert response.status_code == 200 and says in html(response), value
    assert not Case.objects.exists()
    response = mediator.post("/h5/cases/new/", case_post(region, visit_date=today.isoformat()))
    assert response.status_code == 302
    assert Case.objects.get().extra["visit_date"] == today.isoformat()


def test_fielddef_date_bounds_must_be_whole_days(metadata):
    from django.core.exceptions import ValidationError

    from lowcode.models import FieldDef

    f = FieldDef(entity="case", code="hearing_date", label="听证日期", fieldtype="date", max_value="1.5")
    with pytest.raises(ValidationError) as info:
        f.full_clean()
    assert "相对今天的天数" in str(info.value.message_dict["max_value"])
    f = FieldDef(entity="case", code="notes_long", label="长备注", fieldtype="long_text", max_length=1_000_000)
    with pytest.raises(ValidationError) as info:
        f.full_clean()
    assert "最大长度不能超过" in str(info.value.message_dict["max_length"])


def test_extra_decimal_fields_refuse_huge_numbers(mediator, metadata):
    from lowcode.models import FieldDef

    FieldDef.objects.create(entity="case", code="claim_total", label="诉求金额(元)", fieldtype="decimal",
                            min_value=0, idx=400)
    region = user("demo_mediator").region_id
    for value in ("-1", "1e309", "1" * 40, "NaN", "Infinity"):
        response = mediator.post("/h5/cases/new/", case_post(region, claim_total=value))
        assert response.status_code == 200 and chinese_error(html(response)), value
    assert not Case.objects.exists()


from tests.test_thirdparty_screens import tp_world  # noqa: E402,F401  (fixture)
