"""The held-out labelled set for the duplicate-case model (issue 19): written independently of
``evalset`` — its own people, places, vocabulary, sentence structure and dirt — so that the
model is tuned on one set (``evalset``) and reported on the other (this one).

What makes it harder than ``evalset``:

- **templated but unrelated complaints**: many disputes tell the same story against an
  *anonymised* counterparty (某装修公司, XX健身房, 该公司, 某烧烤店) or with a stock phrase
  (电梯长期故障拒交物业费); two of them are different matters (label: none) unless they share a
  person;
- **short police records** (110): one line, the caller's full phone, a place, often no type,
  rarely a name; they are reports of disputes also reported on the case channels;
- typos (homophones), full-width digits, amounts written as 1.2万 / 12000元 / 约一万二千 (not
  read), masked phones (138****1234), partial names (王先生, 李某), standard address ids on
  some records;
- group disputes: several workers of one named employer or one building site, each filing
  separately within days (label: similar between workers, same between one worker's reports).

Labels: two reports of one dispute are "same"; reports of two disputes sharing an applicant, or
of one group, are "similar"; everything else none.

    generate(seed, disputes) → (records, labels), the interface of ``evalset.generate``.
"""
from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from itertools import combinations

from extensions.dedup import features

FAMILY = "欧钱孔严华金魏陶姜戚谢邹喻柏水窦章云苏潘葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳鲍史唐费廉岑薛雷贺倪汤殷罗毕郝邬安常乐于时傅皮卞齐康伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞熊纪舒屈项祝董梁杜阮蓝闵席季"
GIVEN2 = "子梓一依欣可雨语诗思嘉佳俊浩宇轩然泽博文涵晨辰睿瑞铭明昊天皓航豪杰峰锋志振立永长建新家国兴庆荣秋冬雪霜"
VILLAGES = ["上塘村", "下洋村", "桥头村", "沙河村", "前进村", "新联村", "横山村", "溪口村", "西湖社区", "东湖社区",
            "南苑社区", "北门社区", "中山社区", "城西社区", "柳岸社区", "锦绣社区"]
AVENUES = ["人民大道", "中山路", "青年路", "胜利街", "建设路", "和平路", "工农路", "百花街", "学院路", "滨河路",
           "环湖路", "站前路", "五一路", "复兴街"]
COMPOUNDS = ["锦绣华庭", "御景园", "翡翠城", "星河湾", "万象府", "丽景苑", "香樟园", "滨江花园", "悦湖居", "观澜府",
             "海悦公寓", "天悦小区", "银杏苑", "清风园"]
FIRMS = ["众诚", "安泰", "汇丰源", "隆盛", "新海", "荣达", "德信", "利民", "广源", "金鼎", "东升", "百川", "凯旋",
         "万通", "联华", "海鑫", "长青", "正泰", "华联", "协力"]
FIRM_KIND = ["劳务有限公司", "建设工程有限公司", "制衣厂", "塑料制品厂", "机械加工厂", "物流有限公司", "服饰有限公司",
             "装饰工程有限公司"]
SHOP_KIND = ["健身房", "游泳馆", "美发店", "洗车店", "早教中心", "瑜伽馆", "干洗店", "足浴店"]
NOISY = ["烧烤店", "广场舞队", "麻将馆", "酒吧", "夜宵排档", "装修队"]
# placeholders a channel writes when the counterparty is anonymised or not named
PLACEHOLDER_FIRM = ["某劳务公司", "XX公司", "该公司", "某建筑公司", "某厂", "XX厂"]
PLACEHOLDER_SHOP = ["某健身房", "XX健身房", "该店", "某美发店", "某游泳馆", "XX洗车店", "某早教中心"]
PLACEHOLDER_DECO = ["某装修公司", "XX装饰公司", "该装修公司"]
PLACEHOLDER_NOISE = ["某烧烤店", "楼下某烧烤店", "XX酒吧", "某麻将馆"]
TYPOS = {"工资": "工姿", "物业": "物叶", "赔偿": "陪偿", "装修": "装休", "押金": "压金", "退款": "退欵", "协商": "协尚",
         "拖欠": "拖歉", "漏水": "露水", "噪音": "燥音"}

