"""Issue #15: 典型案例 (propose → review by the level above → library), anonymisation of the
write-up and of the search index, 调解案例 search (relevance on a labelled fixture, scope),
基层减负 Q&A (Excel import all or nothing, H5 highlighted matches), 重点事 and visits on open key
matters."""
from __future__ import annotations

import io

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from cases.actions import ActionRefused

PARTY = {"name": "张三丰", "id_number": "11010519491231002X", "phone": "13812345678", "address": "湖滨路88号3幢501室"}
OTHER = {"name": "李四光", "id_number": "330106198001011234", "phone": "13987654321", "role": "respondent"}


def _user(name):
    from accounts.models import User

    return User.objects.get(username=name)


@pytest.fixture
def closed_case(make_case):
    from cases.models import MediationResult

    case = make_case(title="张三丰与李四光楼上漏水纠纷", status="mediated",
                     description="张三丰（电话13812345678）家住湖滨路88号3幢501室，楼上李四光家卫生间漏水，"
                                 "天花板渗水发霉，要求赔偿维修费用。",
                     parties=[dict(PARTY), dict(OTHER)], mediation_type="people")
    MediationResult.objects.create(case=case, outcome="success",
                                   agreement="李四光赔偿张三丰维修费3000元，重做防水层。")
    return case


def _identity_absent(text: str):
    for value in (PARTY["name"], OTHER["name"], PARTY["id_number"], OTHER["id_number"], PARTY["phone"],
                  OTHER["phone"], PARTY["address"], "湖滨路88号"):
        assert value not in text, value


def test_draft_is_anonymous_and_a_leaking_writeup_is_refused(closed_case):
    from library import actions, anonymise

    draft = anonymise.draft(closed_case)
    _identity_absent(draft["title"] + draft["writeup"])
    assert "张某" in draft["writeup"] and "李某" in draft["writeup"]
    assert "赔偿" in draft["writeup"] and "3000元" in draft["writeup"]
    mediator = _user("demo_mediator")
    with pytest.raises(ValidationError) as refused:
        actions.propose(closed_case, mediator, reason="典型", title=draft["title"],
                        writeup=draft["writeup"] + "\n申请人张三丰表示满意")
    assert "当事人姓名“张三丰”" in str(refused.value)
    with pytest.raises(ValidationError) as refused:
        actions.propose(closed_case, mediator, reason="典型", title=draft["title"],
                        writeup=draft["writeup"] + "\n联系人 139 8765 4321")
    assert "电话号码" in str(refused.value)
    from library.models import TypicalCase
    assert not TypicalCase.objects.exists()


def test_propose_review_by_the_level_above_then_library_and_index(closed_case, client_for):
    from library import actions, anonymise, search
    from library.models import SearchDoc, SearchToken, TypicalCase

    draft = anonymise.draft(closed_case)
    mediator, street = _user("demo_mediator"), _user("demo_street")
    tc = actions.propose(closed_case, mediator, reason="漏水纠纷调解方法可借鉴", method="背靠背调解",
                         legal_basis="《民法典》第二百八十八条", **draft)
    assert tc.status == "proposed" and tc.level == 3
    # the proposer's own level cannot decide; the street above can
    assert not any(t.decision for t in actions.available_actions(tc, mediator))
    with pytest.raises(ActionRefused, match="上级审核"):
        actions.decide(tc, "审核通过", mediator, typical_level="community")
    with pytest.raises(ActionRefused, match="需要填写意见"):
        actions.decide(tc, "退回修改", street)
    with pytest.raises(ValidationError):
        actions.decide(tc, "审核通过", street, typical_level="")
    assert not SearchToken.objects.filter(kind="typical").exists()
    search.index_case(closed_case)  # searchable as a closed case until it enters the library
    assert SearchDoc.objects.filter(kind="case", ref_id=closed_case.pk).exists()
    tc = actions.decide(tc, "审核通过", street, typical_level="street", opinion="同意")
    assert not SearchDoc.objects.filter(kind="case", ref_id=closed_case.pk).exists()  # found once, as typical
    assert tc.status == "approved" and tc.typical_level == "street" and tc.approved_at
    indexed = list(SearchToken.objects.filter(kind="typical").values_list("token", flat=True))
    assert "漏水" in indexed
    _identity_absent(" ".join(indexed) + tc.writeup + tc.title)
    # a mediator of another community finds it in the library (anonymised learning material)
    hits = search.search("卫生间漏水 天花板 赔偿", _user("demo_mediator"), kinds=("typical",))
    assert hits and hits[0].doc.ref_id == tc.pk
    # PC library, detail and print show it; a second proposal of the same case is refused
    c = client_for("demo_mediator")
    assert "背靠背调解" in c.get(reverse("admin:library_typicalcase_detail", args=[tc.pk])).content.decode()
    assert tc.title in c.get(reverse("admin:library_typicalcase_changelist") + "?typical_level=street").content.decode()
    assert "《民法典》" in c.get(reverse("admin:library_typicalcase_print", args=[tc.pk])).content.decode()
    with pytest.raises(ActionRefused, match="不能重复推荐"):
        actions.propose(closed_case, mediator, reason="再推", **draft)
    assert TypicalCase.objects.count() == 1


