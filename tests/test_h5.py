"""H5 基层调解端 (phone): tabs, registration, the case page and its handling, messages and the
personal centre — always within the user's region scope."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import User
from cases import actions
from cases.models import Attachment, Case, HelpRequest, MediationItem, MediationLog, MediationResult, Review, Visit
from lowcode.models import FieldDef
from notices.actions import notify
from notices.models import Notice

from .conftest import DEMO_PASSWORD

# a 1×1 PNG
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def user(name: str) -> User:
    return User.objects.get(username=name)


def html(response) -> str:
    return response.content.decode()


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


@pytest.fixture
def other_region_case(make_case):
    return make_case("溪口社区", title="溪口社区宅基地纠纷", case_type="housing",
                     parties=[{"name": "赵六", "id_number": "110105194912310048", "phone": "13998765432"}])


# --- tabs, search, paging ------------------------------------------------------------------------
def test_tabs_show_the_cases_of_their_states_and_only_in_scope(mediator, make_case):
    make_case("湖滨社区", title="刚登记的纠纷")
    make_case("湖滨社区", title="调解中的纠纷", status="mediating")
    make_case("湖滨社区", title="等待审核的纠纷", status="pending_review")
    make_case("湖滨社区", title="等待提级审核的纠纷", status="escalation_review")
    make_case("湖滨社区", title="已调解的纠纷", status="mediated")
    make_case("湖滨社区", title="已归档的纠纷", status="archived")
    make_case("溪口社区", title="溪口社区登记的纠纷")
    make_case("溪口社区", title="溪口社区调解中的纠纷", status="mediating")

    registered = html(mediator.get("/h5/?tab=registered"))
    assert "刚登记的纠纷" in registered
    assert "调解中的纠纷" not in registered and "已调解的纠纷" not in registered
    assert "溪口社区登记的纠纷" not in registered

    mediating = html(mediator.get("/h5/?tab=mediating"))
    for title in ("调解中的纠纷", "等待审核的纠纷", "等待提级审核的纠纷"):
        assert title in mediating
    assert "刚登记的纠纷" not in mediating and "溪口社区调解中的纠纷" not in mediating

    mediated = html(mediator.get("/h5/?tab=mediated"))
    assert "已调解的纠纷" in mediated and "已归档的纠纷" in mediated and "调解中的纠纷" not in mediated


def test_list_shows_type_status_date_and_an_overdue_badge_only_for_open_cases(mediator, make_case):
    past = timezone.now() - dt.timedelta(days=3)
    make_case("湖滨社区", title="超期未结的纠纷", status="mediating", deadline=past)
    make_case("湖滨社区", title="按期办理的纠纷", status="mediating", deadline=timezone.now() + dt.timedelta(days=3))
    make_case("湖滨社区", title="已结的老纠纷", status="mediated", deadline=past)

    page = html(mediator.get("/h5/?tab=mediating"))
    overdue_item = re.search(r"超期未结的纠纷(.*?)</h4>", page, re.S).group(1)
    on_time_item = re.search(r"按期办理的纠纷(.*?)</h4>", page, re.S).group(1)
    assert "超期" in overdue_item and "超期" not in on_time_item
    assert "邻里纠纷" in page and "调解中" in page and timezone.localdate().strftime("%Y-") in page
    assert "超期" not in html(mediator.get("/h5/?tab=mediated")).split("已结的老纠纷")[1].split("</h4>")[0]


def test_search_by_title_or_full_id_number_stays_in_scope(client_for, make_case, other_region_case):
    make_case("湖滨社区", title="湖滨社区停车位纠纷",
              parties=[{"name": "钱七", "id_number": "110105194912310048", "phone": "13700000000"}])
    make_case("湖滨社区", title="湖滨社区噪音纠纷")
    c = client_for("demo_mediator")
    by_title = html(c.get("/h5/", {"q": "停车位"}))
    assert "湖滨社区停车位纠纷" in by_title and "湖滨社区噪音纠纷" not in by_title
    by_id = html(c.get("/h5/", {"q": "110105194912310048"}))  # shared with the 溪口 case
    assert "湖滨社区停车位纠纷" in by_id and "溪口社区宅基地纠纷" not in by_id
    district = html(client_for("demo_district").get("/h5/", {"q": "110105194912310048"}))
    assert "湖滨社区停车位纠纷" in district and "溪口社区宅基地纠纷" in district


def test_lists_page_by_twenty_with_a_load_more_link(mediator, make_case):
    for i in range(21):
        make_case("湖滨社区", title=f"批量纠纷{i:02d}", parties=[],
                  registered_at=timezone.now() - dt.timedelta(minutes=i))
    first = html(mediator.get("/h5/?tab=registered"))
    assert first.count('class="weui-media-box h5-case"') == 20 and "加载更多" in first
    assert "批量纠纷00" in first and "批量纠纷20" not in first
    more = html(mediator.get("/h5/?tab=registered&page=2&partial=1"))
    assert "批量纠纷20" in more and "加载更多" not in more and "<html" not in more


# --- access --------------------------------------------------------------------------------------
CASE_URLS = [
    ("get", "/h5/cases/{pk}/"),
    ("post", "/h5/cases/{pk}/logs/"),
    ("post", "/h5/cases/{pk}/items/"),
    ("post", "/h5/cases/{pk}/items/1/delete/"),
    ("post", "/h5/cases/{pk}/transition/"),
    ("get", "/h5/cases/{pk}/result/?action=提交结果"),
    ("post", "/h5/cases/{pk}/result/"),
    ("get", "/h5/cases/{pk}/help/?action=申请提级"),
    ("post", "/h5/cases/{pk}/help/"),
    ("get", "/h5/cases/{pk}/visits/new/"),
    ("post", "/h5/cases/{pk}/visits/new/"),
]


@pytest.mark.parametrize("method,url", CASE_URLS)
def test_other_regions_case_is_not_found_on_every_case_url(mediator, other_region_case, method, url):
    other_region_case.status = "mediating"
    other_region_case.save()
    data = {"action": "归档", "content": "x", "reason": "x", "outcome": "success"} if method == "post" else None
    response = getattr(mediator, method)(url.format(pk=other_region_case.pk), data)
    assert response.status_code == 404
    assert "溪口社区宅基地纠纷" not in html(response)
    other_region_case.refresh_from_db()
    assert other_region_case.status == "mediating" and not MediationLog.objects.exists()


def test_other_regions_attachment_is_not_found(mediator, other_region_case):
    att = Attachment.objects.create(case=other_region_case, file=SimpleUploadedFile("a.png", PNG), name="a.png",
                                    size=len(PNG), content_type="image/png")
    assert mediator.get(f"/h5/attachments/{att.pk}/").status_code == 404


def test_users_without_case_permission_get_403(client_for, mediating):
    from accounts.models import User

    # an account whose roles carry no case right (third parties have case rights since dispatch:
    # their rows are the cases awarded to them — tests/test_dispatch_scope.py)
    User.objects.create_user("no_case_rights", password="x-unused-1", is_staff=True)
    c = client_for("no_case_rights")
    assert c.get("/h5/").status_code == 403
    assert c.get(f"/h5/cases/{mediating.pk}/").status_code == 403
    assert "没有使用本功能的权限" in html(c.get("/h5/cases/new/"))


def test_anonymous_users_go_to_the_h5_login_and_land_on_home(client, world):
    response = client.get("/h5/?tab=mediating")
    assert response.status_code == 302 and response["Location"].startswith("/h5/login/")
    login = client.get("/h5/login/")
    assert "登录" in html(login) and 'name="viewport"' in html(login)
    assert client.post("/h5/login/", {"username": "demo_mediator", "password": "wrong"}).status_code == 200
    done = client.post("/h5/login/", {"username": "demo_mediator", "password": DEMO_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/h5/"
    assert client.get("/h5/").status_code == 200
    assert client.post("/h5/logout/").status_code == 302
    assert client.get("/h5/").status_code == 302


def test_pages_use_the_local_weui_stylesheet_and_csrf(mediator, mediating):
    page = html(mediator.get(f"/h5/cases/{mediating.pk}/"))
    assert "/static/vendor/weui/dist/style/weui.min.css" in page and "/static/h5/h5.css" in page
    assert "//cdn" not in page and "https://" not in page
    assert page.count('method="post"') == page.count("csrfmiddlewaretoken")


# --- registration --------------------------------------------------------------------------------
@pytest.fixture
def months_field(metadata):
    return FieldDef.objects.create(entity="case", code="arrears_total", label="拖欠总额(元)", fieldtype="decimal",
                                   scope=["labor"], reqd=True, idx=400)


def case_post(region_pk, **overrides):
    data = {
        "case_type": "labor_wage", "title": "某公司拖欠工资纠纷", "description": "12 名工人反映被拖欠三个月工资",
        "mediation_type": "", "source": "local", "occurred_at": "2026-01-05T09:30", "address": "湖滨路 8 号",
        "region": region_pk, "party_count": "12", "employer_name": "示范建筑公司", "arrears_months": "3",
        "parties-TOTAL_FORMS": "2", "parties-INITIAL_FORMS": "0", "parties-MIN_NUM_FORMS": "1",
        "parties-MAX_NUM_FORMS": "1000",
        "parties-0-role": "applicant", "parties-0-party_kind": "person", "parties-0-name": "孙八",
        "parties-0-id_number": "11010519491231002X", "parties-0-phone": "13812345678", "parties-0-address": "",
        "parties-1-role": "respondent", "parties-1-party_kind": "person", "parties-1-name": "",
        "parties-1-id_number": "", "parties-1-phone": "", "parties-1-address": "",
    }
    data.update(overrides)
    return data


def test_adding_a_case_starts_with_the_case_type_tree(mediator, metadata):
    page = html(mediator.get("/h5/cases/new/"))
    assert "劳动争议" in page and "欠薪" in page and "?type=labor_wage" in page


def test_type_specific_required_field_error_is_chinese_and_keeps_what_was_typed(mediator, months_field):
    hubin = user("demo_mediator").region
    form = html(mediator.get("/h5/cases/new/?type=labor_wage"))
    assert "拖欠总额(元)" in form and "用人单位" in form and "欠薪月数" in form
    assert "拖欠总额(元)" not in html(mediator.get("/h5/cases/new/?type=neighbor"))

    response = mediator.post("/h5/cases/new/", case_post(hubin.pk))
    page = html(response)
    assert response.status_code == 200 and not Case.objects.exists()
    field = re.search(r'data-field="arrears_total".*?</div>\s*</div>', page, re.S).group(0)
    assert "这个字段是必填项" in field
    for typed in ("某公司拖欠工资纠纷", "12 名工人反映被拖欠三个月工资", "湖滨路 8 号", "孙八", "示范建筑公司",
                  "2026-01-05T09:30", "11010519491231002X"):
        assert typed in page

    done = mediator.post("/h5/cases/new/", case_post(hubin.pk, arrears_total="86000.50"))
    case = Case.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/h5/cases/{case.pk}/"
    assert case.case_type == "labor_wage" and case.extra["arrears_total"] == 86000.5
    assert case.registrant == user("demo_mediator") and case.organization == user("demo_mediator").organization
    assert list(case.parties.values_list("name", flat=True)) == ["孙八"]
    assert case.party_count == 12 and case.region == hubin and case.status == "registered"


def test_registration_region_is_limited_to_the_users_subtree(mediator, metadata):
    from orgs.models import Region

    xikou = Region.objects.get(name="溪口社区")
    page = html(mediator.get("/h5/cases/new/?type=neighbor"))
    assert "湖滨社区" in page and "溪口社区" not in page
    assert f'<option value="{user("demo_mediator").region_id}" selected>湖滨社区</option>' in page  # default
    response = mediator.post("/h5/cases/new/", case_post(xikou.pk, case_type="neighbor"))
    assert response.status_code == 200 and not Case.objects.exists()


def test_registration_requires_a_party(mediator, metadata):
    hubin = user("demo_mediator").region
    response = mediator.post("/h5/cases/new/", case_post(hubin.pk, case_type="neighbor", **{
        "parties-0-name": "", "parties-0-id_number": "", "parties-0-phone": ""}))
    assert response.status_code == 200 and not Case.objects.exists()
    assert "这个字段是必填项" in html(response)


# --- the case page ------------------------------------------------------------------------------
def test_case_page_shows_detail_layout_and_masks_identity(mediator, mediating):
    page = html(mediator.get(f"/h5/cases/{mediating.pk}/"))
    assert "湖滨社区邻里漏水纠纷" in page and mediating.exchange_id in page and "纠纷情况" in page
    assert "1101**********002X" in page and "138****8000" in page
    assert "11010519491231002X" not in page and "13800138000" not in page
    assert "开始调解" in page  # the trace


def test_log_with_an_image_is_saved_with_its_attachment(mediator, mediating):
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    response = mediator.post(f"/h5/cases/{mediating.pk}/logs/", {
        "occurred_at": "2026-02-01T10:00", "place": "社区调解室", "participants": "双方当事人",
        "content": "双方同意先行修复漏水点", "files": [photo]})
    assert response.status_code == 302
    log = MediationLog.objects.get(case=mediating)
    assert log.place == "社区调解室" and log.created_by == user("demo_mediator")
    att = log.attachments.get()
    assert att.name == "现场.png" and att.purpose == "log"
    page = html(mediator.get(f"/h5/cases/{mediating.pk}/"))
    assert "双方同意先行修复漏水点" in page and f"/h5/attachments/{att.pk}/" in page
    assert mediator.get(f"/h5/attachments/{att.pk}/").status_code == 200


@pytest.mark.parametrize("upload,reason", [
    (lambda: SimpleUploadedFile("tool.exe", b"MZ...", content_type="application/octet-stream"), "不支持的附件类型“.exe”"),
    (lambda: SimpleUploadedFile("big.png", PNG * 20, content_type="image/png"), "超过"),
])
def test_log_with_a_forbidden_or_oversize_file_is_refused_and_nothing_saved(mediator, mediating, settings,
                                                                         upload, reason):
    settings.ATTACHMENT_MAX_BYTES = len(PNG) * 10
    ok = SimpleUploadedFile("ok.png", PNG, content_type="image/png")
    response = mediator.post(f"/h5/cases/{mediating.pk}/logs/", {
        "occurred_at": "2026-02-01T10:00", "content": "第二次调解", "files": [ok, upload()]})
    page = html(response)
    assert response.status_code == 200 and reason in page
    assert "第二次调解" in page  # what was typed is kept
    assert not MediationLog.objects.exists() and not Attachment.objects.exists()


def test_log_without_content_is_refused_in_chinese(mediator, mediating):
    response = mediator.post(f"/h5/cases/{mediating.pk}/logs/", {"occurred_at": "2026-02-01T10:00", "content": ""})
    assert "请填写调解情况" in html(response) and not MediationLog.objects.exists()


def test_mediation_items_are_added_and_removed(mediator, mediating):
    assert mediator.post(f"/h5/cases/{mediating.pk}/items/", {
        "content": "赔偿墙面修复费用", "claim_amount": "1500", "settled": "on", "note": ""}).status_code == 302
    item = MediationItem.objects.get(case=mediating)
    assert item.settled and item.claim_amount == 1500
    assert "赔偿墙面修复费用" in html(mediator.get(f"/h5/cases/{mediating.pk}/"))
    assert "请填写调解事项" in html(mediator.post(f"/h5/cases/{mediating.pk}/items/", {"content": ""}))
    assert mediator.post(f"/h5/cases/{mediating.pk}/items/{item.pk}/delete/").status_code == 302
    assert not MediationItem.objects.exists()


def test_start_mediation_button_moves_a_registered_case(mediator, make_case):
    case = make_case("湖滨社区", title="新登记纠纷")
    assert "开始调解" in html(mediator.get(f"/h5/cases/{case.pk}/"))
    page = html(mediator.post(f"/h5/cases/{case.pk}/transition/", {"action": "开始调解"}, follow=True))
    case.refresh_from_db()
    assert case.status == "mediating" and "已开始调解" in page


def test_a_transition_not_allowed_is_refused_with_its_reason(mediator, mediating):
    page = html(mediator.post(f"/h5/cases/{mediating.pk}/transition/", {"action": "归档"}, follow=True))
    mediating.refresh_from_db()
    assert mediating.status == "mediating"
    assert "当前状态“调解中”下不能执行“归档”" in page


def test_review_decisions_are_not_offered_on_the_phone(client_for, mediating):
    actions.submit_result(mediating, user("demo_mediator"), action="提交结果", outcome="success")
    street = client_for("demo_street")
    assert "审核通过" not in html(street.get(f"/h5/cases/{mediating.pk}/")).split("id=\"info\"")[0]
    page = html(street.post(f"/h5/cases/{mediating.pk}/transition/", {"action": "审核通过"}, follow=True))
    mediating.refresh_from_db()
    assert mediating.status == "pending_review" and "电脑端" in page


def test_submitting_the_result_waits_for_review_and_notifies_the_street(mediator, mediating):
    page = html(mediator.get(f"/h5/cases/{mediating.pk}/"))
    assert f"/h5/cases/{mediating.pk}/result/?action=" in page
    form = html(mediator.get(f"/h5/cases/{mediating.pk}/result/", {"action": "提交结果"}))
    assert "调解成功" in form and "部分成功" in form and "调解失败" in form
    response = mediator.post(f"/h5/cases/{mediating.pk}/result/", {
        "action": "提交结果", "outcome": "success", "agreement": "被申请人赔偿 1500 元", "amount": "1500",
        "files": [SimpleUploadedFile("协议.pdf", b"%PDF-1.4", content_type="application/pdf")]})
    assert response.status_code == 302
    mediating.refresh_from_db()
    assert mediating.status == "pending_review"
    result = MediationResult.objects.get(case=mediating)
    assert result.outcome == "success" and result.amount == 1500
    assert Attachment.objects.filter(case=mediating, purpose="result").count() == 1
    review = Review.objects.get(case=mediating)
    assert review.status == "pending" and review.kind == "result"
    assert Notice.objects.filter(recipient__username="demo_street", kind="review", case=mediating).exists()
    page = html(mediator.get(f"/h5/cases/{mediating.pk}/"))
    assert "结果待审核" in page and "被申请人赔偿 1500 元" in page and "结果审核" in page


def test_result_without_outcome_is_refused_and_changes_nothing(mediator, mediating):
    response = mediator.post(f"/h5/cases/{mediating.pk}/result/", {"action": "提交结果", "agreement": "草稿"})
    assert "请选择调解结果" in html(response) and "草稿" in html(response)
    mediating.refresh_from_db()
    assert mediating.status == "mediating" and not MediationResult.objects.exists()


def test_requesting_escalation_goes_to_escalation_review(mediator, mediating):
    form = html(mediator.get(f"/h5/cases/{mediating.pk}/help/", {"action": "申请提级"}))
    assert "求助原因" in form and "预期费用" not in form
    assert "请填写求助原因" in html(mediator.post(f"/h5/cases/{mediating.pk}/help/",
                                               {"action": "申请提级", "reason": ""}))
    response = mediator.post(f"/h5/cases/{mediating.pk}/help/", {"action": "申请提级", "reason": "涉及多个社区，需街道协调"})
    assert response.status_code == 302
    mediating.refresh_from_db()
    assert mediating.status == "escalation_review"
    assert HelpRequest.objects.get(case=mediating).kind == "escalate"
    assert Review.objects.get(case=mediating).kind == "escalation"


def test_requesting_dispatch_asks_for_the_expected_fee(mediator, mediating):
    assert "预期费用" in html(mediator.get(f"/h5/cases/{mediating.pk}/help/", {"action": "申请发单"}))
    mediator.post(f"/h5/cases/{mediating.pk}/help/", {"action": "申请发单", "reason": "专业性强", "expected_fee": "800"})
    mediating.refresh_from_db()
    help_request = HelpRequest.objects.get(case=mediating)
    assert mediating.status == "dispatch_review"
    assert help_request.kind == "dispatch" and help_request.expected_fee == 800


def test_a_form_action_not_available_in_this_state_is_refused(mediator, make_case):
    case = make_case("湖滨社区", status="mediated")
    page = html(mediator.get(f"/h5/cases/{case.pk}/result/", {"action": "提交结果"}, follow=True))
    assert "当前状态“已调解”下不能执行“提交结果”" in page


def test_follow_up_visits_only_on_closed_cases(mediator, mediating, make_case):
    refused = html(mediator.get(f"/h5/cases/{mediating.pk}/visits/new/", follow=True))
    assert "办结后才能回访" in refused
    done = make_case("湖滨社区", title="已调解的纠纷", status="mediated")
    form = html(mediator.get(f"/h5/cases/{done.pk}/visits/new/"))
    assert "电话回访" in form and "基本满意" in form
    assert "请选择回访方式" in html(mediator.post(f"/h5/cases/{done.pk}/visits/new/",
                                               {"visited_at": "2026-03-01T09:00", "satisfaction": "satisfied"}))
    response = mediator.post(f"/h5/cases/{done.pk}/visits/new/", {
        "visited_at": "2026-03-01T09:00", "way": "phone", "satisfaction": "satisfied", "notes": "双方履行完毕"})
    assert response.status_code == 302
    visit = Visit.objects.get(case=done)
    assert visit.way == "phone" and visit.visitor == user("demo_mediator")
    page = html(mediator.get(f"/h5/cases/{done.pk}/"))
    assert "电话回访" in page and "双方履行完毕" in page


def test_similar_cases_show_cases_sharing_the_applicants_id_number(mediator, make_case):
    applicant = {"name": "张三", "id_number": "11010519491231002X", "phone": "13800138000"}
    case = make_case("湖滨社区", title="本案", address="湖滨路 1 号", parties=[dict(applicant)])
    make_case("湖滨社区", title="同一申请人的旧案", parties=[{"name": "张三", "id_number": "11010519491231002X"}])
    make_case("湖滨社区", title="同一电话的旧案", parties=[{"name": "李四", "phone": "13800138000"}])
    make_case("湖滨社区", title="同一地址的旧案", address="湖滨路 1 号", parties=[{"name": "王五"}])
    make_case("湖滨社区", title="无关的旧案", parties=[{"name": "赵六", "id_number": "110105194912310048"}])
    make_case("溪口社区", title="辖区外的同人案件", parties=[dict(applicant)])

    page = html(mediator.get(f"/h5/cases/{case.pk}/"))
    similar = page.split('id="similar"')[1]
    assert "同一申请人的旧案" in similar and "同当事人（张三）" in similar
    assert "同一电话的旧案" in similar and "同电话" in similar
    assert "同一地址的旧案" in similar and "同地址" in similar
    assert "无关的旧案" not in similar and "辖区外的同人案件" not in similar and "本案" not in similar


# --- messages ---------------------------------------------------------------------------------
def test_messages_show_unread_first_with_count_and_are_marked_read(mediator, mediating, other_region_case):
    me = user("demo_mediator")
    notify([me], "result", "审核结果：退回补充", "请补充调解协议", mediating)
    assert notify([me], "warning", "预警：辖区外案件", "", other_region_case) == 0  # not sent out of scope
    old = Notice.objects.create(recipient=me, kind="system", title="早先已读的通知",
                                read_at=timezone.now(), created_at=timezone.now() + dt.timedelta(hours=1))
    notify([user("demo_street")], "review", "别人的消息")

    page = html(mediator.get("/h5/messages/"))
    assert '<strong class="h5-unread-count">1</strong>' in page and "别人的消息" not in page
    assert page.index("审核结果：退回补充") < page.index("早先已读的通知")  # unread first
    assert 'aria-label="1 条未读"' in html(mediator.get("/h5/"))

    review = Notice.objects.get(title="审核结果：退回补充")
    opened = html(mediator.get(f"/h5/messages/{review.pk}/"))
    assert "请补充调解协议" in opened and f"/h5/cases/{mediating.pk}/" in opened
    assert Notice.objects.get(pk=review.pk).read_at is not None
    assert not Notice.objects.filter(title="预警：辖区外案件").exists()
    assert mediator.get(f"/h5/messages/{Notice.objects.get(title='别人的消息').pk}/").status_code == 404

    notify([me], "overdue", "超期提醒", "", mediating)
    assert mediator.post("/h5/messages/read-all/").status_code == 302
    assert not Notice.objects.filter(recipient=me, read_at__isnull=True).exists()
    assert old.pk and '<strong class="h5-unread-count">0</strong>' in html(mediator.get("/h5/messages/"))


# --- personal centre -------------------------------------------------------------------------
def test_personal_figures_count_own_cases_success_rate_and_handling_days(mediator, make_case):
    from h5.queries import month_starts, my_figures

    me, other = user("demo_mediator"), user("demo_street")
    this_month, last_month = month_starts()
    when = [this_month + dt.timedelta(minutes=1)] * 3 + [last_month + dt.timedelta(days=1)] * 2
    cases = [make_case("湖滨社区", title=f"我的案件{i}", registrant=me, status=s, registered_at=when[i])
             for i, s in enumerate(["mediated", "mediated", "pending_review", "registered", "mediating"])]
    for case, outcome in zip(cases, ["success", "success", "failed"]):
        MediationResult.objects.create(case=case, outcome=outcome, submitted_by=me)
    for case, days in zip(cases[:2], [4, 6]):
        Review.objects.create(case=case, kind="result", state="pending_review", status="approve", submitted_by=me,
                              decided_at=case.registered_at + dt.timedelta(days=days))
    Review.objects.create(case=cases[2], kind="result", state="pending_review", submitted_by=me)
    theirs = make_case("湖滨社区", title="别人的案件", registrant=other, status="mediated")
    MediationResult.objects.create(case=theirs, outcome="failed")

    figures = my_figures(me)
    assert (figures.total, figures.closed, figures.open) == (5, 2, 3)
    assert (figures.with_result, figures.success, figures.success_rate) == (3, 2, 66.7)
    assert figures.avg_days == 5.0
    assert (figures.this_month, figures.last_month) == (3, 2)

    page = html(mediator.get("/h5/me/"))
    assert "湖滨社区调解员" in page and "社区调解员" in page and "湖滨社区人民调解委员会" in page
    assert '<strong class="h5-success-rate">66.7%</strong>' in page
    assert '<strong class="h5-avg-days">5.0</strong>' in page


def test_phone_selects_say_please_choose_instead_of_dashes(mediator, metadata):
    form = html(mediator.get("/h5/cases/new/?type=labor_wage"))
    assert "调解类型" in form and "请选择" in form
    assert "---------" not in form
