"""Issue 18 (first hour of a district user): warnings and verdicts at the top of the case pages,
empty panels out of the way, the case list opening the detail view, the default party rows, the
third party's menus, the district admin's address library, the message inbox."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from extensions.escalation import evaluate


def _red_case(make_case):
    case = make_case(title="群体欠薪", case_type="labor", parties=[{"name": "当事人甲", "phone": "13800000001"}],
                     party_count=12, deadline=timezone.now() + dt.timedelta(days=9))
    evaluate.evaluate_cases([case.pk])
    return case


def _top(html: str, marker: str) -> str:
    """The page up to ``marker`` (what a reader sees before it)."""
    assert marker in html, marker
    return html[:html.index(marker)]


# -- 4. warnings and verdicts up front ------------------------------------------------------------
def test_pc_case_detail_shows_the_colour_and_its_reasons_above_the_fields(make_case, client_for):
    from extensions.escalation.models import CaseWarning

    case = _red_case(make_case)
    assert CaseWarning.objects.get(pk=case.pk).level == "red"
    html = client_for("demo_mediator").get(f"/admin/cases/case/{case.pk}/detail/").content.decode()
    head = _top(html, "基本信息") if "基本信息" in html else _top(html, "card-title")
    assert 'id="case-summary"' in head and "红色" in head
    reasons = CaseWarning.objects.get(pk=case.pk).reasons
    assert reasons and reasons[0] in head


def test_pc_case_detail_collapses_empty_panels_into_one_line(make_case, client_for):
    case = make_case()
    html = client_for("demo_mediator").get(f"/admin/cases/case/{case.pk}/detail/").content.decode()
    assert ">无</td>" not in html  # no card holding only "无"
    line = re.search(r'id="empty-panels">(.*?)</p>', html, re.S).group(1)
    assert "调解日志" in line and "回访记录" in line
    assert 'id="panel-当事人"' in html  # a panel with rows stays a card


def test_pc_and_h5_case_pages_show_same_case_verdicts_at_the_top(make_case, client_for,
                                                                 django_capture_on_commit_callbacks):
    text = "王建国反映地下车库积水，物业仍催交物业费2400元，双方发生争执。"
    with django_capture_on_commit_callbacks(execute=True):
        a = make_case(title="车库积水物业费纠纷", description=text, case_type="property", address="文化路313号",
                      parties=[{"name": "王建国", "phone": "13957070221", "id_number": "11010519491231002X"}])
    with django_capture_on_commit_callbacks(execute=True):
        make_case(title="物业费争执", case_type="property", address="文化路313号附近",
                  description="业主王建国因车库积水拒交2400元物业费，与物业争执。",
                  parties=[{"name": "王建国", "phone": "13957070221", "id_number": ""}])
    c = client_for("demo_mediator")
    pc = c.get(f"/admin/cases/case/{a.pk}/detail/").content.decode()
    head = re.search(r'id="case-summary".*?</div>\s*</div>\s*</div>', pc, re.S).group(0)
    assert "同一案件" in head and "待确认 1 条" in head
    h5 = c.get(f"/h5/cases/{a.pk}/").content.decode()
    assert "同一案件" in _top(h5, 'id="info"') and "待确认 1 条" in _top(h5, 'id="info"')


def test_h5_case_page_shows_the_colour_in_its_head(make_case, client_for):
    case = _red_case(make_case)
    h5 = client_for("demo_mediator").get(f"/h5/cases/{case.pk}/").content.decode()
    head = _top(h5, 'class="h5-jump"')
    assert "预警等级" in head and "红色" in head


def test_verdict_panels_name_the_channel_not_its_key(make_case, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        a = make_case(title="车库积水物业费纠纷", description="王建国反映地下车库积水，物业仍催交物业费2400元。",
                      case_type="property", address="文化路313号",
                      parties=[{"name": "王建国", "phone": "13957070221"}])
    with django_capture_on_commit_callbacks(execute=True):
        make_case(title="物业费争执", case_type="property", address="文化路313号附近",
                  description="业主王建国因车库积水拒交2400元物业费，与物业争执。",
                  parties=[{"name": "王建国", "phone": "13957070221"}])
    html = client_for("demo_mediator").get(f"/admin/cases/case/{a.pk}/detail/").content.decode()
    panel = re.search(r'id="panel-同一案件".*?</table>', html, re.S).group(0)
    assert "<td>local</td>" not in panel and "local:" not in panel
    assert "本地登记" in panel or "本地" in panel


# -- 5. the case list opens the detail view; the party rows of a new case -------------------------
def test_case_number_in_the_list_opens_the_detail_view_not_the_edit_form(make_case, client_for):
    case = make_case()
    html = client_for("demo_mediator").get("/admin/cases/case/").content.decode()
    assert f'href="/admin/cases/case/{case.pk}/detail/"' in html
    assert f'href="/admin/cases/case/{case.pk}/change/"' not in html
    assert ">查看</a>" not in html  # no separate wrapping link column


def test_case_detail_offers_edit_tag_and_archive_as_buttons(make_case, client_for):
    case = make_case()
    html = client_for("demo_mediator").get(f"/admin/cases/case/{case.pk}/detail/").content.decode()
    assert f'href="/admin/cases/case/{case.pk}/change/"' in html
    assert 'value="tag_selected"' in html and 'value="archive_selected"' in html
    # the 打标签 button leads to the tag form for this one case
    page = client_for("demo_mediator").post("/admin/cases/case/", {
        "action": "tag_selected", "_selected_action": [case.pk], "index": "0"})
    assert page.status_code == 200 and "添加标签" in page.content.decode()


def test_a_new_case_starts_with_an_applicant_row_and_a_respondent_row(world, client_for):
    page = client_for("demo_mediator").get("/admin/cases/case/add/?scope=neighbor")
    formset = next(fs for fs in page.context["inline_admin_formsets"] if fs.formset.model.__name__ == "Party")
    roles = [f.initial.get("role") for f in formset.formset.forms]
    assert roles[:2] == ["applicant", "respondent"]


# -- 8. role surface ----------------------------------------------------------------------------
INTERNAL_MENUS = {"审核": "/admin/cases/review/", "当事人": "/admin/cases/party/",
                  "案件档案": "/admin/cases/casefile/", "当事人预警名单": "/admin/escalation/partywarning/",
                  "重点人员": "/admin/escalation/keyperson/"}


@pytest.mark.parametrize("username", ["demo_tp_admin", "demo_tp_mediator"])
def test_a_third_party_sees_no_internal_menus_and_cannot_open_them(world, client_for, username):
    c = client_for(username)
    html = c.get("/admin/").content.decode()
    for name, url in INTERNAL_MENUS.items():
        assert f'href="{url}"' not in html, name
        assert c.get(url).status_code in (302, 403), name


def test_internal_menus_stay_for_the_street_admin(world, client_for):
    html = client_for("demo_street").get("/admin/").content.decode()
    for url in ("/admin/cases/review/", "/admin/cases/party/", "/admin/escalation/partywarning/"):
        assert f'href="{url}"' in html, url


def test_the_district_admin_opens_the_unified_address_library(world, client_for):
    from accounts.separation import sync_roles

    sync_roles()
    c = client_for("demo_district")
    assert c.get("/admin/addresses/standardaddress/").status_code == 200
    assert 'href="/admin/addresses/standardaddress/"' in c.get("/admin/").content.decode()


# -- 3. the message flood -----------------------------------------------------------------------
def _reminders(case, username="demo_mediator"):
    from notices.models import Notice

    return Notice.objects.filter(case=case, recipient__username=username, kind__in=("overdue", "remind"))


def test_reminders_about_one_case_stay_one_unread_message_until_read(make_case):
    from accounts.models import User
    from cases import chasing
    from notices.actions import mark_read

    t0 = timezone.now() - dt.timedelta(days=40)
    case = make_case(title="又超期又无进展", registered_at=t0, registrant=User.objects.get(username="demo_mediator"))
    now = timezone.now()
    assert chasing.flag_overdue(now) == 1 and chasing.flag_stale(now) == 1  # both still happen (trace)
    unread = _reminders(case).filter(read_at__isnull=True)
    assert unread.count() == 1 and "无进展" in unread.get().title  # the latest reminder, on top
    mark_read(User.objects.get(username="demo_mediator"))
    from cases.models import Case
    Case.objects.filter(pk=case.pk).update(last_progress_at=now + dt.timedelta(hours=1))  # progress, then idle
    assert chasing.flag_stale(now + dt.timedelta(days=8)) == 1   # a later period: a new message
    assert _reminders(case).count() == 2 and _reminders(case).filter(read_at__isnull=True).count() == 1


def _notice(username, kind, title, case=None):
    from accounts.models import User
    from notices.models import Notice

    return Notice.objects.create(recipient=User.objects.get(username=username), kind=kind, title=title, case=case)


def test_pc_inbox_filters_by_kind_and_marks_all_read(world, client_for):
    from notices.models import Notice

    for i in range(3):
        _notice("demo_mediator", "overdue", f"超期提醒{i}")
    _notice("demo_mediator", "result", "审核结果：通过")
    c = client_for("demo_mediator")
    html = c.get("/admin/notices/notice/?kind__exact=result").content.decode()
    assert 'id="notice-tabs"' in html and "审核结果：通过" in html and "超期提醒0" not in html
    assert re.search(r"超期提醒\s*<span class=\"badge bg-danger\">3</span>", html)
    c.post("/admin/notices/notice/read-all/", {"kind": "overdue"})
    mine = Notice.objects.filter(recipient__username="demo_mediator")
    assert mine.filter(read_at__isnull=True).get().kind == "result"   # only that kind
    c.post("/admin/notices/notice/read-all/", {})
    assert not mine.filter(read_at__isnull=True).exists()
    assert c.post("/admin/notices/notice/read-all/", {"kind": "nope"}).status_code == 302


def test_h5_inbox_filters_by_kind(world, client_for):
    from notices.models import Notice

    _notice("demo_mediator", "overdue", "超期提醒甲")
    _notice("demo_mediator", "result", "审核结果：通过")
    c = client_for("demo_mediator")
    html = c.get("/h5/messages/?kind=result").content.decode()
    assert 'id="notice-kinds"' in html and "审核结果：通过" in html and "超期提醒甲" not in html
    assert "超期提醒甲" in c.get("/h5/messages/?kind=bogus").content.decode()  # unknown kind: all
    c.post("/h5/messages/read-all/", {"kind": "result"})
    assert list(Notice.objects.filter(read_at__isnull=True).values_list("kind", flat=True)) == ["overdue"]


# -- 6. leftovers in a Chinese product ----------------------------------------------------------
def test_pc_pages_have_a_chinese_footer_and_chinese_list_phrasing(make_case, client_for):
    make_case()
    html = client_for("demo_mediator").get("/admin/cases/case/").content.decode()
    assert "Jazzmin" not in html and "矛盾纠纷调处研判系统" in html
    assert "来修改" not in html and "案件列表" in html
    assert re.search(r"共\s*1\s*条", html)


def test_the_admin_selection_counter_is_chinese(world, client_for):
    import json

    js = client_for("demo_mediator").get("/admin/jsi18n/").content.decode()
    assert "已选 %(sel)s 条" in js or json.dumps("已选 %(sel)s 条")[1:-1] in js


def test_searching_a_case_type_name_finds_its_cases(make_case, client_for):
    wage = make_case(title="工地讨薪", case_type="labor_wage")
    other = make_case(title="邻里噪音")
    html = client_for("demo_mediator").get("/admin/cases/case/", {"q": "欠薪"}).content.decode()
    assert f"/admin/cases/case/{wage.pk}/detail/" in html and f"/admin/cases/case/{other.pk}/detail/" not in html


# -- 9. small charts ----------------------------------------------------------------------------
def _chart(html: str, key: str) -> dict:
    import json

    m = re.search(rf'<script id="chart-data-{key}" type="application/json">(.*?)</script>', html, re.S)
    assert m, key
    return json.loads(m.group(1))


def test_workbench_shows_a_trend_and_a_type_distribution_of_the_scope(make_case, client_for):
    from django.core.cache import cache

    cache.clear()
    make_case(title="工地讨薪", case_type="labor_wage")
    make_case(title="工地讨薪2", case_type="labor_wage")
    make_case(region_name="溪口社区", title="别处的纠纷")  # outside the mediator's scope
    html = client_for("demo_mediator").get("/admin/").content.decode()
    assert 'id="workbench-charts"' in html and "vendor/echarts/dist/echarts.min.js" in html
    trend = _chart(html, "trend")
    assert trend["chart"] == "line" and trend["rows"][-1][1] == 2  # today: the two in scope
    assert _chart(html, "types")["rows"] == [["欠薪", 2]]


def test_h5_personal_centre_and_third_party_analysis_have_charts(make_case, client_for):
    from accounts.models import User

    make_case(title="我登记的", case_type="labor_wage", registrant=User.objects.get(username="demo_mediator"))
    html = client_for("demo_mediator").get("/h5/me/").content.decode()
    assert _chart(html, "my-types")["rows"] == [["欠薪", 1]] and _chart(html, "my-trend")["rows"][-1][1] == 1
    tp = client_for("demo_tp_admin").get("/tp/analysis/")
    assert tp.status_code == 200 and 'id="tp-charts"' in tp.content.decode()