def test_proposal_return_and_resubmit_on_the_pc_screens(closed_case, client_for):
    from library.models import TypicalCase

    c = client_for("demo_mediator")
    url = reverse("admin:library_typicalcase_propose", args=[closed_case.pk])
    page = c.get(url).content.decode()
    assert "张某" in page and "13812345678" not in page
    bad = c.post(url, {"title": "漏水", "reason": "好", "writeup": "张三丰家漏水"})
    assert bad.status_code == 200 and "仍含有当事人身份信息" in bad.content.decode()
    assert not TypicalCase.objects.exists()
    c.post(url, {"title": "楼上漏水赔偿案", "reason": "方法好", "writeup": "张某家漏水，李某赔偿。"})
    tc = TypicalCase.objects.get()
    street = client_for("demo_street")
    detail = reverse("admin:library_typicalcase_detail", args=[tc.pk])
    street.post(detail, {"action": "退回修改", "opinion": "请补充调解过程"})
    tc.refresh_from_db()
    assert tc.status == "returned" and tc.opinion == "请补充调解过程"
    c.post(detail, {"action": "重新提交", "opinion": ""})
    tc.refresh_from_db()
    assert tc.status == "proposed"
    # an open case cannot be proposed: the page says why and offers no form
    from cases.models import Case
    open_case = Case.objects.create(title="调解中的纠纷", case_type="neighbor", region=closed_case.region,
                                    status="mediating")
    page = c.get(reverse("admin:library_typicalcase_propose", args=[open_case.pk])).content.decode()
    assert "办结后才能推荐" in page and 'name="writeup"' not in page


def test_closed_case_index_is_anonymous_and_scoped(closed_case, make_case, django_capture_on_commit_callbacks):
    from cases.models import Case
    from library import search
    from library.models import SearchDoc, SearchToken

    with django_capture_on_commit_callbacks(execute=True):  # the records_changed hook indexes it
        Case.objects.get(pk=closed_case.pk).save()
    doc = SearchDoc.objects.get(kind="case", ref_id=closed_case.pk)
    _identity_absent(doc.title + doc.summary + " ".join(SearchToken.objects.filter(doc=doc).values_list("token", flat=True)))
    far = make_case(region_name="溪口社区", title="溪口楼上漏水纠纷", status="mediated",
                    description="楼上卫生间漏水导致楼下天花板渗水")
    search.index_case(far)
    mediator_hits = [h.doc.ref_id for h in search.search("卫生间漏水", _user("demo_mediator"), kinds=("case",))]
    assert closed_case.pk in mediator_hits and far.pk not in mediator_hits
    district_hits = [h.doc.ref_id for h in search.search("卫生间漏水", _user("demo_district"), kinds=("case",))]
    assert {closed_case.pk, far.pk} <= set(district_hits)
    # reopened: out of the index
    with django_capture_on_commit_callbacks(execute=True):
        Case.objects.filter(pk=closed_case.pk).update(status="mediating")
        Case.objects.get(pk=closed_case.pk).save()
    assert not SearchDoc.objects.filter(kind="case", ref_id=closed_case.pk).exists()


