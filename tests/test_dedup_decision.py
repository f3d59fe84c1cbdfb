"""The duplicate-case decision (extensions.dedup.score) on records as the channels deliver them:
masked phones, 王先生-style names, missing ID numbers, same name different person, group
disputes (同案不同人) and repeat callers (同人不同案)."""
from __future__ import annotations

import datetime as dt

import pytest

from clues.normalise import normalise_name, normalise_phone
from extensions.dedup import features, score
from extensions.dedup.conf import Conf

TZ = dt.timezone(dt.timedelta(hours=8))


def party(name="", phone="", id_number=""):
    nm = normalise_name(name)
    ph, masked = normalise_phone(phone)
    return {"name": nm["name"] if nm["known"] else "", "known": nm["known"], "surname": nm.get("surname", ""),
            "id_bidx": f"id-{id_number}" if id_number else "", "phone_bidx": "" if masked or not ph else f"ph-{ph}",
            "phone": ph}


def rec(key, text, *, parties, day=1, address="", case_type="property", kind="clue"):
    return {"key": key, "kind": kind, "obj_id": 1, "channel": key.split(":")[0], "region_path": "",
            "case_type": case_type, "reported_at": dt.datetime(2026, 3, day, 10, tzinfo=TZ), "title": "",
            "text": text, "address": address, "address_id": None, "parties": parties}


@pytest.fixture
def conf():
    return Conf.from_shipped()


def decide(a, b, conf):
    return score.compare(features.build(a, conf), features.build(b, conf), conf)


def test_masked_phone_and_mr_wang_reported_again_by_police_is_the_same_case(conf):
    hot = rec("hotline12345:H1", "来电人称小区地下车库积水，物业还催交物业费2400元，要求协调。",
              parties=[party("王建国", "13957070221")], address="浙江省某市XX区青山镇文化路313号锦绣家园23-2-203")
    pol = rec("police110:P1", "报警人王先生称与物业因2400元物业费发生争执，车库积水无人处理。",
              parties=[party("王先生", "139****0221")], address="青山镇文化路３１３号锦绣家园23幢2单元203室", day=3)
    verdict, value, reasons = decide(hot, pol, conf)
    assert verdict == "same"
    assert 0 < value <= 1
    assert any("脱敏电话" in r for r in reasons) and "地址一致" in reasons


def test_missing_id_number_still_matches_by_phone(conf):
    pro = rec("province:PRO1", "张丽芳家楼上漏水泡坏地板，要求赔偿8600元。", kind="case", case_type="neighbor",
              parties=[party("张丽芳", "+86 138 0013 8000", "")], address="解放路12号")
    odr = rec("odr:ODR1", "楼上住户卫生间渗水到张丽芳家，损失约8600元，协商不成。", kind="case", case_type="neighbor",
              parties=[party("张丽芳", "138-0013-8000", "330109199001011234")], address="解放路12号附近", day=4)
    verdict, _, reasons = decide(pro, odr, conf)
    assert verdict == "same" and "电话一致" in reasons


def test_same_name_with_different_id_numbers_is_two_people(conf):
    a = rec("province:A", "刘洋与同村村民就宅基地边界发生争执，涉及3亩。", kind="case", case_type="land",
            parties=[party("刘洋", "13811112222", "330109198001011111")], address="石桥村5组12号")
    b = rec("xltj:B", "刘洋反映邻居占用其承包地2亩，要求退还。", kind="case", case_type="land",
            parties=[party("刘洋", "13933334444", "330109199502022222")], address="福田村3组8号", day=2)
    verdict, _, reasons = decide(a, b, conf)
    assert verdict is None
    assert "证件号码一致" not in reasons and "姓名相同" not in reasons


def test_same_name_without_any_other_link_is_not_enough_for_similar(conf):
    a = rec("hotline12345:A", "来电人反映楼下烧烤店噪音扰民到凌晨。", case_type="noise",
            parties=[party("李伟", "")], address="迎宾路8号")
    b = rec("minhu:B", "李伟投诉预付卡充值3000元后健身房关门，要求退款。", case_type="consumer",
            parties=[party("李伟", "")], address="长安路99号", day=20)
    assert decide(a, b, conf)[0] is None


