"""第三方调解端 screens, as their users notice them: the org admin on PC (组织信息, 调解员, 竞单中心,
报名记录, 调解中心, 对账中心, 调解分析) and the third-party mediator on the phone (竞单中心, 我的报名,
报名详情, 调解中心: confirm the voucher, add parties and logs, submit the result). Bad input gets a
Chinese message and changes nothing; another organisation's rows never show.

``tp_world`` (also used by tests/test_thirdparty_matrix.py) builds one order per state through
dispatch.actions; a passing deadline is simulated by moving the order's window into the past."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
OWN_ORG, OTHER_ORG = "和合商事调解中心", "平安律师调解工作室"
# what each order's case is about; the marker is in the case title (copied, masked, into the order)
# and in case-only text (address, log) that a third party may read only once awarded the case
STATES = {
    "open": "【开放】", "not_started": "【未开始】", "closed": "【已截止】",
    "own": "【本组织中选】", "other": "【他组织中选】", "withdrawn": "【已撤回】",
}


def user(name: str):
    from accounts.models import User

    return User.objects.get(username=name)


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def tp_world(world, make_case, settings, tmp_path):
    """Orders in every state for 和合商事调解中心 (demo_tp_admin, demo_tp_mediator) and a rival
    organisation (tp_rival: its mediator). Returns {state: order} plus the people."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from cases.models import MediationLog
    from dispatch import actions
    from dispatch.models import DispatchOrder
    from orgs.models import Organization

    settings.MEDIA_ROOT = tmp_path / "media"
    rival_org = Organization.objects.get(name=OTHER_ORG)
    rival = User.objects.create_user("tp_rival", password="x-unused-1", display_name="平安调解员",
                                     organization=rival_org, is_staff=True)
    rival.groups.add(Group.objects.get(name="第三方调解员"))
    staff, own = user("demo_district"), user("demo_tp_mediator")
    now = timezone.now()
    out = {"staff": staff, "mediator": own, "admin": user("demo_tp_admin"), "rival": rival}

    def order_for(key: str, region: str = "湖滨社区"):
        mark = STATES[key]
        case = make_case(region, title=f"王建国与李四的合同纠纷{mark}", status="dispatched", case_type="contract",
                         description=f"王建国称李四拖欠货款{mark}", address=f"示范区解放路{mark}",
                         parties=[{"name": "王建国", "id_number": "11010519491231002X", "phone": "13800138000"}])
        MediationLog.objects.create(case=case, content=f"属地调解记录{mark}", created_by=staff)
        return actions.create_order(case, staff, expected_fee="3000", mediation_deadline=(now + dt.timedelta(days=30)).date(),
                                    signup_start=now - dt.timedelta(hours=1), signup_end=now + dt.timedelta(hours=2),
                                    requirements=f"具备商事调解经验{mark}")

    def close_window(order):
        DispatchOrder.objects.filter(pk=order.pk).update(signup_start=now - dt.timedelta(days=2),
                                                         signup_end=now - dt.timedelta(minutes=1))
        order.refresh_from_db()

    out["open"] = order_for("open")
    out["not_started"] = order_for("not_started", "溪口社区")
    DispatchOrder.objects.filter(pk=out["not_started"].pk).update(signup_start=now + dt.timedelta(hours=1),
                                                                  signup_end=now + dt.timedelta(hours=5))
    out["closed"] = order_for("closed")
    actions.sign_up(out["closed"], rival, plan="平安方案")
    close_window(out["closed"])
    for key, winner in (("own", own), ("other", rival), ("withdrawn", own)):
        order = order_for(key)
        bids = {u.username: actions.sign_up(order, u, plan=f"{u}的调解方案", quoted_fee="2800") for u in (own, rival)}
        close_window(order)
        actions.award(order, bids[winner.username], staff)
        order.refresh_from_db()
        out[key] = order
    actions.withdraw(out["withdrawn"], staff, reason="当事人撤回申请")
    for key in STATES:
        out[key].refresh_from_db()
    return out


# --- PC: access -----------------------------------------------------------------------------------
def test_staff_and_grassroots_users_are_turned_away_from_the_third_party_end(tp_world, client_for):
    for name in ("demo_district", "demo_mediator"):
        c = client_for(name)
        for url in ("/tp/", "/tp/pool/", "/tp/m/", f"/tp/orders/{tp_world['open'].pk}/"):
            r = c.get(url)
            assert r.status_code == 403, (name, url)
            assert "第三方调解组织" in html(r)


