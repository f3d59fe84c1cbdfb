"""Issue 19, the anchors the duplicate model reads (found from the tuning set's misses,
``extensions/dedup/misses.py``): a person key outranks look-alike texts among capped candidates,
a short record finds the reports at its door within weeks, a full name written in the other
record's story, differing phones part two same-surname workers, money decides an amount
conflict, one caller's two unrelated stories are two matters, an untyped 110 call at the site of a
group, and two named counterparties that differ break a place anchor."""
from __future__ import annotations

import datetime as dt

import pytest

from extensions.dedup import evalset, features, score
from extensions.dedup.conf import Conf

T0 = dt.datetime(2026, 3, 2, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture(scope="module")
def conf():
    return Conf.from_shipped()


def rec(key, text, *, channel="hotline12345", address="", parties=(), day=0, case_type="labor_wage"):
    return {"key": key, "kind": "case" if channel in ("odr", "province", "local", "xltj") else "clue", "obj_id": 1,
            "channel": channel, "region_path": "", "case_type": case_type, "reported_at": T0 + dt.timedelta(days=day),
            "title": "", "text": text, "address": address, "address_id": None, "parties": list(parties)}


def person(name="", surname="", phone="", phone_bidx="", id_bidx=""):
    return {"name": name, "known": bool(name), "surname": surname or name[:1], "id_bidx": id_bidx,
            "phone_bidx": phone_bidx, "phone": phone}


def verdict(conf, a, b):
    return score.compare(features.build(a, conf), features.build(b, conf), conf)


WAGE = "讨薪求助，博远制衣厂以效益不好为由至今未支付{who}工资{amt}元（7个月），找负责人没人管"


# --- candidates -------------------------------------------------------------------------------------
def _caller_and_lookalikes():
    probe = rec("minhu:0", "在众诚健身房办卡充值8800元，现门店关门跑路，要求退款", address="中山路12号翡翠城3幢",
                parties=[person("欧子轩", phone="13512345678", phone_bidx="p1")], case_type="consumer")
    looks = [rec(f"minhu:{i}", f"在众诚健身房办卡充值8800元，现门店关门跑路，要求退款{'！' * i}",
                 address=f"建设路{i}号御景园{i}幢", parties=[person(f"孔{'嘉浩泽'[i - 1]}", phone_bidx=f"x{i}")],
                 case_type="consumer", day=i) for i in (1, 2, 3)]
    later = rec("odr:9", "欧子轩与楼上住户因卫生间漏水发生纠纷，天花板受损，索赔5000元", channel="odr",
                address="和平路9号丽景苑2幢", parties=[person("欧子轩", phone="13512345678", phone_bidx="p1")],
                case_type="neighbor", day=60)
    return probe, looks, later


def test_a_shared_phone_outranks_look_alike_texts_when_candidates_are_capped():
    probe, looks, later = _caller_and_lookalikes()
    capped = Conf.from_shipped(max_candidates=2)
    pred = evalset.predict([probe, *looks, later], capped)
    assert pred.get(("minhu:0", "odr:9")) == "similar"  # 同人不同案, not crowded out by the look-alikes
    s = features.build(probe, capped)
    weights = features.key_weights(s)
    strong, weak = features.block_keys(s)
    assert max(weights.values()) == features.PERSON_KEY_WEIGHT > len(weak)


@pytest.mark.backend  # the candidate queries are SQL (on PostgreSQL the chunk query weighs keys in the database)
@pytest.mark.django_db
def test_the_database_candidates_rank_a_shared_phone_first():
    from django.db import connection

    from extensions.dedup import engine

    probe, looks, later = _caller_and_lookalikes()
    conf = Conf.from_shipped(max_candidates=1)
    ids = engine.store_signatures([features.build(r, conf) for r in (probe, *looks, later)])
    assert engine.candidates(features.build(probe, conf), conf, self_id=ids["minhu:0"]) == [ids["odr:9"]]
    if connection.vendor == "postgresql":
        sigs = engine.load_signatures([ids["minhu:0"]])
        assert engine.chunk_candidates(sigs, conf, remember_hot=False)[ids["minhu:0"]] == [ids["odr:9"]]


def test_a_short_record_shares_a_door_key_with_the_reports_of_its_weeks():
    call = features.build(rec("police110:1", "讨薪起冲突，报警求助。", channel="police110", case_type="",
                              address="新华路243号门口", day=2), Conf.from_shipped())
    report = features.build(rec("local:1", WAGE.format(who="丁斌", amt=16100), channel="local",
                                address="城北街道新华路243号 海棠和谐苑8-2-1802"), Conf.from_shipped())
    months_later = features.build(rec("local:2", WAGE.format(who="丁斌", amt=16100), channel="local",
                                      address="城北街道新华路243号 海棠和谐苑8-2-1802", day=90), Conf.from_shipped())
    assert features.strong_blocks(call) & features.strong_blocks(report)
    assert not features.strong_blocks(call) & features.strong_blocks(months_later)
    # two tilings: two days apart share a tile on either side of a tile's edge
    tile, base = features.PLACE_TILE_DAYS, features.day_number(T0)
    for edge in (tile // 2 - 1, tile - 1):  # the day before an edge of one tiling, then of the other
        day = (edge - base) % tile
        a = features.build(rec("police110:1", "讨薪起冲突，报警求助。", channel="police110", case_type="",
                               address="新华路243号门口", day=day), Conf.from_shipped())
        b = features.build(rec("local:2", WAGE.format(who="丁斌", amt=16100), channel="local",
                               address="城北街道新华路243号 海棠和谐苑8-2-1802", day=day + 2), Conf.from_shipped())
        assert features.strong_blocks(a) & features.strong_blocks(b), day


# --- persons ------------------------------------------------------------------------------------------
def test_named_in_reads_a_full_name_from_the_bigrams_of_a_story():
    assert score.named_in("冯艳平", features.shingles("天成培训机构噪音扰民，冯艳平称已持续11个月"))
    assert not score.named_in("冯艳华", features.shingles("天成培训机构噪音扰民，冯艳平称已持续11个月"))
    assert not score.named_in("董明", features.shingles("董明琳与本村王鑫明为宅基地边界争执"))  # a prefix


def test_a_full_name_in_the_other_story_is_a_shared_person(conf):
    noise = rec("hotline12345:1", "天成培训机构噪音扰民，冯艳平称已持续11个月，夜里吵得睡不着", case_type="noise",
                address="城南街道新华路258号 东方书香门第24-1-1303", parties=[person("", surname="冯")])
    fee = rec("odr:2", "新城物业与业主冯艳平因物业费35000元发生纠纷，业主称小区管理不到位", channel="odr", case_type="property",
              address="新华路258号东方书香门第24幢1单元1303室", parties=[person("冯艳平", id_bidx="i1")], day=75)
    v, _, reasons = verdict(conf, noise, fee)
    assert v == "similar" and "姓名见于对方案情" in reasons, reasons


def test_two_workers_of_one_surname_with_different_phones_are_two_people(conf):
    story = "讨薪求助，博远制衣厂以效益不好为由拖欠工人工资7个月，找负责人没人管"  # no names, no money
    a = rec("hotline12345:1", story, address="福田村环城路233号", parties=[person("", surname="陈", phone="139****1111")])
    b = rec("minhu:2", story, address="清溪镇环城路233号 锦江紫荆公寓6-2-1004",
            parties=[person("", surname="陈", phone="13722222222", phone_bidx="p2")], day=2)
    v, _, reasons = verdict(conf, a, b)
    assert v == "similar" and reasons[:2] == ["同案不同人", "共同锚点：同一具名单位"], reasons


def test_money_decides_an_amount_conflict():
    assert score._amount({"11700元", "7个月"}, {"4100元", "7个月"}) == -1.0
    assert score._amount({"4100元", "7个月"}, {"7个月"}) == 1.0
    assert score._amount({"4100元"}, {"4100元", "3个月"}) == 1.0
    assert score._amount({"6亩"}, {"7亩"}) == -1.0
    assert score._amount({"6亩"}, {"3000元"}) == 0.0


def test_one_callers_two_unrelated_stories_within_days_are_two_matters(conf):
    family = rec("hotline12345:1", "家庭矛盾：当事人称前夫韩秀伟离婚后一直不肯出孩子的抚养费43500元，多次上门讨要，双方闹僵", case_type="family",
                 address="白沙镇金沙路360号梧桐和谐苑21幢2单元601室", parties=[person("韩强", phone_bidx="p1")])
    elders = rec("odr:2", "当事人与邻居因为一块自留地的边界和围墙多次吵闹，村委会组织调解两次都没有结果，申请调解", channel="odr", case_type="",
                 address="清溪镇新华路313号凤凰紫荆公寓6幢2单元1703室", parties=[person("韩强", phone_bidx="p1")], day=4)
    v, _, reasons = verdict(conf, family, elders)
    assert v == "similar" and reasons[0] == "同人不同案", reasons


# --- 同案不同人 from a short record --------------------------------------------------------------------
def test_an_untyped_110_call_at_the_site_is_similar_to_a_workers_report(conf):
    report = rec("local:1", WAGE.format(who="许明玉", amt=19100), channel="local",
                 address="城北街道解放路205号枫林金色家园5幢1单元401室", parties=[person("许明玉", phone_bidx="p1")])
    call = rec("police110:2", "讨薪起冲突，双方情绪激动，报警求助。", channel="police110", case_type="",
               address="解放路205号门口", parties=[person("", surname="魏", phone="13900001111", phone_bidx="p2")], day=2)
    v, _, reasons = verdict(conf, report, call)
    assert v == "similar" and reasons[1] == "共同锚点：同一楼栋/门牌", reasons
    # a call made while the matter is hot: not a fortnight later at a building of many households
    assert verdict(conf, report, dict(call, reported_at=T0 + dt.timedelta(days=12)))[0] is None
    # a long untyped report beside a short typed one of another kind is no such case
    long_untyped = dict(report, case_type="")
    noise_call = rec("minhu:3", "投诉富源KTV音响声太大，卢静平家老人孩子无法休息", channel="minhu", case_type="noise",
                     address="城北街道解放路205号枫林金色家园5幢2单元1102室", parties=[person("", surname="卢", phone_bidx="p3")],
                     day=2)
    assert verdict(conf, long_untyped, noise_call)[0] is None


def test_two_named_employers_that_differ_break_a_place_anchor(conf):
    a = rec("hotline12345:1", "郭宇磊在永兴包装餐饮店打工，永兴包装餐饮店拖欠工资5个月共11100元，多次讨要无果",
            address="锦江金色家园16幢4单元1603室", parties=[person("郭宇磊", phone_bidx="p1")])
    b = rec("odr:2", "田涛芳在博远食品装饰公司打工，博远食品装饰公司拖欠工资5个月共16100元，多次讨要无果", channel="odr",
            address="光明路285号锦江金色家园16幢3单元1802室", parties=[person("田涛芳", id_bidx="i2")], day=8)
    v, _, reasons = verdict(conf, a, b)
    assert v is None, reasons
