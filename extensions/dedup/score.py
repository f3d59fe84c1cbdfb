"""The scored decision between two signatures: same (同一案件) / similar (相似案件) / none, with
reasons. Pure function of two signature dicts and the settings (models.DedupSettings or any
object with the same attributes).

    person  how surely the two records share a party: ID blind index > phone blind index >
            masked-phone tail with a compatible name > name (+ place) > surname. Two different
            ID numbers (or phones) for the same name mean two people (同名不同人).
    matter  how surely they describe the same matter: text similarity (bigram Jaccard without
            stock phrases), shared amounts (a conflicting amount counts against), same type,
            same place, same named organisation, closeness in time — combined as a noisy-OR
            (each weight says how far that evidence alone carries), with penalties for a
            conflicting amount or a different type.

    same     = matter × (base + (1 − base) × person), only within the same-case window
    similar  = a shared party (同人不同案), or the same matter and place/organisation with other
               persons (同案不同人)
"""
from __future__ import annotations

import re

NAME_ONLY_CAP = 0.4
# The evidence the model reads. Their values live only in the settings record
# (metadata/dedup/default.yaml, site edits in 重复研判参数), which must name every one of them.
WEIGHTS = ("text", "text_scale", "amount", "type", "place", "employer", "time", "amount_conflict",
           "type_conflict", "person_base", "group_window_factor", "person_similar", "short_text",
           "person_near", "person_near_days")
PERSON_SCORES = ("id", "phone", "phone_tail_name", "phone_tail", "name", "name_phone_differs",
                 "surname_place", "surname")


def named_in(name: str, shingles: set) -> bool:
    """Whether a full name (王艳平) is written in a text, judged by its bigrams (the signature
    keeps no text): a record whose party is only 王先生 often names 王艳平 in its story. Only
    names of three or more characters: 董明 would be found in 董明琳."""
    return len(name) >= 3 and name[:2] in shingles and all(name[i:i + 2] in shingles for i in range(1, len(name) - 1))


def _phones_differ(a: dict, b: dict) -> bool:
    """Both give a phone (full or masked) and they differ: probably two people."""
    return bool((a["p"] and b["p"] and a["p"] != b["p"]) or (a["t"] and b["t"] and a["t"] != b["t"]))


def _person(pa: list[dict], pb: list[dict], ps: dict, place: float, words_a: set = frozenset(),
            words_b: set = frozenset()) -> tuple[float, str]:
    """How surely two records share a party (score, reason); ``words_a`` / ``words_b`` are the
    records' text shingles."""
    best, why = 0.0, ""
    name_score = ps["name"] if place >= 0.4 else min(ps["name"], NAME_ONLY_CAP)
    # a full name of one record written in the other's text (its party only 王先生, or not listed)
    if any(named_in(x["n"], words_a) for x in pb) or any(named_in(x["n"], words_b) for x in pa):
        best, why = name_score, "姓名见于对方案情"
    for a in pa:
        for b in pb:
            score, reason = 0.0, ""
            if a["i"] and b["i"]:
                if a["i"] == b["i"]:
                    score, reason = ps["id"], "证件号码一致"
                elif a["p"] and a["p"] == b["p"]:
                    score, reason = ps["phone"] * 0.5, "电话一致（证件号码不同）"
                if score > best:
                    best, why = score, reason
                continue  # two different ID numbers: two people, whatever the names say
            names_same = bool(a["n"]) and a["n"] == b["n"]
            surname_ok = bool(a["s"]) and a["s"] == b["s"]
            if a["p"] and a["p"] == b["p"]:
                score, reason = ps["phone"], "电话一致"
            elif a["t"] and a["t"] == b["t"] and (names_same or (surname_ok and not (a["n"] and b["n"]))):
                score, reason = ps["phone_tail_name"], "脱敏电话与姓氏吻合"
            elif a["t"] and a["t"] == b["t"] and not (a["n"] and b["n"]):
                if place >= 0.4:  # seven digits of a phone at one estate: one person
                    score, reason = ps["phone_tail_name"], "脱敏电话与地址吻合"
                else:
                    score, reason = ps["phone_tail"], "脱敏电话吻合"
            elif names_same:
                if _phones_differ(a, b):
                    score, reason = ps["name_phone_differs"], "姓名相同但电话不同"
                else:
                    score, reason = name_score, "姓名相同"
            elif surname_ok and not (a["n"] and b["n"]):
                if place >= 0.6 and not _phones_differ(a, b):  # two workers 陈 at one site: two phones
                    score, reason = ps["surname_place"], "姓氏相同且地址吻合"
                else:
                    score, reason = ps["surname"], "姓氏相同"
            if score > best:
                best, why = score, reason
    return best, why


def _place(a: dict, b: dict) -> tuple[float, str]:
    if a.get("address_id") and a.get("address_id") == b.get("address_id"):
        return 1.0, "标准地址一致"
    pa, pb = a["places"], b["places"]
    if pa[0] and pa[0] == pb[0]:
        return 1.0, "地址一致"
    if pa[1] and pa[1] == pb[1]:
        return 0.7, "门牌一致"
    if pa[2] and pa[2] == pb[2]:
        return 0.6, "小区楼栋一致"
    ea, eb = _estate(pa[2]), _estate(pb[2])
    if ea and eb and (ea.endswith(eb) or eb.endswith(ea)):  # 某小区 vs 某小区3幢 (a call from outside it)
        return 0.4, "同一小区"
    if pa[3] and pa[3] == pb[3]:
        return 0.2, "同一社区/村"
    return 0.0, ""