def test_anonymous_users_go_to_the_login_pages(tp_world, client):
    assert client.get("/tp/pool/")["Location"].startswith("/admin/login/")
    assert client.get("/tp/m/")["Location"].startswith("/tp/m/login/")


def test_third_party_login_lands_on_the_third_party_workbench(tp_world, client_for):
    c = client_for("demo_tp_admin")
    r = c.get("/admin/")
    assert r.status_code == 302 and r["Location"] == "/tp/"
    page = html(c.get("/tp/"))
    assert "第三方调解工作台" in page and "待确认凭证" in page and "调解分析" in page


def test_mediators_do_not_get_the_org_admin_screens(tp_world, client_for):
    c = client_for("demo_tp_mediator")
    for url in ("/tp/mediators/", "/tp/statements/", "/tp/analysis/"):
        assert c.get(url).status_code == 403
    assert c.get("/tp/pool/").status_code == 200
    r = c.post("/tp/org/", {"phone": "0571-1234567"})
    assert r.status_code == 403


# --- 组织信息 / 调解员 ----------------------------------------------------------------------------
def test_org_admin_updates_the_allowed_org_info_and_sees_it(tp_world, client_for):
    c = client_for("demo_tp_admin")
    r = c.post("/tp/org/", {"contact": "陈主任", "phone": "0571-88886666", "address": "示范区钱江路1号",
                            "specialties": "商事合同、物业纠纷", "intro": "专业商事调解组织"})
    assert r.status_code == 302
    page = html(c.get("/tp/org/"))
    assert "陈主任" in page and "0571-88886666" in page and "商事合同、物业纠纷" in page
    # a mediator of the organisation sees it, read-only
    page = html(client_for("demo_tp_mediator").get("/tp/org/"))
    assert "0571-88886666" in page and "修改组织信息" not in page


def test_bad_org_info_is_refused_with_a_message_and_nothing_saved(tp_world, client_for):
    from partners.models import OrgProfile

    r = client_for("demo_tp_admin").post("/tp/org/", {"phone": "电话<script>", "contact": "x" * 40})
    assert r.status_code == 200
    page = html(r)
    assert "联系电话只能包含数字" in page
    assert not OrgProfile.objects.exists()


def test_org_admin_adds_a_mediator_who_can_then_sign_up_and_disables_them(tp_world, client_for):
    from accounts.models import User

    c = client_for("demo_tp_admin")
    r = c.post("/tp/mediators/", {"op": "add", "username": "hehe_li", "display_name": "李调解",
                                  "mobile": "13900001111", "password": "Hehe@2026-strong", "active": "on"})
    assert r.status_code == 302
    new = User.objects.get(username="hehe_li")
    assert new.organization.name == OWN_ORG and new.is_active
    assert new.groups.filter(name="第三方调解员").exists()
    assert "李调解" in html(c.get("/tp/mediators/"))
    # the creator knows the initial password: the mediator must change it at the first login,
    # then the account works on the phone end
    assert new.must_change_password
    new.must_change_password = False
    new.save(update_fields=["must_change_password"])
    from django.test import Client

    phone = Client()
    phone.force_login(new)
    assert phone.post(f"/tp/m/orders/{tp_world['open'].pk}/signup/", {"plan": "新人方案"}).status_code == 302
    assert tp_world["open"].bids.filter(mediator=new, status="active").exists()
    c.post("/tp/mediators/", {"op": "disable", "user": new.pk})
    new.refresh_from_db()
    assert not new.is_active


def test_org_admin_cannot_manage_accounts_of_another_organisation(tp_world, client_for):
    c = client_for("demo_tp_admin")
    r = c.post("/tp/mediators/", {"op": "disable", "user": tp_world["rival"].pk}, follow=True)
    assert "该账号不存在或不属于本组织" in html(r)
    tp_world["rival"].refresh_from_db()
    assert tp_world["rival"].is_active


def test_adding_a_mediator_with_bad_input_explains_and_creates_nothing(tp_world, client_for):
    from accounts.models import User

    c = client_for("demo_tp_admin")
    before = User.objects.count()
    r = c.post("/tp/mediators/", {"op": "add", "username": "a b", "display_name": "", "password": "123",
                                  "mobile": "12345"})
    page = html(r)
    assert r.status_code == 200 and "请填写 11 位手机号" in page and "这个字段是必填项" in page
    r = c.post("/tp/mediators/", {"op": "add", "username": "demo_mediator", "display_name": "冒名",
                                  "password": "Hehe@2026-strong"})
    assert "已存在" in html(r)
    r = c.post("/tp/mediators/", {"op": "add", "username": "weakpwd", "display_name": "弱密码", "password": "12345678"})
    assert "密码不符合要求" in html(r)
    assert User.objects.count() == before