# Each kind: the wordings of the case channels (long, with amounts) and of the event channels.
# Slots: {who} applicant as written, {firm} named or placeholder counterparty, {amt} amount text,
# {n} months / persons, {other} the other party's name, {spot} a place phrase.
CASE_WORDS = {
    "labor_wage": [
        "申请人{who}于{since}起在{firm}从事务工，{firm}至今拖欠其劳动报酬{amt}，经多次催要未果，申请调解。",
        "{who}诉称：其在{firm}工作期间被拖欠工资{amt}，共{n}个月，现要求{firm}一次性支付。",
        "关于{who}与{firm}劳动报酬争议：{firm}以资金周转困难为由拖欠{amt}未付。",
    ],
    "consumer": [
        "{who}于{since}在{firm}办理会员卡并预存{amt}，现{firm}已停止营业，无法退还余额，申请调解。",
        "消费纠纷：{who}称{firm}擅自关门，其预付的{amt}卡内余额无人退还。",
        "{who}反映在{firm}充值{amt}后商家跑路，联系不上经营者，要求退还预付款。",
    ],
    "property": [
        "{who}所在{spot}电梯长期故障，{who}拒交物业费{amt}，{firm}起诉催缴，双方申请调解。",
        "业主{who}与{firm}物业服务合同纠纷：业主以电梯长期故障拒交物业费，欠费{amt}。",
        "{spot}业主{who}称电梯长期故障拒交物业费，{firm}停止为其提供门禁服务，欠费{amt}。",
    ],
    "decoration": [
        "{who}与{firm}签订家装合同，工程款{amt}，现出现墙面开裂、地板起拱，双方就返工和赔偿协商不成。",
        "家装纠纷：{who}称{firm}偷工减料，已付款{amt}，要求退款并赔偿损失。",
        "{who}反映委托{firm}装修房屋，{firm}收取{amt}后停工，要求继续施工或退还款项。",
    ],
    "neighbor": [
        "{who}与楼上住户{other}因卫生间漏水发生纠纷，{who}家天花板受损，索赔{amt}，双方各执一词。",
        "相邻关系纠纷：{other}家管道渗漏致{who}家墙面霉变，{who}要求赔偿{amt}。",
        "{who}称楼上{other}家长期漏水，多次协商无果，估算损失{amt}。",
    ],
    "noise": [
        "{who}反映{firm}每日夜间经营至凌晨，噪音严重影响其家人休息，多次沟通无效，申请调解。",
        "噪音扰民：{who}投诉{firm}长期夜间噪音，已持续{n}个月。",
        "{who}称{spot}附近{firm}音响声音过大，夜里无法入睡，要求整改。",
    ],
    "tenancy": [
        "{who}租住{other}的房屋，退租时{other}以墙面损坏为由扣留押金{amt}，双方协商不成。",
        "房屋租赁纠纷：{who}与房东{other}就押金{amt}的退还发生争议。",
        "{who}反映房东{other}拒不退还租房押金{amt}，要求调解。",
    ],
    "traffic": [
        "{who}驾驶电动自行车与{other}驾驶的小型轿车发生碰撞，{who}受伤，医疗费{amt}，赔偿问题协商未果。",
        "道路交通事故损害赔偿纠纷：{other}倒车时撞伤{who}，{who}要求赔偿{amt}。",
        "{who}与{other}发生交通事故，交警认定{other}全责，{other}拒绝赔付{amt}。",
    ],
}
EVENT_WORDS = {
    "labor_wage": ["来电反映{firm}欠{who}工钱{amt}没给，找老板找不到人", "{who}称{firm}欠薪{n}个月，要求帮忙讨薪",
                   "市民{who}：被{firm}拖欠工资{amt}，请相关部门处理"],
    "consumer": ["{who}反映{firm}关门了卡里还有{amt}退不了", "来电称{firm}跑路，预付款{amt}无法退回",
                 "{who}投诉{firm}不退会员费{amt}"],
    "property": ["{who}反映{spot}电梯长期故障拒交物业费后物业停了门禁", "{spot}业主来电：电梯长期故障拒交物业费，物业上门催费",
                 "{who}投诉物业不修电梯还催缴物业费{amt}"],
    "decoration": ["{who}投诉{firm}装修质量差，付了{amt}现在墙面开裂", "来电反映{firm}收钱后停工，涉及{amt}",
                   "{who}称{firm}装修偷工减料要求退钱"],
    "neighbor": ["{who}反映楼上{other}家漏水到自己家，协商不下来", "来电称楼上渗水，损失{amt}，对方不理",
                 "{who}：楼上漏水泡坏天花板，要求赔偿"],
    "noise": ["{who}投诉{firm}半夜还很吵", "来电反映{firm}夜间噪音扰民{n}个月了", "{who}称{firm}太吵睡不着觉"],
    "tenancy": ["{who}反映房东{other}不退押金{amt}", "来电称租房押金{amt}被扣，房东不讲理", "{who}：退租后押金退不回来"],
    "traffic": ["{who}反映与{other}的车相撞后对方不赔钱", "来电称被车撞伤，医药费{amt}没人赔", "{who}交通事故赔偿谈不拢"],
}
POLICE_WHY = {
    "labor_wage": "讨要工钱", "consumer": "退卡退费", "property": "物业费", "decoration": "装修款",
    "neighbor": "漏水", "noise": "噪音", "tenancy": "押金", "traffic": "交通事故赔偿",
}
EVENT_CHANNELS = ["hotline12345", "minhu", "police110", "jczz"]
CASE_CHANNELS = ["province", "odr", "xltj", "local"]
TYPE_CODE = {"decoration": "consumer", "tenancy": "contract"}  # the kinds a channel files under another type


