"""Synthetic district data for the rebuild benchmark and the parallel-rebuild test: reports of
disputes written into the real ``cases`` / ``clues`` tables (COPY via ``clues.bulkcopy``), the
way ingest leaves them (cleaned names and phones, encrypted phones / ID numbers + blind indexes).

What the data looks like (``dispute_stream``): five years of one district's reports from the 8
channels — the 4 event channels become clues, the 4 case channels cases — at ≈ 550 reports a day
for 1,000,000 records. A dispute is reported by 1–4 channels (mean 2.5) within 0–5 days, each in
another wording of the evaluation generator's templates (``evalset.TYPES``), with the same dirt
(partial names 王先生/王某, masked or missing phones, IDs only on case channels). 25 % of
applicants reported before (the recent ones most likely), 6 % of disputes are group wage
disputes (3–6 workers, one employer, one site). Places: 12 streets, 160 communities, ≈ 400 roads
× 300 door numbers, ≈ 600 estates × 30 buildings; 20,000 employers, 150 property companies,
6,000 shops. Home-based disputes (neighbours, noise, property, family, land) happen at the
applicant's home, so a household's reports share a door. Hot blocking keys arise as in life:
template wordings (MinHash bands), property companies, amounts of one type.
"""
from __future__ import annotations

import datetime as dt
import random
from typing import Iterable, Iterator

DAYS = 5 * 365  # 2022-01-01 … end of 2026
EVENT_CHANNELS = ("hotline12345", "minhu", "police110", "jczz")  # → clues
CASE_CHANNELS = ("province", "odr", "xltj", "local")  # → cases
HANZI = ("安宝北昌成春达德东方丰福富刚广贵国海和河弘宏华辉汇佳嘉建江金锦晶景静九俊开康乐力立利联林龙隆美"
         "明南宁平庆瑞润森山盛胜顺泰天通万旺伟文祥鑫新信兴旭阳业怡义益永友裕远悦云泽振正志中众卓")
GIVEN_BIG = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华玉萍红娥玲芬燕彩春菊凤洁梅琳素云莲真环雪荣"
             "爱妹香月莺媛瑞凡佳嘉琼勤珍贞莉娣叶璐娅琦晶妍茜秋珊莎锦青倩婷姣婉娴瑾颖露瑶怡雁蓓仪荷丹蓉君琴蕊薇"
             "菁梦岚苑馨韵园艺卿聪澜纯悦昭冰爽茗羽希宁欣育柔竹凝晓欢霄枫芸菲寒伊亚宜可舒影思建国军民生福德")


def _word(rng, n: int) -> str:
    return "".join(rng.choice(HANZI) for _ in range(n))


class District:
    """The vocabulary of one synthetic district: 12 streets, 160 communities, 400 roads (1–300
    door numbers each), 600 estates, 20,000 employers, 150 property companies, 6,000 shops."""

    def __init__(self, rng):
        from extensions.dedup import evalset

        self.ev = evalset
        self.streets = [f"{_word(rng, 2)}{'街道' if i < 8 else '镇'}" for i in range(12)]
        self.communities = [(rng.randrange(12), f"{_word(rng, 2)}{'社区' if rng.random() < 0.7 else '村'}")
                            for _ in range(160)]
        self.roads = list({f"{_word(rng, 2)}{rng.choice(('路', '路', '街', '大道'))}" for _ in range(400)})
        self.estates = list({f"{_word(rng, 2)}{rng.choice(evalset.ESTATES)}" for _ in range(600)})
        self.orgs = [f"{_word(rng, 2)}{rng.choice(evalset.ORG_MID)}{rng.choice(evalset.ORG_TAIL)}" for _ in range(20000)]
        self.props = [f"{_word(rng, 2)}物业" for _ in range(150)]
        self.shops = [f"{_word(rng, 2)}{rng.choice(evalset.SHOPS)}" for _ in range(6000)]

    def place(self, rng) -> dict:
        street, community = self.communities[rng.randrange(len(self.communities))]
        return {"street": self.streets[street], "community": community, "road": rng.choice(self.roads),
                "no": rng.randint(1, 300), "estate": rng.choice(self.estates), "b": rng.randint(1, 30),
                "u": rng.randint(1, 4), "r": rng.randint(1, 18) * 100 + rng.randint(1, 4)}