# --- 竞单中心 / 报名记录 (PC) -----------------------------------------------------------------------------
def test_bid_pool_shows_open_orders_masked_and_nothing_else(tp_world, client_for):
    page = html(client_for("demo_tp_admin").get("/tp/pool/"))
    assert STATES["open"] in page and STATES["not_started"] in page
    for key in ("closed", "own", "other", "withdrawn"):
        assert STATES[key] not in page, key
    assert "王建国" not in page and "王某" in page          # names masked


def test_bid_pool_combined_query_by_content_status_type_and_fee(tp_world, client_for):
    c = client_for("demo_tp_admin")
    page = html(c.get("/tp/pool/?phase=bidding"))
    assert STATES["open"] in page and STATES["not_started"] not in page
    page = html(c.get("/tp/pool/?q=未开始"))
    assert STATES["not_started"] in page and STATES["open"] not in page
    page = html(c.get("/tp/pool/?case_type=labor"))
    assert "没有符合条件的发单" in page
    page = html(c.get("/tp/pool/?fee_min=5000"))
    assert "没有符合条件的发单" in page


def test_bad_query_values_get_a_message_not_an_error(tp_world, client_for):
    c = client_for("demo_tp_admin")
    for url in ("/tp/pool/?fee_min=abc", "/tp/pool/?fee_min=9&fee_max=1", "/tp/pool/?phase=xx",
                "/tp/pool/?page=999", "/tp/bids/?status=zz", "/tp/cases/?phase=zz", "/tp/statements/?start=2026-13-01",
                "/tp/analysis/?start=2026-05-01&end=2026-01-01", "/tp/m/?fee_max=-1", "/tp/m/cases/?page=abc"):
        r = c.get(url)
        assert r.status_code == 200, url
    assert "起始值不能大于结束值" in html(c.get("/tp/pool/?fee_min=9&fee_max=1"))
    assert "开始日期不能晚于结束日期" in html(c.get("/tp/analysis/?start=2026-05-01&end=2026-01-01"))


def test_org_admin_signs_up_naming_a_mediator_and_finds_it_in_bid_records(tp_world, client_for):
    c = client_for("demo_tp_admin")
    order = tp_world["open"]
    r = c.post(f"/tp/orders/{order.pk}/signup/", {"mediator": tp_world["mediator"].pk, "plan": "三日内上门调解",
                                                   "quoted_fee": "2500"})
    assert r.status_code == 302
    bid = order.bids.get(status="active")
    assert bid.mediator == tp_world["mediator"] and bid.quoted_fee == Decimal("2500")
    page = html(c.get("/tp/bids/?status=active&q=开放"))
    assert order.number in page
    page = html(c.get("/tp/bids/?status=won"))
    assert tp_world["own"].number in page and order.number not in page
    # the pool marks it
    assert "已报名" in html(c.get("/tp/pool/"))


def test_signing_up_twice_or_out_of_window_is_refused_with_the_reason(tp_world, client_for):
    c = client_for("demo_tp_mediator")
    order = tp_world["open"]
    c.post(f"/tp/orders/{order.pk}/signup/", {"plan": "第一次"})
    r = c.post(f"/tp/orders/{order.pk}/signup/", {"plan": "第二次"}, follow=True)
    assert "本组织已报名该发单" in html(r)
    r = c.post(f"/tp/orders/{tp_world['not_started'].pk}/signup/", {"plan": "抢跑"}, follow=True)
    assert "报名尚未开始" in html(r)
    assert order.bids.count() == 1 and not tp_world["not_started"].bids.exists()
    r = c.post(f"/tp/orders/{order.pk}/signup/", {"quoted_fee": "-5"})
    assert r.status_code == 400 and order.bids.count() == 1


