"""Labelled evaluation set for the duplicate-case model: synthetic disputes reported by 1–4
channels with the dirt of shared/formats/README.md, repeat callers (同人不同案) and group disputes
(同案不同人). Labels come from the generator: two reports of one dispute are "same"; reports of
two disputes sharing a person or an employer's group are "similar"; everything else is none.

Most 110 records are one line (``police_call``: the caller's surname and number, a spot near
the place, a few words, often no type) — drawn from a random source of their own, so the other
records are those of the earlier versions of this set. It is the TUNING set: its misses are
listed by ``extensions/dedup/misses.py``; the held-out set (``evalset2``) is only reported.

Its vocabulary and wording are its own (not the sample files' texts). Records go through the
cleaning normalisers (phone, name) and ``features.build`` exactly like ingested ones; blind
indexes are stood in by a keyed hash (equality is all the model uses).

    python -m extensions.dedup.evalset  (from the repo root, with DJANGO_SETTINGS_MODULE) — or
    tests/perf/bench_dedup.py, which fits thresholds on one seed and reports on another.
"""
from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from itertools import combinations

from extensions.dedup import features, score

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国红梅兰凤玉春海燕文斌宇浩凯鑫晨琳"
ROADS = ["迎宾路", "解放路", "新华路", "光明路", "振兴路", "环城路", "育才路", "东风路", "长安路", "金沙路", "望江路", "朝阳路"]
ESTATES = ["金色家园", "碧水湾", "和谐苑", "幸福里", "明珠花园", "书香门第", "桂花苑", "紫荆公寓", "山水华庭", "春晓小区"]
COMMUNITIES = ["光华社区", "长乐社区", "清河社区", "福田村", "石桥村", "杏花社区", "永安村", "红星社区"]
STREETS = ["城南街道", "城北街道", "白沙镇", "清溪镇"]
ORG_HEAD = ["宏达", "永兴", "恒丰", "盛世", "佳美", "瑞祥", "鼎盛", "富源", "华宇", "天成", "兴隆", "博远", "嘉禾", "同心"]
ORG_TAIL = ["建筑有限公司", "电子厂", "纺织厂", "餐饮店", "装饰公司", "物流公司", "五金厂", "汽修店"]
PROPERTY = ["安心物业", "家园物业", "新城物业", "康居物业"]
CHANNELS_EVENT = ["hotline12345", "minhu", "police110", "jczz"]
CHANNELS_CASE = ["province", "odr", "xltj", "local"]

# (type, wordings): each wording a format string over the dispute's slots
TYPES = {
    "labor_wage": [
        "{n}在{org}打工，{org}拖欠工资{m}个月共{amt}元，多次讨要无果",
        "反映{org}老板欠{n}工钱{amt}元，已经{m}个月没发了，请求帮忙追讨",
        "{org}欠薪：{n}称被拖欠{m}个月工资合计{amt}块，找负责人没人管",
        "讨薪求助，{org}以效益不好为由至今未支付{n}工资{amt}元（{m}个月）",
    ],
    "property": [
        "{n}家楼道渗水长期没人修，{prop}却上门催缴物业费{amt}元，双方争执",
        "投诉{prop}服务差，{n}拒交物业费{amt}块，物业停了门禁",
        "{prop}与业主{n}因物业费{amt}元发生纠纷，业主称小区管理不到位",
    ],
    "neighbor": [
        "{n}家楼上{r}装修漏水，泡坏天花板，要求赔偿{amt}元未谈拢",
        "楼上住户{r}家卫生间渗水到{n}家，损失约{amt}元，协商不成",
        "邻里纠纷：{r}家水管漏水殃及楼下{n}，{n}索赔{amt}块",
    ],
    "noise": [
        "{n}反映楼下{shop}每晚噪音到凌晨，影响休息，沟通多次无效",
        "{shop}噪音扰民，{n}称已持续{m}个月，夜里吵得睡不着",
        "投诉{shop}音响声太大，{n}家老人孩子无法休息",
    ],
    "traffic": [
        "{n}骑电动车与{r}的轿车相撞，受伤花去医药费{amt}元，赔偿谈不拢",
        "交通事故纠纷：{r}驾车刮倒{n}，{n}要求赔偿{amt}元",
        "{n}与{r}发生剐蹭事故，{n}住院，索要医疗费误工费{amt}块",
    ],
    "land": [
        "{n}与本村{r}为宅基地边界争执，涉及{m}亩，互不相让",
        "村民{n}反映{r}占用其承包地{m}亩，要求退还",
        "土地纠纷：{n}和{r}就{m}亩承包田的归属各执一词",
    ],
    "consumer": [
        "{n}在{shop}办卡充值{amt}元，现门店关门跑路，要求退款",
        "预付卡纠纷：{shop}停业，{n}卡里还有{amt}块钱退不了",
        "{n}投诉{shop}收了{amt}元会员费后不提供服务，拒不退费",
    ],
    "family": [
        "{n}与{r}因赡养老人费用分摊吵闹不休，要求调解",
        "家庭矛盾：{n}称{r}不肯出抚养费{amt}元，双方闹僵",
        "{n}和{r}为老房子拆迁款{amt}元的分配发生争吵",
    ],
}
SHOPS = ["烧烤店", "棋牌室", "KTV", "健身房", "美容院", "酒吧", "培训机构"]
PREFIXES = ["【转办】", "【重复来电】", "", "", "", ""]