def _person(rng: random.Random, i: int) -> dict:
    fam = rng.choice(FAMILY)
    return {"key": f"q{i}", "surname": fam, "name": fam + "".join(rng.choice(GIVEN2) for _ in range(rng.choice((1, 2)))),
            "id": f"33{rng.randint(1000, 9999)}{rng.randint(1955, 2003)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{i % 9999:04d}",
            "phone": f"1{rng.choice('35789')}{rng.randint(0, 999999999):09d}"}


def _place(rng: random.Random) -> dict:
    return {"village": rng.choice(VILLAGES), "road": rng.choice(AVENUES), "no": rng.randint(1, 260),
            "compound": rng.choice(COMPOUNDS), "b": rng.randint(1, 24), "u": rng.randint(1, 3),
            "r": rng.randint(1, 26) * 100 + rng.randint(1, 6)}


def _address(rng: random.Random, pl: dict, short: bool = False) -> str:
    fw = str.maketrans("0123456789", "０１２３４５６７８９")
    if short:  # police: the spot of the call
        return rng.choice([f"{pl['road']}{pl['no']}号", f"{pl['compound']}{pl['b']}幢楼下", f"{pl['road']}{pl['compound']}门口",
                           f"{pl['compound']}{pl['b']}幢{pl['u']}单元"])
    forms = [f"{pl['village']}{pl['compound']}{pl['b']}幢{pl['u']}单元{pl['r']}室",
             f"{pl['road']}{pl['no']}号{pl['compound']}{pl['b']}-{pl['u']}-{pl['r']}",
             f"{pl['compound']}{str(pl['b']).translate(fw)}栋{pl['u']}单元{pl['r']}",
             f"某市XX区{pl['road']}{pl['no']}号{pl['compound']}{pl['b']}号楼",
             f"{pl['compound']}小区{pl['b']}幢"]
    return rng.choice(forms)


def _amount(rng: random.Random, value: int) -> str:
    r = rng.random()
    if value >= 10000 and r < 0.3:
        return f"{value / 10000:g}万元" if rng.random() < 0.5 else f"{value / 10000:g}万"
    if r < 0.45:
        return f"约{value}元"
    if r < 0.55:
        return f"{value}块"
    return f"{value}元"


def _typo(rng: random.Random, text: str) -> str:
    if rng.random() < 0.25:
        for right, wrong in TYPOS.items():
            if right in text and rng.random() < 0.6:
                return text.replace(right, wrong, 1)
    return text


def _blind(value: str) -> str:
    return f"{features.stable_hash('held-out:' + value):x}" if value else ""