def test_closed_or_foreign_orders_are_404(tp_world, client_for):
    c = client_for("demo_tp_mediator")
    # closed: the own organisation never signed up → invisible
    assert c.get(f"/tp/orders/{tp_world['closed'].pk}/").status_code == 404
    assert c.post(f"/tp/orders/{tp_world['closed'].pk}/signup/", {"plan": "x"}).status_code == 404
    # awarded to the rival: the sign-up record stays readable (未中选), the case is not
    page = html(c.get(f"/tp/orders/{tp_world['other'].pk}/"))
    assert "未中选" in page and "进入调解" not in page
    assert c.get(f"/tp/orders/{tp_world['other'].pk}/case/").status_code == 404
    assert c.get(f"/tp/m/orders/{tp_world['other'].pk}/case/").status_code == 404


def test_cancel_a_sign_up_before_the_deadline(tp_world, client_for):
    c = client_for("demo_tp_mediator")
    order = tp_world["open"]
    c.post(f"/tp/m/orders/{order.pk}/signup/", {"plan": "方案"})
    r = c.post(f"/tp/m/orders/{order.pk}/cancel/", follow=True)
    assert "已取消报名" in html(r)
    assert order.bids.get().status == "cancelled"
    r = c.post(f"/tp/m/orders/{order.pk}/cancel/", follow=True)
    assert "没有可取消的报名" in html(r)


# --- 调解中心 (PC) -----------------------------------------------------------------------------------
def test_case_list_holds_only_the_cases_awarded_to_the_own_org(tp_world, client_for):
    page = html(client_for("demo_tp_admin").get("/tp/cases/"))
    assert STATES["own"] in page
    for key in ("open", "closed", "other", "withdrawn", "not_started"):
        assert STATES[key] not in page, key
    assert "待确认" in page


def test_pc_case_page_confirms_the_voucher_and_adds_a_party(tp_world, client_for):
    from cases.models import Case

    c = client_for("demo_tp_admin")
    order = tp_world["own"]
    page = html(c.get(f"/tp/orders/{order.pk}/case/"))
    assert f"示范区解放路{STATES['own']}" in page and order.voucher.number in page and "确认凭证并开始调解" in page
    r = c.post(f"/tp/orders/{order.pk}/confirm/", follow=True)
    assert "已确认凭证" in html(r)
    order.refresh_from_db()
    assert order.state == "mediating" and Case.objects.get(pk=order.case_id).status == "mediating"
    r = c.post(f"/tp/orders/{order.pk}/parties/", {"role": "respondent", "party_kind": "person", "name": "李四",
                                                    "id_number": "110105198001010032", "phone": "13912345678"})
    assert r.status_code == 302
    page = html(c.get(f"/tp/orders/{order.pk}/case/"))
    assert "李四" in page and "1101**********0032" in page   # masked: the third party has no sensitive right
    assert "记录调解日志" in page and "提交调解结果" in page


def test_adding_a_party_with_a_bad_id_number_explains_and_saves_nothing(tp_world, client_for):
    from dispatch import actions

    order = tp_world["own"]
    actions.confirm_voucher(order, user("demo_tp_admin"))
    before = order.case.parties.count()
    r = client_for("demo_tp_admin").post(f"/tp/orders/{order.pk}/parties/", {"role": "respondent", "party_kind": "person",
                                                                             "name": "李四", "id_number": "123"})
    assert r.status_code == 400 and "身份证" in html(r) or "证件" in html(r)
    assert order.case.parties.count() == before


# --- 对账中心 / 调解分析 ---------------------------------------------------------------------------------
def _complete(order, staff_name="demo_district"):
    """The awarded org confirms, logs and submits; the street/district approves the result."""
    from cases import actions as case_actions
    from cases.models import Case
    from dispatch import actions

    tp = user("demo_tp_mediator")
    actions.confirm_voucher(order, tp)
    case = Case.objects.get(pk=order.case_id)
    case_actions.add_log(case, tp, content="第三方上门调解")
    case_actions.submit_result(case, tp, action="提交结果", outcome="success", agreement="双方达成协议")
    case.refresh_from_db()
    reviewer = user("demo_street")
    case_actions.do_transition(case, "审核通过", reviewer, opinion="同意")
    order.refresh_from_db()
    return order