def _estate(estate_building: str) -> str:
    return re.sub(r"\d+幢$", "", estate_building or "")


SHORT_TEXT = 24     # shingles: a record this short is judged by how much of it the other holds
PERSON_NEAR_MIN = 0.8  # phone, ID number, or masked phone with a fitting name
UNRELATED_TEXT = 0.1   # two long texts sharing less than this of their bigrams tell different stories
SHORT_ANCHOR_PLACE = 0.6  # an untyped short record is 同案不同人 only at this place (building / door) …
SHORT_ANCHOR_DAYS = 7      # … and within a week (a call is made while the matter is hot)
SHORT_PERSON_MIN = 0.55  # … for a short record at a fitting place: a surname at the building will do


ANCHOR_EMPLOYER = "共同锚点：同一具名单位"


def _units(amounts: set) -> set[str]:
    """The units named (元, 个月, 亩): amounts conflict only when both name the same unit."""
    return {a.lstrip("0123456789.") for a in amounts}


def _anchor(a: dict, b: dict, gap: int, group_window: float, conf, employer: float, place: float,
            amount: float) -> str:
    """What 同案不同人 stands on ('' when nothing): the same named counterparty within weeks (at the
    same place, or with an agreeing amount), the
    same building or standard address within the same-case window, or the same community with
    an agreeing amount. A placeholder counterparty (某装修公司) or a shared stock phrase is none.
    ``amount`` is 1 when the two share an amount or count (workers of one group claim different
    money for the same months: that shared 7个月 is an overlapping specific)."""
    both_placed = bool(a["places"][0] and b["places"][0])
    if employer and gap <= group_window and (place > 0 or amount > 0 or not both_placed):
        # one named employer at one site (a property company or a chain serves many places:
        # elsewhere only with an agreeing amount)
        return ANCHOR_EMPLOYER
    if gap > conf.same_window_days or (a["employers"] and b["employers"] and not employer):
        return ""  # (two named counterparties that differ: two matters, whatever the place)
    if a.get("address_id") and a.get("address_id") == b.get("address_id"):
        return "共同锚点：同一标准地址"
    if place >= 0.6:
        return "共同锚点：同一楼栋/门牌"
    if place > 0 and amount > 0:
        return "共同锚点：同一社区且金额一致"
    return ""


def _amount(am_a: set, am_b: set) -> float:
    """1 when the amounts agree, −1 when they conflict, 0 when nothing to compare. Money decides:
    two workers of one employer owed 11700元 and 4100元 for the same 7个月 are two claims."""
    money_a, money_b = {x for x in am_a if x.endswith("元")}, {x for x in am_b if x.endswith("元")}
    if money_a and money_b and not money_a & money_b:
        return -1.0
    if am_a & am_b:
        return 1.0
    return -1.0 if _units(am_a) & _units(am_b) else 0.0


def jaccard(a: set, b: set) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _hopeless(a: dict, b: dict, conf, gap: int, place: float, person: float, untyped_short: bool) -> bool:
    """True when no matter evidence could lift the pair to a verdict (matter ≤ its maximum)."""
    w = conf.weights
    matter_max = max(1.0, w["amount_conflict"]) * max(1.0, w["type_conflict"])
    base = w["person_base"]
    if gap <= conf.same_window_days and matter_max * (base + (1 - base) * person) >= conf.same_threshold:
        return False
    if gap <= w.get("person_near_days", 0) and person * w.get("person_near", 0) >= conf.same_threshold:
        return False
    if gap > conf.similar_window_days:
        return True
    if person * w["person_similar"] >= conf.similar_threshold:
        return False
    same_type = a["case_type"] and a["case_type"] == b["case_type"]
    group_window = conf.same_window_days * w["group_window_factor"]
    employer = gap <= group_window and not set(a["employers"]).isdisjoint(b["employers"])
    untyped = not (a["case_type"] and b["case_type"])
    short_here = untyped_short and place >= SHORT_ANCHOR_PLACE and gap <= SHORT_ANCHOR_DAYS  # see compare
    if not same_type and not (untyped and (employer or short_here)):
        return True
    same_address = bool(a.get("address_id")) and a.get("address_id") == b.get("address_id")
    return not (employer or ((place > 0 or same_address) and gap <= conf.same_window_days))