class Person:
    def __init__(self, rng: random.Random, idx: int):
        self.surname = rng.choice(SURNAMES)
        self.name = self.surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        self.id_number = f"3301{rng.randint(10, 99)}{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{idx % 10000:04d}"
        self.phone = f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"
        self.key = f"p{idx}"


ORG_MID = ["科技", "实业", "机械", "商贸", "服饰", "制衣", "包装", "建材", "食品", "家具", ""]


def make_org(rng: random.Random) -> str:
    return rng.choice(ORG_HEAD) + rng.choice(ORG_MID) + rng.choice(ORG_TAIL)


ESTATE_HEAD = ["阳光", "翠湖", "锦江", "绿洲", "金桂", "银河", "东方", "海棠", "枫林", "凤凰", "荷塘", "梧桐"]


def make_place(rng: random.Random) -> dict:
    return {"street": rng.choice(STREETS), "community": rng.choice(COMMUNITIES), "road": rng.choice(ROADS),
            "no": rng.randint(1, 400), "estate": rng.choice(ESTATE_HEAD) + rng.choice(ESTATES), "b": rng.randint(1, 30),
            "u": rng.randint(1, 4), "r": rng.randint(1, 18) * 100 + rng.randint(1, 4)}


def address_variant(rng: random.Random, pl: dict) -> str:
    fw = str.maketrans("0123456789", "０１２３４５６７８９")
    forms = [
        f"浙江省某市XX区{pl['street']}{pl['road']}{pl['no']}号{pl['estate']}{pl['b']}幢{pl['u']}单元{pl['r']}室",
        f"{pl['street']}{pl['road']}{pl['no']}号 {pl['estate']}{pl['b']}-{pl['u']}-{pl['r']}",
        f"{pl['road']}{pl['no']}号附近",
        f"{pl['community']}{pl['road']}{pl['no']}号",
        f"XX区{pl['estate']}{pl['b']}栋{pl['u']}单元{pl['r']}",
        f"{pl['road']}{str(pl['no']).translate(fw)}号{pl['estate']}",
    ]
    return rng.choice(forms)


def blind(value: str) -> str:
    return f"{features.stable_hash('bidx:' + value):x}" if value else ""


def dirty_party(rng: random.Random, p: Person, with_id: bool) -> dict:
    from clues.normalise import normalise_name, normalise_phone

    r = rng.random()
    raw_name = p.name if r < 0.7 else (p.surname + rng.choice(["先生", "女士"]) if r < 0.9 else p.surname + "某")
    r = rng.random()
    raw_phone = (p.phone if r < 0.55 else f"{p.phone[:3]}****{p.phone[-4:]}" if r < 0.75
                 else f"+86 {p.phone[:3]} {p.phone[3:7]} {p.phone[7:]}" if r < 0.9 else "")
    nm = normalise_name(raw_name)
    phone, masked = normalise_phone(raw_phone)
    return {"name": nm["name"] if nm["known"] else "", "known": nm["known"], "surname": nm.get("surname", ""),
            "id_bidx": blind(p.id_number) if with_id and rng.random() < 0.75 else "",
            "phone_bidx": "" if masked or not phone else blind(phone), "phone": phone}