def _party(rng: random.Random, p: dict, channel: str) -> dict:
    from clues.normalise import normalise_name, normalise_phone

    police = channel == "police110"
    r = rng.random()
    if police:
        raw_name = p["surname"] + rng.choice(["先生", "女士"]) if r < 0.6 else ("" if r < 0.8 else p["name"])
        raw_phone = p["phone"]  # the caller's number
    else:
        raw_name = p["name"] if r < 0.65 else (p["surname"] + "某" if r < 0.85 else p["surname"] + rng.choice(["先生", "女士"]))
        r = rng.random()
        raw_phone = (p["phone"] if r < 0.4 else f"{p['phone'][:3]}****{p['phone'][-4:]}" if r < 0.7
                     else f"{p['phone'][:3]}-{p['phone'][3:7]}-{p['phone'][7:]}" if r < 0.85 else "")
    nm = normalise_name(raw_name)
    phone, masked = normalise_phone(raw_phone)
    with_id = channel in CASE_CHANNELS and rng.random() < 0.7
    return {"name": nm["name"] if nm["known"] else "", "known": nm["known"], "surname": nm.get("surname", ""),
            "id_bidx": _blind(p["id"]) if with_id else "", "phone_bidx": "" if masked or not phone else _blind(phone),
            "phone": phone,
            # as the channel delivered it after cleaning (for writing real cases and clues)
            "raw": {"name": nm["name"], "known": nm["known"], "surname": nm.get("surname", ""),
                    "phone": "" if masked else phone, "masked": phone if masked else "",
                    "id_number": p["id"] if with_id else "", "person": p["key"]}}


def _firm(rng: random.Random, kind: str) -> tuple[str, bool]:
    """(counterparty as named in this dispute, is it a real name)."""
    if kind in ("labor_wage",):
        pool, kinds, ph = FIRMS, FIRM_KIND, PLACEHOLDER_FIRM
    elif kind == "consumer":
        pool, kinds, ph = FIRMS, SHOP_KIND, PLACEHOLDER_SHOP
    elif kind == "decoration":
        pool, kinds, ph = FIRMS, ["装饰工程有限公司", "家装公司"], PLACEHOLDER_DECO
    elif kind == "noise":
        pool, kinds, ph = FIRMS, NOISY, PLACEHOLDER_NOISE
    elif kind == "property":
        if rng.random() < 0.6:
            return rng.choice(["某物业公司", "物业公司", "XX物业"]), False
        return _firm_name(rng, FIRMS, ["物业服务有限公司"]), True
    else:
        return "", False
    if rng.random() < 0.5:
        return rng.choice(ph), False
    return _firm_name(rng, pool, kinds), True


FIRM_MID = "鸿泽瑞祥禾润晟昊嘉恒泰裕盈聚达源顺宏锦益鼎铭"


def _firm_name(rng: random.Random, pool=FIRMS, kinds=FIRM_KIND) -> str:
    """A named counterparty: one of thousands (two unrelated disputes rarely share one)."""
    return rng.choice(pool) + rng.choice(FIRM_MID) + rng.choice(FIRM_MID) + rng.choice(kinds)


def generate(seed: int, disputes: int = 3000):
    """(records, labels) like ``evalset.generate``; ``seed`` 101 is the held-out report set."""
    recs, labels, _ = generate_with_truth(seed, disputes)
    return recs, labels