# --- relevance on a labelled fixture ----------------------------------------------------------------
CORPUS = [
    ("leak", "楼上卫生间漏水致楼下天花板受损", "楼上住户卫生间防水层老化漏水，楼下天花板发霉脱落，双方就维修费用和赔偿金额协商。"),
    ("wage", "建筑工地农民工讨薪", "十余名农民工在建筑工地干活半年，包工头拖欠工资二十万元，工人多次讨要未果。"),
    ("noise", "广场舞噪音扰民", "小区广场舞音响声音过大，晚上九点后仍在跳，影响周边居民休息，多次投诉。"),
    ("divorce", "离婚后子女抚养费纠纷", "双方协议离婚，男方未按约定支付孩子抚养费，女方要求补交并增加探视安排。"),
    ("land", "宅基地边界争议", "两户村民因宅基地界址不清，一方建房时占用了另一方的滴水地，发生争吵。"),
    ("parking", "小区车位被占用", "业主的固定车位长期被他人车辆占用，物业协调无果，业主情绪激动。"),
    ("dog", "宠物狗咬伤邻居", "邻居家未拴绳的宠物狗咬伤老人腿部，医药费和误工费承担发生争议。"),
    ("tree", "树木遮挡采光", "楼前住户种植的大树遮挡楼上住户采光，要求修剪或移栽。"),
    ("debt", "民间借贷逾期未还", "朋友之间借款五万元约定一年归还，逾期两年仍未还款，出借人要求还本付息。"),
    ("property", "物业费拖欠与服务质量", "业主认为物业服务差、电梯经常故障，拒交物业费，物业公司上门催缴。"),
]
QUERIES = [
    ("leak", "家里天花板被楼上漏水泡坏了 要赔偿"),
    ("wage", "包工头欠农民工工资不给"),
    ("noise", "晚上跳广场舞太吵"),
    ("divorce", "离婚以后对方不给孩子抚养费"),
    ("land", "村里两家宅基地界址争吵"),
    ("parking", "我的车位被别人的车占了"),
    ("dog", "狗咬伤人 医药费谁出"),
    ("tree", "邻居的树挡住阳光采光"),
    ("debt", "借给朋友的钱逾期不还"),
    ("property", "电梯老坏 不想交物业费"),
]


def test_search_relevance_expected_case_in_top_three(world):
    from library import search
    from library.models import TypicalCase
    from orgs.models import Region

    region = Region.objects.get(name="湖滨社区")
    from cases.models import Case

    ids = {}
    for key, title, body in CORPUS:
        case = Case.objects.create(title=title, description=body, case_type="neighbor", region=region, status="mediated")
        tc = TypicalCase.objects.create(case=case, status="approved", level=3, typical_level="community", title=title,
                                        reason="-", writeup=body, region=region)
        search.index_typical(tc)
        search.index_case(case)
        ids[key] = {("typical", tc.pk), ("case", case.pk)}
    user = _user("demo_mediator")
    for key, query in QUERIES:
        top = [(h.doc.kind, h.doc.ref_id) for h in search.search(query, user, limit=3)]
        assert ids[key] & set(top), (query, top)
        assert top[0] in ids[key], (query, top)


# --- 基层减负问答 ----------------------------------------------------------------------------------------
def _xlsx(rows) -> io.BytesIO:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    out.name = "qa.xlsx"
    return out


