"""Masking of raw channel data for display: rejection excerpts, rejected-records reports, the raw
record screen and cleaning messages.

    redact.mask_text("张三 13812345678 330102199001011234", names=["张三"])
        → "张某 138****5678 3301**********1234"
    redact.mask_payload({"来电人": "张三", "来电号码": "13812345678", "诉求内容": "张三称…"})
        → {"来电人": "张某", "来电号码": "138****5678", "诉求内容": "张某称…"}
    redact.mask_excerpt('{"来电人":"张三","来电号码":"1381234…')   # truncated JSON too

Stored raw data is SM4-encrypted (clues.fields); what a screen or a CSV shows is masked here.
Three kinds of knowledge, combined:
- the keys the cleaning rules map to a party's name / phone / ID number (plus common defaults),
  so a value under such a key is masked whatever it looks like;
- patterns inside any free text: 18/15-digit ID numbers, mobile and landline numbers;
- the names found under name keys, masked again wherever they recur in the same record's text.
A name appearing only inside free text (never under a name key) cannot be recognised reliably
and is left as is.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from secure.masking import mask_id_number, mask_phone

# ID numbers (GB 11643: 18 characters, the old 15 digits) and phones, not inside longer numbers.
ID_RE = re.compile(r"(?<![0-9])(?:\d{17}[\dXx]|\d{15})(?![0-9Xx])")
PHONE_RE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[- ]?)?(?:1[3-9]\d[- ]?\d{4}[- ]?\d{4}|0\d{2,3}-?\d{7,8})(?![0-9])")
CJK = re.compile(r"[\u3400-\u9fff]")
COMPOUND_SURNAMES = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
                     "司徒", "夏侯", "轩辕", "端木", "长孙", "宇文", "申屠", "钟离", "南宫", "西门")
PEOPLE_SEP = re.compile(r"([;；,，、])")
PEOPLE_CHUNK = re.compile(r"^(?P<lead>\s*)(?P<name>[^()（）]*?)(?P<rest>\s*(?:[(（].*)?)$")

# Keys of the shipped formats (metadata/cleaning/*.yaml) and common ones; custom rules add theirs.
NAME_KEYS = {"姓名", "name", "来电人", "报警人", "诉求人", "申请人", "被申请人", "当事人", "联系人", "反映人",
             "投诉人", "举报人", "求助人"}
PHONE_KEYS = {"电话", "联系电话", "手机", "手机号", "手机号码", "mobile", "phone", "来电号码", "联系方式",
              "申请人电话", "被申请人电话"}
ID_KEYS = {"证件号码", "身份证", "身份证号", "身份证号码", "idCard", "id_number", "申请人身份证", "被申请人身份证"}
_PARTY_TARGET = re.compile(r"^party\[[^\]]+\]\.(name|phone|id_number)$")


def mask_name(name: str) -> str:
    """王某 for 王小明, 欧阳某 for 欧阳娜娜; *** for a name not in Chinese characters."""
    name = (name or "").strip()
    if not name:
        return ""
    if name.endswith("某") or name.endswith("某某"):
        return name  # already anonymous
    if CJK.match(name):
        surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[0]
        return surname + "某"
    return "***"


def _mask_patterns(text: str) -> str:
    text = ID_RE.sub(lambda m: mask_id_number(m.group()), text)
    return PHONE_RE.sub(lambda m: mask_phone(m.group()), text)


def mask_text(text: str, names: Iterable[str] = ()) -> str:
    """Free text with ID numbers, phones and the given names masked."""
    if not text:
        return text or ""
    for name in sorted({n for n in names if n and len(n) >= 2}, key=len, reverse=True):
        text = text.replace(name, mask_name(name))
    return _mask_patterns(text)


def mask_people(text: str) -> str:
    """'张三(13800000000)；李四' → '张某(138****0000)；李某' — a name field may hold several people."""
    parts = PEOPLE_SEP.split(text)
    out = []
    for part in parts:
        m = None if PEOPLE_SEP.fullmatch(part) else PEOPLE_CHUNK.match(part)
        out.append(part if m is None else m.group("lead") + mask_name(m.group("name")) + m.group("rest"))
    return _mask_patterns("".join(out))


_QUOTED_PARTY = re.compile(r"当事人“(?P<who>[^”]*)”")
_QUOTED_PHONE = re.compile(r"电话“(?P<phone>[^”*]*)”")


def mask_message(text: str) -> str:
    """A cleaning message (rejection reason, clean error, warning) with any quoted party, phone or
    ID number masked — new messages are built masked (clues.clean), old ones are masked by a
    migration."""
    if not text:
        return text or ""
    text = _QUOTED_PARTY.sub(lambda m: "当事人“" + mask_people(m.group("who")) + "”", text)
    text = _QUOTED_PHONE.sub(lambda m: "电话“" + mask_phone(m.group("phone")) + "”", text)
    return _mask_patterns(text)


def _people_names(text: str) -> list[str]:
    names = []
    for part in PEOPLE_SEP.split(text):
        m = PEOPLE_CHUNK.match(part)
        if m is not None and m.group("name").strip():
            names.append(m.group("name").strip())
    return names


@dataclass
class Keys:
    names: set[str] = field(default_factory=lambda: set(NAME_KEYS))
    phones: set[str] = field(default_factory=lambda: set(PHONE_KEYS))
    ids: set[str] = field(default_factory=lambda: set(ID_KEYS))

    def add_rule(self, field_map: dict, party_fields: dict) -> None:
        for src, target in (field_map or {}).items():
            m = _PARTY_TARGET.match(str(target))
            if m:
                {"name": self.names, "phone": self.phones, "id_number": self.ids}[m.group(1)].add(src)
            elif str(target).startswith("parties_text"):
                self.names.add(src)
        for src, attr in (party_fields or {}).items():
            if attr in ("name", "phone", "id_number"):
                {"name": self.names, "phone": self.phones, "id_number": self.ids}[attr].add(src)


_cache: tuple[float, Keys] | None = None
CACHE_SECONDS = 60


def keys() -> Keys:
    """The defaults plus what every cleaning rule maps to a party's name / phone / ID (one query,
    remembered for a minute)."""
    global _cache
    now = time.monotonic()
    if _cache is not None and _cache[0] > now:
        return _cache[1]
    from clues.models import CleaningRule

    k = Keys()
    for field_map, party_fields in CleaningRule.objects.values_list("field_map", "party_fields"):
        if isinstance(field_map, dict):
            k.add_rule(field_map, party_fields if isinstance(party_fields, dict) else {})
    _cache = (now + CACHE_SECONDS, k)
    return k


def _names_in(value: Any, k: Keys, out: list[str]) -> None:
    if isinstance(value, dict):
        for key, v in value.items():
            if key in k.names and isinstance(v, str):
                out.extend(_people_names(v))
            else:
                _names_in(v, k, out)
    elif isinstance(value, list):
        for v in value:
            _names_in(v, k, out)


def _mask_value(value: Any, k: Keys, names: list[str], key: str | None = None) -> Any:
    if isinstance(value, dict):
        return {kk: _mask_value(v, k, names, kk) for kk, v in value.items()}
    if isinstance(value, list):
        return [_mask_value(v, k, names, key) for v in value]
    if isinstance(value, int) and not isinstance(value, bool):  # a phone or ID sent as a number
        text = str(value)
        if key in k.phones or key in k.ids or _mask_patterns(text) != text:
            value = text
    if not isinstance(value, str):
        return value
    if key in k.names:
        return mask_people(value)
    if key in k.ids:
        return mask_id_number(value.strip()) if not ID_RE.search(value) else mask_text(value)
    if key in k.phones:
        return mask_phone(value.strip()) if not PHONE_RE.search(value) else mask_text(value)
    return mask_text(value, names)


def mask_payload(payload: Any, k: Keys | None = None) -> Any:
    """A copy of a raw payload (dict / list) fit to show: personal values masked."""
    k = k or keys()
    names: list[str] = []
    _names_in(payload, k, names)
    return _mask_value(payload, k, names)


_PAIR = re.compile(r'"(?P<key>(?:[^"\\]|\\.)*)"\s*:\s*"(?P<value>(?:[^"\\]|\\.)*)"?')


def mask_excerpt(text: str, k: Keys | None = None) -> str:
    """An excerpt (raw JSON line, possibly cut off at 300 characters, or an Excel row) fit to show."""
    if not text:
        return text or ""
    k = k or keys()
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if isinstance(value, (dict, list)):
        return json.dumps(mask_payload(value, k), ensure_ascii=False)
    # not (complete) JSON: mask "key": "value" pairs of name / phone / ID keys, then patterns
    names: list[str] = []

    def pair(m: re.Match) -> str:
        key, val = m.group("key"), m.group("value")
        if key in k.names:
            names.extend(_people_names(val))
            masked = mask_people(val)
        elif key in k.ids:
            masked = mask_id_number(val) if val else val
        elif key in k.phones:
            masked = mask_phone(val) if val else val
        else:
            return m.group()
        start, end = m.start("value") - m.start(), m.end("value") - m.start()
        return m.group()[:start] + masked + m.group()[end:]
    text = _PAIR.sub(pair, text)
    return mask_text(text, names)