def generate_with_truth(seed: int, disputes: int = 3000):
    """(records, labels, truth): truth[key] = {"dispute", "group", "kind", "applicant"} — what
    the warning measurement needs (which reports are one dispute, which disputes one group)."""
    rng = random.Random(seed * 7919 + 3)
    people = [_person(rng, i) for i in range(int(disputes * 1.2))]
    homes = {p["key"]: _place(rng) for p in people}
    start = dt.datetime(2025, 6, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    # dispute specs: (id, kind, applicant, other person or None, firm, firm_named, place, day, group, amount, n)
    specs = []
    nxt = 0
    d = 0
    while d < disputes:
        r = rng.random()
        if r < 0.05:  # a group: workers of one named firm at one site, filing within days
            firm = _firm_name(rng)
            site, day, months = _place(rng), rng.randint(0, 340), rng.randint(2, 7)
            gid = f"g{d}"
            for _ in range(rng.randint(3, 7)):
                specs.append((d, "labor_wage", people[nxt % len(people)], None, firm, True, site,
                              day + rng.randint(0, 8), gid, rng.randint(20, 150) * 100, months))
                nxt += 1
                d += 1
            continue
        kind = rng.choice(list(CASE_WORDS))
        app = people[nxt % len(people)]
        nxt += 1
        other = rng.choice(people) if kind in ("neighbor", "tenancy", "traffic") else None
        firm, named = _firm(rng, kind)
        place = homes[app["key"]] if kind in ("neighbor", "noise", "property", "tenancy", "decoration") else _place(rng)
        day = rng.randint(0, 340)
        specs.append((d, kind, app, other, firm, named, place, day, None, rng.randint(3, 900) * 100, rng.randint(2, 10)))
        d += 1
        if rng.random() < 0.1:  # the same applicant with another matter, later
            k2 = rng.choice([k for k in CASE_WORDS if k != kind])
            f2, n2 = _firm(rng, k2)
            pl2 = homes[app["key"]] if k2 in ("neighbor", "noise", "property", "tenancy", "decoration") else _place(rng)
            specs.append((d, k2, app, rng.choice(people) if k2 in ("neighbor", "tenancy", "traffic") else None, f2, n2,
                          pl2, day + rng.randint(5, 150), None, rng.randint(3, 900) * 100, rng.randint(2, 10)))
            d += 1

    recs, dispute_of, person_of, group_of, truth = [], {}, {}, {}, {}
    n = 0
    for did, kind, app, other, firm, named, place, day, group, amt, months in specs:
        k = rng.choice((1, 1, 2, 2, 3, 4))
        channels = rng.sample(EVENT_CHANNELS + CASE_CHANNELS, k)
        if rng.random() < 0.25 and "police110" not in channels:
            channels[-1] = "police110"
        std_id = (abs(features.stable_hash(f"{place['compound']}|{place['b']}")) % 10 ** 8) if rng.random() < 0.9 else None
        for ch in channels:
            is_case = ch in CASE_CHANNELS
            slots = {"who": app["name"] if rng.random() < 0.75 else rng.choice(["当事人", "申请人", "该市民"]),
                     "firm": firm if (named or rng.random() < 0.7) else rng.choice(PLACEHOLDER_FIRM),
                     "amt": _amount(rng, amt), "n": months, "other": other["name"] if other else "对方",
                     "spot": place["compound"], "since": f"{2024 + rng.randint(0, 1)}年{rng.randint(1, 12)}月"}
            if ch == "police110":
                text = rng.choice([
                    "报警称与人因{why}发生纠纷，请求处理。", "{who}报警：因{why}与对方发生口角。",
                    "报警人称在{spot}因{why}起争执，民警已到场。", "因{why}问题发生纠纷，报警求助。"]).format(
                    why=POLICE_WHY[kind], who=app["surname"] + "先生", spot=place["compound"])
                title = ""
                ctype = (TYPE_CODE.get(kind, kind) if kind != "decoration" else "consumer") if rng.random() < 0.4 else ""
                address = _address(rng, place, short=True)
                parties = [_party(rng, app, ch)]
                sid = None
            else:
                words = CASE_WORDS[kind] if is_case else EVENT_WORDS[kind]
                text = _typo(rng, rng.choice(words).format(**slots))
                title = (text[:rng.randint(8, 16)] if rng.random() < 0.6 else "")
                ctype = TYPE_CODE.get(kind, kind) if rng.random() < 0.92 else ""
                address = _address(rng, place)
                parties = [_party(rng, app, ch)]
                if is_case and other is not None:
                    parties.append(_party(rng, other, ch))
                sid = std_id if ch in ("jczz", "local", "xltj") and std_id else None
            when = start + dt.timedelta(days=day + rng.randint(0, 4), hours=rng.randint(7, 22), minutes=rng.randint(0, 59))
            key = f"{ch}:H{seed}{n:06d}"
            n += 1
            recs.append({"key": key, "kind": "case" if is_case else "clue", "obj_id": n, "channel": ch,
                         "region_path": "", "case_type": ctype, "reported_at": when, "title": title, "text": text,
                         "address": address, "address_id": sid, "parties": parties})
            truth[key] = {"dispute": did, "group": group, "kind": kind, "applicant": app["key"]}
            dispute_of[key] = did
            person_of[key] = {app["key"]} | ({other["key"]} if is_case and other is not None else set())
            group_of[key] = group
    labels = {}
    by_person, by_group, by_dispute = defaultdict(list), defaultdict(list), defaultdict(list)
    for key, did in dispute_of.items():
        by_dispute[did].append(key)
        for pk in person_of[key]:
            by_person[pk].append(key)
        if group_of[key]:
            by_group[group_of[key]].append(key)
    for bucket in (by_person, by_group):
        for keys in bucket.values():
            for a, b in combinations(sorted(keys), 2):
                if dispute_of[a] != dispute_of[b]:
                    labels[(a, b)] = "similar"
    for keys in by_dispute.values():
        for a, b in combinations(sorted(keys), 2):
            labels[(a, b)] = "same"
    return recs, labels, truth