class Resident:
    __slots__ = ("name", "surname", "id_number", "phone", "home")

    def __init__(self, rng, idx: int, home: dict):
        self.surname = rng.choice(SURNAMES_BIG)
        self.name = self.surname + "".join(rng.choice(GIVEN_BIG) for _ in range(rng.choice((1, 2, 2, 2))))
        self.id_number = (f"3301{rng.randint(10, 99)}{rng.randint(1950, 2004)}{rng.randint(1, 12):02d}"
                          f"{rng.randint(1, 28):02d}{idx % 10000:04d}")
        self.phone = f"1{rng.choice('3456789')}{rng.randint(0, 999999999):09d}"
        self.home = home


SURNAMES_BIG = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
                "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严")


def dispute_stream(n_records: int, seed: int):
    """Yield reports (dicts) of disputes until ``n_records``: each dispute reported by 1–4 of the 8
    channels within 0–5 days in other words; 25 % of applicants called before (recent callers
    most likely), 6 % of disputes are group wage disputes (3–6 workers, one employer)."""

    rng = random.Random(seed)
    world = District(rng)
    ev = world.ev
    start = dt.datetime(2022, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    people: list[Resident] = []

    def person(repeat: float) -> Resident:
        if people and rng.random() < repeat:
            return people[max(0, len(people) - 1 - int(rng.expovariate(1 / 20000)))]
        p = Resident(rng, len(people), world.place(rng))
        people.append(p)
        return p

    made = 0
    d = 0
    while made < n_records:
        day = rng.randrange(DAYS)
        if rng.random() < 0.06:
            org, site, months = rng.choice(world.orgs), world.place(rng), rng.randint(2, 8)
            specs = [("labor_wage", person(0.1), None, {"org": org, "m": months, "amt": rng.randint(30, 200) * 100},
                      site, day + rng.randint(0, 10)) for _ in range(rng.randint(3, 6))]
        else:
            t = rng.choice(list(ev.TYPES))
            app = person(0.25)
            resp = person(0.2)
            slots = {"org": rng.choice(world.orgs), "prop": rng.choice(world.props), "shop": rng.choice(world.shops),
                     "m": rng.randint(2, 12), "amt": rng.randint(5, 600) * 100}
            where = world.place(rng) if t in ("labor_wage", "traffic", "consumer") else app.home
            specs = [(t, app, resp, slots, where, day)]
        for t, app, resp, slots, where, when_day in specs:
            d += 1
            channels = rng.sample(EVENT_CHANNELS + CASE_CHANNELS, rng.choice((1, 2, 2, 3, 3, 4)))
            wordings = rng.sample(ev.TYPES[t], min(len(channels), len(ev.TYPES[t])))
            for i, ch in enumerate(channels):
                text = rng.choice(ev.PREFIXES) + wordings[i % len(wordings)].format(
                    n=app.name if rng.random() < 0.8 else "当事人", r=resp.name if resp else "对方", **slots)
                parties = [app] + ([resp] if resp is not None and ch in CASE_CHANNELS else [])
                yield {"channel": ch, "n": made, "dispute": d, "type": t if rng.random() < 0.9 else "",
                       "when": start + dt.timedelta(days=min(DAYS - 1, when_day + rng.randint(0, 5)),
                                                    hours=rng.randint(0, 23), minutes=rng.randint(0, 59)),
                       "title": text[:rng.randint(6, 14)] if rng.random() < 0.7 else "", "text": text,
                       "address": ev.address_variant(rng, where), "community": where["community"],
                       "parties": [_raw_party(rng, p, ch in CASE_CHANNELS) for p in parties]}
                made += 1
                if made >= n_records:
                    return


def _raw_party(rng, p: Resident, with_id: bool) -> dict:
    """As a channel sends it after cleaning: full / masked / missing phone, full or partial name."""
    from clues.normalise import normalise_name, normalise_phone

    r = rng.random()
    raw_name = p.name if r < 0.7 else (p.surname + rng.choice(["先生", "女士"]) if r < 0.9 else p.surname + "某")
    r = rng.random()
    raw_phone = (p.phone if r < 0.55 else f"{p.phone[:3]}****{p.phone[-4:]}" if r < 0.75
                 else f"+86 {p.phone[:3]} {p.phone[3:7]} {p.phone[7:]}" if r < 0.9 else "")
    nm = normalise_name(raw_name)
    phone, masked = normalise_phone(raw_phone)
    return {"name": nm["name"], "known": nm["known"], "surname": nm.get("surname", ""),
            "phone": "" if masked else phone, "masked": phone if masked else "",
            "id_number": p.id_number if with_id and rng.random() < 0.75 else ""}




def store(rows: Iterable[dict], batch: int = 10000) -> Iterator[int]:
    """Write reports from ``dispute_stream`` into clues (+ raw records, parties) and cases (+
    parties), ``batch`` per transaction; yields the running count after each batch. No hooks
    fire (bulk COPY, like a restore): run ``dedup_rebuild`` afterwards."""
    from django.db import transaction
    from django.utils import timezone

    from cases.models import Case, Party
    from clues import bulkcopy
    from clues.models import Clue, ClueParty, RawRecord
    from orgs.models import Region

    communities = list(Region.objects.filter(level=Region.Level.COMMUNITY).values_list("id", "path")) or \
        list(Region.objects.values_list("id", "path"))
    rng = random.Random(7)
    region_of: dict[str, tuple] = {}
    now = timezone.now()

    def flush(rows: list[dict]) -> None:
        for r in rows:
            if r["community"] not in region_of:
                region_of[r["community"]] = communities[rng.randrange(len(communities))]
        clues = [r for r in rows if r["channel"] in EVENT_CHANNELS]
        cases = [r for r in rows if r["channel"] in CASE_CHANNELS]
        with transaction.atomic():
            raw_ids = bulkcopy.insert_rows(RawRecord, [
                {"channel_id": r["channel"], "source_id": f"B{r['n']:08d}", "record_key": f"{r['channel']}:B{r['n']:08d}",
                 "payload": {}, "payload_hash": "", "first_seen": now, "last_seen": now} for r in clues])
            clue_ids = bulkcopy.insert_rows(Clue, [
                {"record_key": f"{r['channel']}:B{r['n']:08d}", "raw_id": rid, "channel_id": r["channel"],
                 "source_id": f"B{r['n']:08d}", "occurred_at": r["when"], "title": r["title"], "text": r["text"],
                 "type_code": r["type"], "address_raw": r["address"], "address": r["address"],
                 "region_id": region_of[r["community"]][0], "region_path": region_of[r["community"]][1],
                 "created_at": r["when"]} for r, rid in zip(clues, raw_ids)])
            bulkcopy.insert_rows(ClueParty, [
                {"clue_id": cid, "role": "", "name": p["name"], "name_known": p["known"], "phone": p["phone"],
                 "phone_masked": p["masked"], "id_number": p["id_number"]}
                for r, cid in zip(clues, clue_ids) for p in r["parties"]])
            case_ids = bulkcopy.insert_rows(Case, [
                {"exchange_id": f"B{r['n']:08d}", "title": r["title"] or r["text"][:20], "description": r["text"],
                 "case_type": r["type"], "source": r["channel"], "status": "registered", "address": r["address"],
                 "registered_at": r["when"], "occurred_at": r["when"], "region_id": region_of[r["community"]][0],
                 "region_path": region_of[r["community"]][1], "party_count": len(r["parties"]), "extra": {}}
                for r in cases])
            bulkcopy.insert_rows(Party, [
                {"case_id": cid, "role": "applicant" if i == 0 else "respondent", "name": p["name"] or "当事人",
                 "phone": p["phone"], "id_number": p["id_number"],
                 "extra": {"name_known": p["known"], "surname": p["surname"], "phone_masked": p["masked"]}}
                for r, cid in zip(cases, case_ids) for i, p in enumerate(r["parties"])])

    buf, done = [], 0
    for r in rows:
        buf.append(r)
        if len(buf) == batch:
            flush(buf)
            done += len(buf)
            buf = []
            yield done
    if buf:
        flush(buf)
        yield done + len(buf)