# what a 110 call record says of each kind of dispute (a few words)
CALL_WHY = {"labor_wage": ["老板欠工钱不给", "讨薪起冲突", "工钱没结清"], "property": ["和物业为收费吵起来", "物业费争执"],
            "neighbor": ["楼上漏水谈不拢", "邻居家渗水吵架"], "noise": ["楼下太吵半夜扰民", "噪声扰民起争执"],
            "traffic": ["车辆剐蹭赔偿谈不拢", "撞车后对方不赔"], "land": ["宅基地边界吵架", "为承包地起冲突"],
            "consumer": ["办卡后店家不退钱", "商家关门退费争执"], "family": ["家里老人赡养吵架", "家庭纠纷吵闹"]}


def police_call(rng: random.Random, rec: dict, kind: str, app: Person, place: dict) -> None:
    """Most 110 records are one line: the caller's surname and number, a spot near the place,
    a few words, often no type (a draw of its own, so that the other records stay as they were)."""
    from clues.normalise import normalise_name, normalise_phone

    if rng.random() < 0.35:
        return  # a call written up at length
    why = rng.choice(CALL_WHY[kind])
    rec["text"] = rng.choice([f"{app.surname}{rng.choice(['先生', '女士'])}报警：{why}，请求出警。",
                              f"来电报警，称在{place['estate']}附近{why}。", f"报警人称{why}，民警已到场处置。",
                              f"{why}，双方情绪激动，报警求助。"])
    rec["title"] = ""
    rec["case_type"] = kind if rng.random() < 0.45 else ""
    rec["address"] = rng.choice([f"{place['estate']}{place['b']}幢附近", f"{place['road']}{place['no']}号门口",
                                 f"{place['estate']}门口", f"{place['road']}{place['no']}号"])
    raw_name = app.surname + rng.choice(["先生", "女士"]) if rng.random() < 0.7 else ""
    nm = normalise_name(raw_name)
    phone, _ = normalise_phone(app.phone)  # the number the call came from
    rec["parties"] = [{"name": nm["name"] if nm["known"] else "", "known": nm["known"], "surname": nm.get("surname", ""),
                       "id_bidx": "", "phone_bidx": blind(phone), "phone": phone}]