def test_group_dispute_workers_of_one_employer_are_similar_not_same(conf):
    a = rec("hotline12345:W1", "来电人称在宏达建筑有限公司打工，被拖欠工资4个月共18000元。", case_type="labor_wage",
            parties=[party("周强", "13700001111")], address="振兴路200号工地")
    b = rec("police110:W2", "报警人称宏达建筑有限公司欠其4个月工资22000元，要求处理。", case_type="labor_wage",
            parties=[party("吴敏", "13900002222")], address="振兴路200号", day=3)
    verdict, _, reasons = decide(a, b, conf)
    assert verdict == "similar"
    assert reasons[0] == "同案不同人" and any("宏达建筑" in r for r in reasons)


def test_repeat_caller_with_another_dispute_is_similar(conf):
    a = rec("province:C1", "赵洋与邻居因楼上漏水赔偿5000元协商不成。", kind="case", case_type="neighbor",
            parties=[party("赵洋", "16265969390", "330109198805051234")], address="学院路6号")
    b = rec("odr:C2", "赵洋反映子女抚养费每月2000元对方不给，要求调解。", kind="case", case_type="family",
            parties=[party("赵洋", "16265969390", "330109198805051234")], address="竹溪村学院路6号", day=25)
    verdict, _, reasons = decide(a, b, conf)
    assert verdict == "similar" and reasons[0] == "同人不同案" and "证件号码一致" in reasons


def test_reports_far_apart_are_not_the_same_case(conf):
    text = "来电人称物业催交物业费2400元，车库积水没人管。"
    a = rec("hotline12345:A", text, parties=[party("王建国", "13957070221")], address="文化路313号")
    b = rec("hotline12345:B", text, parties=[party("王建国", "13957070221")], address="文化路313号")
    b["reported_at"] = a["reported_at"] + dt.timedelta(days=conf.same_window_days + 30)
    assert decide(a, b, conf)[0] == "similar"


def test_phone_tail_keeps_what_a_masked_phone_tells():
    assert features.phone_tail("17957070221") == features.phone_tail("179****0221") == "179*0221"
    assert features.phone_tail("****") == ""


def test_stricter_threshold_turns_same_into_similar(conf):
    a = rec("hotline12345:A", "来电人称物业催交物业费2400元，车库积水没人管。",
            parties=[party("王建国", "13957070221")], address="文化路313号")
    b = rec("minhu:B", "诉求人反映车库积水，物业却催缴2400元物业费。",
            parties=[party("王建国", "13957070221")], address="文化路313号", day=2)
    assert decide(a, b, conf)[0] == "same"
    strict = Conf.from_shipped(same_threshold=0.999)
    assert decide(a, b, strict)[0] == "similar"


def test_similar_threshold_alone_decides_similar(conf):
    """Same person at the same address, a different matter weeks later: 姓名相同 (0.6) makes it
    similar under the shipped thresholds. Only ``similar_threshold`` moves that verdict — the
    shipped same and similar thresholds are equal, so a mix-up of the two would hide there."""
    a = rec("province:N1", "韩梅与邻居因楼道堆物发生争执，要求清理。", kind="case", case_type="neighbor",
            parties=[party("韩梅", "")], address="学院路6号")
    b = rec("odr:N2", "韩梅反映装修款3万元被装修公司拖欠，要求退还。", kind="case", case_type="consumer",
            parties=[party("韩梅", "")], address="学院路6号", day=28)
    verdict, value, reasons = decide(a, b, conf)
    assert (verdict, value) == ("similar", 0.6) and reasons[0] == "同人不同案" and "姓名相同" in reasons
    # a similar threshold above the score, the same threshold unchanged or higher: no verdict
    assert decide(a, b, Conf.from_shipped(same_threshold=0.9, similar_threshold=0.7))[0] is None
    # a similar threshold below the score with a same threshold far above it: still similar
    assert decide(a, b, Conf.from_shipped(same_threshold=0.95, similar_threshold=0.5))[0] == "similar"