def test_qa_excel_import_all_or_nothing_and_h5_highlight(world, client_for):
    from library.models import QAEntry

    admin = client_for("demo_district")
    url = reverse("admin:library_qaentry_import")
    header = ["分类", "问题", "答案", "同义词"]
    bad = admin.post(url, {"file": _xlsx([header, ["台账报表", "村社台账太多怎么办", "按清单精简。", "报表"],
                                          ["台账报表", "", "缺问题", ""]])})
    assert "第 3 行：“问题”不能为空" in bad.content.decode()
    assert not QAEntry.objects.exists()
    good = admin.post(url, {"file": _xlsx([header, ["台账报表", "村社台账太多怎么办", "按区里的台账清单精简，清单外的台账一律取消。", "报表、表格"],
                                           ["考核督查", "督查检查能不能合并", "同一事项的督查检查原则上合并进行。", "检查"]])})
    assert good.status_code == 302 and QAEntry.objects.count() == 2
    exported = admin.get(reverse("admin:library_qaentry_export"))
    from openpyxl import load_workbook
    ws = load_workbook(io.BytesIO(exported.content)).active
    assert [c.value for c in ws[1]] == header and ws.max_row == 3

    h5 = client_for("demo_mediator")
    page = h5.get(reverse("h5:assist_qa") + "?q=台账太多了").content.decode()
    assert "<mark>台账</mark>" in page and "督查检查能不能合并" not in page
    # a synonym finds the entry
    assert "村社台账太多怎么办" in h5.get(reverse("h5:assist_qa") + "?q=表格").content.decode()
    # bad input: a Chinese message, no 500
    too_long = h5.get(reverse("h5:assist_qa") + "?q=" + "长" * 300)
    assert too_long.status_code == 200 and "问题：" in too_long.content.decode()


def test_h5_case_search_and_typical_page(closed_case, client_for):
    from library import actions, anonymise

    tc = actions.propose(closed_case, _user("demo_mediator"), reason="好", **anonymise.draft(closed_case))
    actions.decide(tc, "审核通过", _user("demo_street"), typical_level="community")
    h5 = client_for("demo_mediator")
    page = h5.get(reverse("h5:assist") + "?q=卫生间漏水").content.decode()
    assert reverse("h5:assist_typical", args=[tc.pk]) in page and "<mark>" in page
    detail = h5.get(reverse("h5:assist_typical", args=[tc.pk])).content.decode()
    assert "张某" in detail and "张三丰" not in detail
    assert h5.get(reverse("h5:assist_typical", args=[987654])).status_code == 404


# --- 重点事 ------------------------------------------------------------------------------------------
def test_key_matter_allows_visits_while_open(make_case, client_for):
    from cases import actions as case_actions
    from library import actions
    from library.models import KeyMatter

    case = make_case(status="mediating")
    mediator = _user("demo_mediator")
    with pytest.raises(ActionRefused, match="办结后才能回访"):
        case_actions.add_visit(case, mediator, way="onsite", satisfaction="basic")
    with pytest.raises(ValidationError):
        actions.mark_key_matter(case, mediator, level="nonsense", leader="", reason="")
    c = client_for("demo_mediator")
    c.post(reverse("admin:library_keymatter_mark", args=[case.pk]),
           {"level": "major", "leader": "王副主任", "reason": "涉及群体，情绪激动"})
    km = KeyMatter.objects.get(case=case)
    assert km.state == "open" and km.leader == "王副主任"
    visit = case_actions.add_visit(case, mediator, way="onsite", satisfaction="basic", notes="上门走访，稳控")
    assert visit.pk
    page = c.get(reverse("admin:library_keymatter_change", args=[km.pk])).content.decode()
    assert "上门走访，稳控" in page
    assert "王副主任" in c.get(reverse("admin:library_keymatter_changelist")).content.decode()
    c.post(reverse("admin:library_keymatter_change", args=[km.pk]), {"close_note": "已化解"})
    km.refresh_from_db()
    assert km.state == "closed"
    with pytest.raises(ActionRefused, match="办结后才能回访"):
        case_actions.add_visit(case, mediator, way="onsite", satisfaction="basic")
    # another region's user cannot open or close it
    other = client_for("demo_street")  # 东湖街道 contains 湖滨社区: in scope
    assert other.get(reverse("admin:library_keymatter_change", args=[km.pk])).status_code == 200


def test_analysis_tables_and_excel(closed_case, client_for):
    from library import actions, anonymise

    tc = actions.propose(closed_case, _user("demo_mediator"), reason="好", **anonymise.draft(closed_case))
    actions.decide(tc, "审核通过", _user("demo_street"), typical_level="street")
    c = client_for("demo_district")
    page = c.get(reverse("admin:library_typicalcase_analysis")).content.decode()
    assert "街道级典型" in page and "echarts.min.js" in page
    xlsx = c.get(reverse("admin:library_typicalcase_analysis") + "?export=xlsx")
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(xlsx.content))
    assert wb["按典型级别"]["A2"].value == "街道级典型" and wb["按典型级别"]["B2"].value == 1