def generate(seed: int, disputes: int = 3000):
    """(records, labels): records as features.build input; labels {(key_a, key_b): verdict}."""
    rng = random.Random(seed)
    people = [Person(rng, i) for i in range(int(disputes * 1.1))]
    start = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    specs = []  # (dispute id, type, applicant, respondent person, slots, place, day, group)
    pi = 0
    d = 0
    while d < disputes:
        r = rng.random()
        if r < 0.06:  # a group dispute: several workers, one employer, one site
            org = make_org(rng)
            place, day, months = make_place(rng), rng.randint(0, 330), rng.randint(2, 8)
            gid = f"g{d}"
            for _ in range(rng.randint(3, 6)):
                specs.append((d, "labor_wage", people[pi % len(people)], None,
                              {"org": org, "m": months, "amt": rng.randint(30, 200) * 100}, place,
                              day + rng.randint(0, 10), gid))
                pi += 1
                d += 1
            continue
        t = rng.choice(list(TYPES))
        applicant = people[pi % len(people)]
        pi += 1
        slots = {"org": make_org(rng), "prop": rng.choice(PROPERTY),
                 "shop": rng.choice(ORG_HEAD) + rng.choice(SHOPS), "m": rng.randint(2, 12),
                 "amt": rng.randint(5, 600) * 100}
        respondent = rng.choice(people)
        specs.append((d, t, applicant, respondent, slots, make_place(rng), rng.randint(0, 330), None))
        d += 1
        if rng.random() < 0.12:  # a repeat caller: the same person, another matter, later
            t2 = rng.choice([x for x in TYPES if x != t])
            slots2 = {**slots, "amt": rng.randint(5, 600) * 100, "m": rng.randint(2, 12),
                      "org": make_org(rng), "shop": rng.choice(ORG_HEAD) + rng.choice(SHOPS)}
            place2 = specs[-1][5] if rng.random() < 0.5 else make_place(rng)
            specs.append((d, t2, applicant, rng.choice(people), slots2, place2,
                          specs[-1][6] + rng.randint(3, 200), None))
            d += 1

    recs, dispute_of, person_of, group_of = [], {}, {}, {}
    n = 0
    for did, t, app, resp, slots, place, day, group in specs:
        channels = rng.sample(CHANNELS_EVENT + CHANNELS_CASE, rng.choice((1, 2, 2, 3, 3, 4)))
        wordings = rng.sample(TYPES[t], min(len(channels), len(TYPES[t])))
        for i, ch in enumerate(channels):
            is_case = ch in CHANNELS_CASE
            wording = wordings[i % len(wordings)]
            r_name = resp.name if resp else ""
            text = rng.choice(PREFIXES) + wording.format(n=app.name if rng.random() < 0.8 else "当事人",
                                                          r=r_name or "对方", **slots)
            parties = [dirty_party(rng, app, is_case)]
            if is_case and resp is not None:
                parties.append(dirty_party(rng, resp, True))
            when = start + dt.timedelta(days=day + rng.randint(0, 5), hours=rng.randint(0, 23))
            key = f"{ch}:E{seed}{n:07d}"
            n += 1
            title = text[:rng.randint(6, 14)] if rng.random() < 0.7 else ""
            rec = {"key": key, "kind": "case" if is_case else "clue", "obj_id": n, "channel": ch,
                   "region_path": "", "case_type": t if rng.random() < 0.9 else "", "reported_at": when,
                   "title": title, "text": text, "address": address_variant(rng, place), "address_id": None,
                   "parties": parties}
            if ch == "police110":
                police_call(random.Random(f"{seed}:{key}"), rec, t, app, place)
            recs.append(rec)
            dispute_of[key] = did
            person_of[key] = {app.key} | ({resp.key} if is_case and resp is not None else set())
            group_of[key] = group
    labels = {}
    by_person = defaultdict(list)
    by_group = defaultdict(list)
    by_dispute = defaultdict(list)
    for k in dispute_of:
        by_dispute[dispute_of[k]].append(k)
        for pk in person_of[k]:
            by_person[pk].append(k)
        if group_of[k]:
            by_group[group_of[k]].append(k)
    for keys in by_person.values():
        for a, b in combinations(sorted(keys), 2):
            if dispute_of[a] != dispute_of[b]:
                labels[(a, b)] = "similar"
    for keys in by_group.values():
        for a, b in combinations(sorted(keys), 2):
            if dispute_of[a] != dispute_of[b]:
                labels[(a, b)] = "similar"
    for keys in by_dispute.values():
        for a, b in combinations(sorted(keys), 2):
            labels[(a, b)] = "same"
    return recs, labels


def candidate_pairs(sigs: list[dict], conf):
    """(i, j) index pairs, i < j, that the in-memory blocking scores: the same keys, window, cap
    and hot-key rule as the database path."""
    from extensions.dedup.engine import HOT_KEY_LIMIT

    index = defaultdict(list)
    blocks = []
    for i, s in enumerate(sigs):
        bs = features.blocks(s)
        blocks.append(bs)
        for b in bs:
            index[b].append(i)
    window = max(conf.similar_window_days, conf.same_window_days)
    for i, s in enumerate(sigs):
        shared = Counter()
        weights = features.key_weights(s)
        for b in blocks[i]:
            rows = [j for j in index[b] if abs(sigs[j]["day"] - s["day"]) <= window]
            if len(rows) > HOT_KEY_LIMIT:
                continue
            for j in rows:
                if j > i:
                    shared[j] += weights.get(b, 1)
        for j, n in shared.most_common(conf.max_candidates):
            if n < 2:
                break
            yield i, j


def predict(recs: list[dict], conf) -> dict:
    """Signatures + in-memory blocking (``candidate_pairs``) + the scored decision."""
    sigs = [features.build(r, conf) for r in recs]
    shingles = [set(s["shingles"].split()) for s in sigs]
    out = {}
    for i, j in candidate_pairs(sigs, conf):
        verdict, value, _ = score.compare(sigs[i], sigs[j], conf, shingles[i], shingles[j], explain_none=False)
        if verdict:
            out[tuple(sorted((sigs[i]["key"], sigs[j]["key"])))] = verdict
    return out


def evaluate(pred: dict, labels: dict) -> dict:
    res = {}
    for verdict in ("same", "similar"):
        p = {k for k, v in pred.items() if v == verdict}
        t = {k for k, v in labels.items() if v == verdict}
        tp = len(p & t)
        precision = tp / len(p) if p else 1.0
        recall = tp / len(t) if t else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        res[verdict] = {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
                        "true": len(t), "predicted": len(p)}
    return res
