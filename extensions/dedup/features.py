"""Record → matching features, and features → blocking keys. Pure functions, no database, so the
evaluation generator and the live model share exactly the same code.

Input is a plain dict (``Rec``) built from a case or clue (see ``records.py``) or by the
evaluation generator from dirty channel values passed through the cleaning normalisers:

    {"key", "kind", "obj_id", "channel", "region_path", "case_type", "reported_at", "title",
     "text", "address", "address_id",
     "parties": [{"name", "known", "surname", "id_bidx", "phone_bidx", "phone"}]}

``phone`` is the normalised (maybe masked, ``179****1423``) phone; only its first three and
last four digits are kept (``phone tail``), which is what a masked phone still tells.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import re
import struct
import zlib

import numpy as np

from addresses import normalize as addrnorm

EPOCH = dt.date(2000, 1, 1)
CJK = "\u4e00-\u9fff"

_NUM_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(万元|万|元|块钱|块|亩|个月|月|天|人|平方米|平米|㎡|辆|户)")
_UNIT_CANON = {"块钱": "元", "块": "元", "万": "万元", "月": "个月", "平米": "㎡", "平方米": "㎡"}
_ORG_SUFFIX = ("有限责任公司", "有限公司", "集团", "公司", "合作社", "工厂", "厂", "店", "物业", "工地",
               "酒店", "超市", "商行", "门市部", "项目部", "医院", "学校", "幼儿园", "酒楼", "饭店")
_ORG_RE = re.compile(rf"([{CJK}A-Za-z0-9]{{2,10}}?)({'|'.join(_ORG_SUFFIX)})")
# words that end the text before an organisation's name ("称在鑫源服装厂" → 鑫源服装厂)
_ORG_LEAD = re.compile(rf"^.*(?:在|与|向|被|和|跟|对|称|说|因|是|的|了|从|到|给|找|去|为|于|及|欠|拖欠|讨要|现|却|催缴|"
                       rf"投诉|上门|反映|办卡|充值|楼下|附近)")
_GENERIC_ORG = {"服装厂", "物业", "公司", "工厂", "店", "工地", "超市", "酒店", "饭店", "商店", "小店",
                "该公司", "本公司", "这家店", "美容院", "健身房", "门店", "该店"}
_SHINGLE_RE = re.compile(rf"[{CJK}]+|[A-Za-z]+|\d+")


def stable_hash(text: str) -> int:
    """Signed 64-bit hash, the same in every process (Python's hash() is salted)."""
    return struct.unpack("<q", hashlib.blake2b(text.encode(), digest_size=8).digest())[0]


def day_number(when: dt.datetime | None) -> int:
    if when is None:
        return 0
    from clues.normalise import LOCAL_TZ

    local = when.astimezone(LOCAL_TZ).date() if when.tzinfo else when.date()
    return (local - EPOCH).days


# --- parties ---------------------------------------------------------------------------------
def phone_tail(phone: str) -> str:
    """'179*1423' for '17957070221' and for '179****1423'; '' when too little is left."""
    digits = re.sub(r"[^\d*]", "", phone or "")
    if not digits:
        return ""
    head = re.match(r"\d*", digits).group()
    tail = re.search(r"\d*$", digits).group()
    if "*" not in digits:
        head, tail = digits, digits
    if len(head) >= 3 and len(tail) >= 4 and len(digits) >= 7:
        return f"{head[:3]}*{tail[-4:]}"
    return ""


def party_features(parties: list[dict]) -> list[dict]:
    """Compact, plaintext-free party features: n name (known), s surname, i id blind index,
    p phone blind index, t phone tail."""
    out = []
    for x in parties:
        name = (x.get("name") or "").strip()
        known = bool(x.get("known", True)) and bool(name) and "某" not in name
        surname = x.get("surname") or (name[:1] if name else "")
        if name.endswith("某某") and not x.get("surname"):
            surname = name[:-2]
        f = {"n": name if known else "", "s": surname,
             "i": x.get("id_bidx") or "", "p": x.get("phone_bidx") or "", "t": phone_tail(x.get("phone") or "")}
        if any(f.values()):
            out.append(f)
    return out


# --- place -------------------------------------------------------------------------------------
def place_features(address: str) -> list[str]:
    """[full key, door (road+number), estate(+building), community] — '' where unknown."""
    c = addrnorm.parse(address or "")
    estate = c.estate_key + (f"{c.building}幢" if c.building else "") if c.estate_key else ""
    community = c.community or c.locality or ""
    return [c.key, c.door, estate, community]


# --- text ----------------------------------------------------------------------------------------
def amounts(text: str) -> list[str]:
    from clues.normalise import fullwidth_to_halfwidth

    out = set()
    for num, unit in _NUM_UNIT.findall(fullwidth_to_halfwidth(text or "")):
        unit = _UNIT_CANON.get(unit, unit)
        if unit == "万元":
            num, unit = str(int(float(num) * 10000)), "元"
        out.add(f"{num.rstrip('0').rstrip('.') if '.' in num else num}{unit}")
    return sorted(out)


# an anonymised counterparty (某装修公司, XX公司, 该公司, 这家店) names nobody: two complaints against
# "某健身房" are not about the same shop
_PLACEHOLDER_ORG = re.compile(r"某|[XxＸｘ]{2}|[*＊]|^(?:该|此|这|那|本|其|一家|这家|那家)")
# words of a sentence, not of a unit name: "电梯长期故障拒交物业（费）" is a phrase, not a property company
_PHRASE_IN_NAME = re.compile(r"拒交|拒付|故障|长期|拖欠|欠费|欠薪|催缴|停了|要求|无法|不退|跑路|关门|投诉|反映|业主|"
                             r"楼上|楼下|费后|以后|之后|然后|已经|没有|一直|多次|发生|导致|因为|由于|认为|^服务|"
                             r"^[的了在是和与被把将对向给让]")
_GENERIC_NAME = {"工程", "建设工程", "装饰工程", "劳务", "科技", "实业", "商贸", "物业服务", "家装", "装修", "装饰"}
_NOT_ORG_AFTER = re.compile(r"费")  # 拒交物业费: the suffix ends no unit here


def employers(text: str) -> list[str]:
    """Named organisations in the text (employer, property company, shop): 鑫源服装厂 → 鑫源服装.
    Placeholders (某X, XX公司, 该公司) and phrases that merely end in a unit word (拒交物业费) are
    no names."""
    out = set()
    text = text or ""
    for m in _ORG_RE.finditer(text):
        name = _ORG_LEAD.sub("", m.group(1))
        full = name + m.group(2)
        if not 2 <= len(name) <= 8 or full in _GENERIC_ORG or name.endswith(("一家", "这家", "那家", "附近")):
            continue
        if (_PLACEHOLDER_ORG.search(name) or _PHRASE_IN_NAME.search(name) or name in _GENERIC_NAME
                or _NOT_ORG_AFTER.match(text, m.end())):
            continue
        out.add(re.sub("(有限责任公司|有限公司|集团|公司)$", "", full))
    return sorted(out)


def shingles(text: str, stop_phrases=()) -> set[str]:
    """Character bigrams of the Chinese runs, plus whole numbers (amounts, counts)."""
    from clues.normalise import fullwidth_to_halfwidth

    text = fullwidth_to_halfwidth(text or "")
    for phrase in stop_phrases:
        if phrase:
            text = text.replace(phrase, " ")
    out = set()
    for run in _SHINGLE_RE.findall(text):
        if run.isdigit() or run.isascii():
            out.add(run)
        elif len(run) == 1:
            out.add(run)
        else:
            out.update(run[i:i + 2] for i in range(len(run) - 1))
    return out


# --- the signature --------------------------------------------------------------------------------
def build(rec: dict, conf) -> dict:
    """Signature values of one record (see models.Signature)."""
    text = f"{rec.get('title') or ''} {rec.get('text') or ''}"
    places = place_features(rec.get("address") or "")
    return {
        "key": rec["key"], "kind": rec["kind"], "obj_id": rec.get("obj_id") or 0,
        "channel": rec.get("channel") or "", "region_path": rec.get("region_path") or "",
        "case_type": rec.get("case_type") or "", "reported_at": rec.get("reported_at"),
        "day": day_number(rec.get("reported_at")), "title": (rec.get("title") or "")[:200],
        "parties": party_features(rec.get("parties") or []),
        "address": places[0][:255], "places": places, "address_id": rec.get("address_id"),
        "employers": employers(text), "amounts": amounts(text),
        "shingles": " ".join(sorted(shingles(text, conf.stop_phrases))),
    }


MINHASH_BANDS = 6
MINHASH_ROWS = 3
_P31 = (1 << 31) - 1  # products of two 31-bit numbers fit in uint64: vectorised without overflow
_A = np.array([stable_hash(f"a{i}") % _P31 | 1 for i in range(MINHASH_BANDS * MINHASH_ROWS)], dtype=np.uint64)
_B = np.array([stable_hash(f"b{i}") % _P31 for i in range(MINHASH_BANDS * MINHASH_ROWS)], dtype=np.uint64)


def _token_hash(token: str) -> int:
    return zlib.crc32(token.encode()) % _P31


def minhash_bands(tokens: set[str]) -> list[int]:
    """LSH bands of a MinHash over the text shingles: texts sharing most bigrams share a band."""
    if len(tokens) < 4:
        return []
    h = np.fromiter((_token_hash(t) for t in tokens), dtype=np.uint64, count=len(tokens))
    mins = ((_A[:, None] * h[None, :] + _B[:, None]) % _P31).min(axis=1).tolist()
    return [stable_hash("mh%d:%s" % (i, mins[i * MINHASH_ROWS:(i + 1) * MINHASH_ROWS]))
            for i in range(MINHASH_BANDS)]


def blocks(sig: dict) -> list[int]:
    """Blocking keys: records sharing a strong one, or two of any (within the time window), are
    candidates (see ``strong_blocks``)."""
    strong, weak = block_keys(sig)
    return sorted(strong | weak)


def strong_blocks(sig: dict) -> set[int]:
    """The keys that alone make a candidate: party identity, the exact address, an organisation.
    A door, an estate or one MinHash band alone is shared by too many unrelated records."""
    persons, others = _strong_keys(sig)
    return {stable_hash(k) for k in persons | others}


# a shared party key outranks any number of shared weak keys when candidates are capped: a
# repeat caller's other report must not be crowded out by look-alike template texts
PERSON_KEY_WEIGHT = 16
PLACE_TILE_DAYS = 40  # twice the shipped same-case window (20 days)
STRONG_KEY_WEIGHT = 2


def key_weights(sig: dict) -> dict[int, int]:
    """Strong blocking key → its weight in the candidate ranking (a weak key weighs 1)."""
    persons, others = _strong_keys(sig)
    return {**{stable_hash(k): STRONG_KEY_WEIGHT for k in others},
            **{stable_hash(k): PERSON_KEY_WEIGHT for k in persons}}


def _strong_keys(sig: dict) -> tuple[set[str], set[str]]:
    """(party keys: ID, phone, masked phone, name at a place; the other strong keys)."""
    persons = set()
    for p in sig["parties"]:
        if p["i"]:
            persons.add(f"id:{p['i']}")
        if p["p"]:
            persons.add(f"ph:{p['p']}")
        if p["t"]:
            persons.add(f"pt:{p['t']}")
    key, door, estate, community = (sig["places"] + ["", "", "", ""])[:4]
    # one report gives the door, another only the estate and building (a police call: 某小区3幢楼下):
    # a name is keyed at each of them
    wheres = [w for w in (door, estate) if w] or ([community] if community else [])
    for p in sig["parties"]:
        for where in wheres:  # a name alone is no evidence (同名不同人) and makes huge buckets
            if p["n"]:
                persons.add(f"nm:{p['n']}@{where}")
    keys = set()
    # the same door (else building) within weeks: the one key a short record (a 110 call: a
    # spot, a few words) shares with the other reports of its matter. Two tilings of
    # PLACE_TILE_DAYS offset by half: reports less than half a tile apart share a tile.
    spot = door or estate
    if spot:
        keys.add(f"dt:{spot}@{sig['day'] // PLACE_TILE_DAYS}")
        keys.add(f"dt:{spot}@{(sig['day'] + PLACE_TILE_DAYS // 2) // PLACE_TILE_DAYS}+")
    if key:
        keys.add(f"ad:{key}")
    if sig.get("address_id"):
        keys.add(f"sa:{sig['address_id']}")
    for e in sig["employers"]:
        keys.add(f"em:{e}")
    return persons, keys


def block_keys(sig: dict) -> tuple[set[int], set[int]]:
    persons, others = _strong_keys(sig)
    keys = persons | others
    key, door, estate, community = (sig["places"] + ["", "", "", ""])[:4]
    weak = set()
    for p in sig["parties"]:
        for where in (door, estate):  # 王先生 at the same door / building
            if p["s"] and where:
                weak.add(f"sn:{p['s']}@{where}")
    for amount in sig["amounts"]:
        if re.match(r"\d{3,}", amount):  # 2400元 of a property fee, not "3个月"
            weak.add(f"am:{amount}@{sig['case_type']}")
    if door:
        weak.add(f"dr:{door}")
    if estate:
        weak.add(f"es:{estate}")
    strong = {stable_hash(k) for k in keys}
    return strong, ({stable_hash(k) for k in weak} | set(minhash_bands(set(sig["shingles"].split())))) - strong