def test_statement_and_analysis_show_the_own_org_figures_only(tp_world, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = _complete(tp_world["own"])
    order.refresh_from_db()
    assert order.state == "completed"
    c = client_for("demo_tp_admin")
    page = html(c.get("/tp/statements/"))
    assert STATES["own"] in page and order.voucher.number in page and "合计 1 件" in page
    assert STATES["other"] not in page
    page = html(c.get("/tp/statements/?tab=vouchers"))
    assert order.voucher.number in page and tp_world["other"].voucher.number not in page
    assert "已作废" in page   # the withdrawn order's voucher
    page = html(c.get("/tp/analysis/"))
    # bids: own, other, withdrawn (3); awards: own + withdrawn order awarded; completed 1, success 100 %
    assert "100.0%" in page and "合同纠纷" in page and "和合调解中心调解员" in page


# --- H5 -----------------------------------------------------------------------------------------------
def test_h5_login_page_and_pool_tabs(tp_world, client):
    r = client.get("/tp/m/login/")
    assert r.status_code == 200 and "第三方调解" in html(r)
    from .conftest import DEMO_PASSWORD

    r = client.post("/tp/m/login/", {"username": "demo_tp_mediator", "password": DEMO_PASSWORD})
    assert r.status_code == 302 and r["Location"] == "/tp/m/"
    page = html(client.get("/tp/m/"))
    assert STATES["open"] in page and STATES["not_started"] not in page and "竞单中心" in page
    page = html(client.get("/tp/m/?phase=not_started"))
    assert STATES["not_started"] in page and STATES["open"] not in page


def test_h5_sign_up_then_my_sign_ups_and_detail(tp_world, client_for):
    c = client_for("demo_tp_mediator")
    order = tp_world["open"]
    page = html(c.get(f"/tp/m/orders/{order.pk}/"))
    assert "王某" in page and "王建国" not in page and "报名" in page
    r = c.post(f"/tp/m/orders/{order.pk}/signup/", {"plan": "周末上门调解", "quoted_fee": "2000"}, follow=True)
    assert "报名成功" in html(r)
    page = html(c.get("/tp/m/bids/"))
    assert STATES["open"] in page and "已报名" in page
    page = html(c.get("/tp/m/bids/?status=lost"))
    assert STATES["other"] in page and STATES["open"] not in page
    page = html(c.get(f"/tp/m/orders/{order.pk}/"))
    assert "周末上门调解" in page and "取消报名" in page


def test_h5_mediation_from_voucher_to_result(tp_world, client_for):
    from cases.models import Attachment, Case, MediationResult

    c = client_for("demo_tp_mediator")
    order = tp_world["own"]
    page = html(c.get("/tp/m/cases/"))
    assert STATES["own"] in page and "待确认凭证" in page
    page = html(c.get(f"/tp/m/orders/{order.pk}/voucher/"))
    assert order.voucher.number in page and order.voucher.digest in page
    # before confirming no handling
    r = c.post(f"/tp/m/orders/{order.pk}/logs/", {"content": "抢先记录", "occurred_at": "2026-01-01T10:00"}, follow=True)
    assert "请先确认凭证" in html(r)
    r = c.post(f"/tp/m/orders/{order.pk}/confirm/", follow=True)
    assert "已确认凭证" in html(r)
    photo = SimpleUploadedFile("现场.png", PNG, content_type="image/png")
    r = c.post(f"/tp/m/orders/{order.pk}/logs/", {"content": "第三方到场调解", "place": "和合调解室",
                                                   "occurred_at": "2026-01-01T10:00", "files": [photo]})
    assert r.status_code == 302
    att = Attachment.objects.get(case_id=order.case_id, purpose="log")
    assert c.get(f"/h5/attachments/{att.pk}/").status_code == 200   # its own photo, through the grant
    r = c.post(f"/tp/m/orders/{order.pk}/parties/", {"role": "respondent", "party_kind": "person", "name": "李四"})
    assert r.status_code == 302
    r = c.post(f"/tp/m/orders/{order.pk}/result/", {"outcome": "success", "agreement": "李四分期支付货款"}, follow=True)
    assert "调解结果已提交审核" in html(r)
    case = Case.objects.get(pk=order.case_id)
    assert case.status == "pending_review" and MediationResult.objects.get(case=case).agreement == "李四分期支付货款"
    page = html(c.get(f"/tp/m/orders/{order.pk}/case/"))
    assert "第三方到场调解" in page and "李四" in page and "提交调解结果" not in page


def test_h5_bad_log_and_result_are_explained_and_not_saved(tp_world, client_for):
    from cases.models import MediationLog, MediationResult
    from dispatch import actions

    order = tp_world["own"]
    actions.confirm_voucher(order, user("demo_tp_mediator"))
    c = client_for("demo_tp_mediator")
    before = MediationLog.objects.count()
    bad = SimpleUploadedFile("病毒.exe", b"MZ", content_type="application/octet-stream")
    r = c.post(f"/tp/m/orders/{order.pk}/logs/", {"content": "", "occurred_at": "2026-01-01T10:00", "files": [bad]})
    assert r.status_code == 400 and "请填写调解情况" in html(r)
    assert MediationLog.objects.count() == before
    r = c.post(f"/tp/m/orders/{order.pk}/result/", {"outcome": "nonsense"})
    assert r.status_code == 200 and "选择一个有效的选项" in html(r)
    assert not MediationResult.objects.filter(case_id=order.case_id).exists()


def test_withdrawn_award_is_gone_from_the_third_party(tp_world, client_for):
    c = client_for("demo_tp_mediator")
    order = tp_world["withdrawn"]
    assert c.get(f"/tp/m/orders/{order.pk}/case/").status_code == 404
    assert c.get(f"/admin/cases/case/{order.case_id}/detail/").status_code in (302, 403, 404)
    assert STATES["withdrawn"] not in html(c.get("/tp/m/cases/"))


def test_function_rights_are_data_a_role_without_them_is_turned_away(tp_world, client_for):
    from django.contrib.auth.models import Group, Permission

    role = Group.objects.get(name="第三方调解员")
    role.permissions.remove(Permission.objects.get(codename="use_tp_h5", content_type__app_label="thirdparty"))
    r = client_for("demo_tp_mediator").get("/tp/m/")
    assert r.status_code == 403 and "未开通此功能" in html(r)
    assert client_for("demo_tp_mediator").get("/tp/pool/").status_code == 200   # the PC right is still there


def test_a_closed_organisation_loses_the_third_party_end(tp_world, client_for):
    from orgs.models import Organization

    Organization.objects.filter(name=OWN_ORG).update(is_active=False)
    assert client_for("demo_tp_admin").get("/tp/cases/").status_code == 403
    assert client_for("demo_tp_mediator").get(f"/tp/m/orders/{tp_world['own'].pk}/case/").status_code == 403


def test_org_admin_sees_every_colleagues_sign_up_a_mediator_only_their_own(tp_world, client_for):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from dispatch import actions

    colleague = User.objects.create_user("hehe_wang", password="x-unused-1", display_name="王同事",
                                         organization=tp_world["mediator"].organization, is_staff=True)
    colleague.groups.add(Group.objects.get(name="第三方调解员"))
    bid = actions.sign_up(tp_world["open"], colleague, plan="同事的方案")
    assert tp_world["open"].number in html(client_for("demo_tp_admin").get("/tp/bids/?status=active"))
    page = html(client_for("demo_tp_mediator").get("/tp/m/bids/?status=active"))
    assert tp_world["open"].title not in page and "没有报名记录" in page
    # the order page tells the mediator the organisation is signed up (one sign-up per organisation)
    page = html(client_for("demo_tp_mediator").get(f"/tp/m/orders/{tp_world['open'].pk}/"))
    assert "本组织已由其他调解员报名" in page and bid.plan not in page and 'id="signup-form"' not in page
    r = client_for("demo_tp_mediator").post(f"/tp/m/orders/{tp_world['open'].pk}/signup/", {"plan": "重复"}, follow=True)
    assert "本组织已报名该发单" in html(r)


def test_h5_pool_combined_query(tp_world, client_for):
    c = client_for("demo_tp_mediator")
    page = html(c.get("/tp/m/?phase=bidding&q=开放"))
    assert STATES["open"] in page
    page = html(c.get("/tp/m/?phase=bidding&fee_min=5000"))
    assert STATES["open"] not in page and "暂无报名中的发单" in page
    page = html(c.get("/tp/m/?phase=bidding&case_type=contract&fee_max=3000"))
    assert STATES["open"] in page


def test_statement_period_excludes_cases_completed_outside_it(tp_world, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = _complete(tp_world["own"])
    order.refresh_from_db()
    c = client_for("demo_tp_admin")
    done = timezone.localdate(order.completed_at)  # the date a user picks is local (UTC+8)
    page = html(c.get(f"/tp/statements/?start={done}&end={done}"))
    assert order.number in page
    page = html(c.get(f"/tp/statements/?start={done - dt.timedelta(days=40)}&end={done - dt.timedelta(days=10)}"))
    assert order.number not in page and "所选期间没有已调解案件" in page
