"""Anonymised write-ups: parties become 王某 / 某公司, ID numbers, phone numbers and addresses are
removed. ``draft`` proposes a write-up from the case; ``leaks`` is the check every save of a
write-up (and every text put in the search index) goes through."""
from __future__ import annotations

import re

from lowcode.registry import get_dictionary

ID_RE = re.compile(r"(?<![0-9A-Za-z])(\d{17}[\dXx]|\d{15})(?![0-9A-Za-z])")
PHONE_RE = re.compile(r"(?<!\d)(1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}|0\d{2,3}-?\d{7,8})(?!\d)")
# a door address: "...路/街/巷/弄/村 12号 (3幢 2单元 501室)"
ADDRESS_RE = re.compile(r"[\u4e00-\u9fa5A-Za-z0-9]{0,12}?(?:路|街|大道|巷|弄|村|小区|花园|公寓|苑)"
                        r"\d+(?:-\d+)?号(?:[\d一二三四五六七八九十]+(?:幢|栋|号楼|单元|楼|室|层))*")
ROOM_RE = re.compile(r"\d+(?:幢|栋|号楼)\d*(?:单元)?\d*(?:室)?")
ORG_SUFFIXES = ("有限责任公司", "股份有限公司", "有限公司", "公司", "集团", "工厂", "厂", "商店", "店", "中心",
                "合作社", "物业", "学校", "医院")
EXTRA_PLACEHOLDERS = ("某某", "甲", "乙", "丙", "丁")


def _org_alias(name: str) -> str:
    for suffix in ORG_SUFFIXES:
        if name.endswith(suffix):
            return "某" + suffix
    return "某单位"


def aliases(parties) -> dict[str, str]:
    """Party name → placeholder: 王某, a second 王 → 王某某, then 王某甲…; organisations 某公司."""
    out, used = {}, set()
    for party in parties:
        name = (party.name or "").strip()
        if len(name) < 2 or name in out:
            continue
        if getattr(party, "party_kind", "person") != "person" or any(name.endswith(s) for s in ORG_SUFFIXES):
            alias = _org_alias(name)
        else:
            alias = name[0] + "某"
        base, i = alias, 0
        while alias in used and i < len(EXTRA_PLACEHOLDERS):
            alias = base + EXTRA_PLACEHOLDERS[i]
            i += 1
        used.add(alias)
        out[name] = alias
    return out


def _identity_values(case, parties) -> list[tuple[str, str]]:
    """(value, replacement) of everything that identifies a party, longest first."""
    pairs = [(name, alias) for name, alias in aliases(parties).items()]
    for p in parties:
        for value in (p.id_number, p.phone):
            if value and len(value) >= 6:
                pairs.append((value, "***"))
        if p.address and len(p.address) >= 4:
            pairs.append((p.address, "某处"))
    if case is not None and case.address and len(case.address) >= 4:
        pairs.append((case.address, "某处"))
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def scrub(text: str, case=None, parties=None) -> str:
    """The text with every party identity of ``case`` and every ID/phone/door address replaced."""
    if not text:
        return ""
    if parties is None:
        parties = list(case.parties.all()) if case is not None else []
    for value, replacement in _identity_values(case, parties):
        text = text.replace(value, replacement)
        # a name written without the dot or spaces a register may hold
        compact = value.replace("·", "").replace(" ", "")
        if compact != value and len(compact) >= 2:
            text = text.replace(compact, replacement)
    text = ID_RE.sub("***", text)
    text = PHONE_RE.sub("***", text)
    text = ADDRESS_RE.sub("某处", text)
    text = ROOM_RE.sub("某处", text)
    return text


def leaks(text: str, case) -> list[str]:
    """What in ``text`` still identifies a party of ``case`` (Chinese descriptions; empty = none)."""
    found = []
    parties = list(case.parties.all())
    for p in parties:
        name = (p.name or "").strip()
        if len(name) >= 2 and name in text:
            found.append(f"当事人姓名“{name}”")
        if p.id_number and p.id_number in text:
            found.append("当事人证件号码")
        if p.phone and p.phone in text:
            found.append("当事人电话")
        if p.address and len(p.address) >= 4 and p.address in text:
            found.append("当事人住址")
    if case.address and len(case.address) >= 4 and case.address in text:
        found.append(f"纠纷发生地“{case.address}”")
    if ID_RE.search(text):
        found.append("证件号码")
    if PHONE_RE.search(text):
        found.append("电话号码")
    if ADDRESS_RE.search(text):
        found.append("门牌地址")
    return list(dict.fromkeys(found))


def _label(dictionary: str, code: str) -> str:
    items = get_dictionary(dictionary)
    return items[code].label if code in items else (code or "")


def draft(case) -> dict:
    """A proposed title and write-up from the case (the user edits them before submitting)."""
    parties = list(case.parties.all())
    type_label = _label("case_type", case.case_type)
    body = [f"【基本案情】{scrub(case.description or case.title, case, parties)}"]
    logs = [scrub(log.content, case, parties) for log in case.logs.order_by("occurred_at", "pk")]
    if logs:
        body.append("【调解过程】" + "\n".join(logs))
    result = getattr(case, "result", None)
    if result is not None:
        outcome = _label("mediation_outcome", result.outcome)
        body.append(f"【调解结果】{outcome}。{scrub(result.agreement, case, parties)}".rstrip())
    body.append("【经验启示】（请填写本案的调解方法和可借鉴之处）")
    names = aliases(parties)
    parties_line = "、".join(f"{names.get((p.name or '').strip(), '某人')}（{_label('party_role', p.role)}）"
                            for p in parties)
    if parties_line:
        body.insert(0, f"【当事人】{scrub(parties_line, case, parties)}")
    title = scrub(case.title, case, parties)
    return {"title": f"{type_label}典型案例：{title}"[:200], "writeup": "\n\n".join(body)}