def compare(a: dict, b: dict, conf, sh_a: set | None = None, sh_b: set | None = None, explain_none: bool = True):
    """(verdict or None, score, reasons) for two signature dicts.

    Without ``explain_none`` (bulk callers: most candidate pairs get no verdict) a pair that
    cannot reach either threshold even with the best possible matter evidence is answered before
    the text is compared, and no reasons are worded for it — the same verdicts, a fraction of
    the work."""
    w = conf.weights
    ps = conf.person_scores
    gap = abs(a["day"] - b["day"])
    place, place_why = _place(a, b)
    sh_a = sh_a if sh_a is not None else set(a["shingles"].split())
    sh_b = sh_b if sh_b is not None else set(b["shingles"].split())
    person, person_why = _person(a["parties"], b["parties"], ps, place, sh_a, sh_b)
    short = min(len(sh_a), len(sh_b))
    # the untyped one of the two is a short record (a 110 call types nothing, says little)
    untyped_short = any(not x["case_type"] and 0 < len(sh) <= SHORT_TEXT for x, sh in ((a, sh_a), (b, sh_b)))
    if not explain_none and _hopeless(a, b, conf, gap, place, person, untyped_short):
        return None, 0.0, []
    text = jaccard(sh_a, sh_b)
    if 0 < short <= SHORT_TEXT and w.get("short_text", 0):
        # a police call or a one-line report says little: how much of it the other text holds
        text = max(text, len(sh_a & sh_b) / short * w["short_text"])
    am_a, am_b = set(a["amounts"]), set(b["amounts"])
    amount = _amount(am_a, am_b)
    same_type = 1.0 if a["case_type"] and a["case_type"] == b["case_type"] else 0.0
    employer = 1.0 if set(a["employers"]) & set(b["employers"]) else 0.0
    both_typed = bool(a["case_type"] and b["case_type"])
    near = max(0.0, 1 - gap / conf.same_window_days) if conf.same_window_days else 0.0
    # noisy-OR: each piece of evidence alone can carry the matter part way; none is required
    evidence = ((w["text"], min(1.0, text * w["text_scale"])), (w["amount"], max(amount, 0)),
                (w["type"], same_type), (w["place"], place), (w["employer"], employer),
                (w["time"], near))
    miss = 1.0
    for weight, value in evidence:
        miss *= 1 - min(1.0, weight) * value
    matter = 1 - miss
    # 同案不同人: other people of one matter claim other amounts — no conflict between them
    group_matter = matter * (w["type_conflict"] if both_typed and not same_type else 1.0)
    if amount < 0:
        matter *= w["amount_conflict"]
    if both_typed and not same_type:
        matter *= w["type_conflict"]
    base = w["person_base"]
    same = matter * (base + (1 - base) * person) if gap <= conf.same_window_days else 0.0
    # one person (phone, ID, masked phone + name) reporting within a few days, nothing against
    # it: the same matter, however little the short record says
    # a short record (a 110 call: a surname, the caller's phone, a spot) needs less of the
    # person when the place fits too
    short_record = 0 < short <= SHORT_TEXT and place >= 0.4
    # two full stories by one person that share no words, place or amount are two matters (a
    # repeat caller's next complaint), however close in time
    unrelated = short > SHORT_TEXT and text < UNRELATED_TEXT and place < 0.4 and amount <= 0
    near_person = (gap <= w.get("person_near_days", 0) and amount >= 0 and not (both_typed and not same_type)
                   and not unrelated and person >= (SHORT_PERSON_MIN if short_record else PERSON_NEAR_MIN))
    if near_person:
        same = max(same, person * w.get("person_near", 0))

    def reasons() -> list[str]:
        out = [r for r in (person_why, place_why) if r]
        if am_a & am_b:
            out.append("金额/数量一致：" + "、".join(sorted(am_a & am_b)[:3]))
        elif amount < 0:
            out.append("金额/数量不同")
        if employer:
            out.append("涉及单位一致：" + "、".join(sorted(set(a["employers"]) & set(b["employers"]))[:2]))
        if same_type:
            out.append("案件类型相同")
        out.append(f"文本相似度 {text:.2f}")
        out.append(f"相隔 {gap} 天")
        return out

    if same >= conf.same_threshold:
        return "same", round(min(same, 1.0), 3), reasons()
    if gap > conf.similar_window_days:
        return None, 0.0, reasons() if explain_none else []
    # 同案不同人: the same named organisation within weeks, or the same door within the same-case window
    group_window = conf.same_window_days * w["group_window_factor"]
    anchor = _anchor(a, b, gap, group_window, conf, employer, place, 1.0 if am_a & am_b else 0.0)
    # the same type, or one untyped report naming the same counterparty, or an untyped short
    # record (a 110 call types nothing) at the same building or door within the same-case window
    typed_ok = same_type or (not both_typed and (anchor == ANCHOR_EMPLOYER or (
        untyped_short and place >= SHORT_ANCHOR_PLACE and gap <= SHORT_ANCHOR_DAYS)))
    group = group_matter if typed_ok and anchor else 0.0
    # a shared surname is no shared person (王先生 and 王某某 in one building are two households)
    by_person = 0.0 if person_why.startswith("姓氏") else person * w["person_similar"]
    similar = max(by_person, group)
    if similar >= conf.similar_threshold:
        out = reasons()
        if by_person >= group:
            out.insert(0, "同人不同案")
        else:
            out.insert(0, "同案不同人")
            out.insert(1, anchor)
        return "similar", round(min(similar, 1.0), 3), out
    return None, 0.0, reasons() if explain_none else []
