"""Masking the parties' identities in an order's public text: names become 王某 (surname + 某),
ID numbers and phone numbers are masked as on every screen (``secure.masking``)."""
from __future__ import annotations

import re

from secure.masking import mask_id_number, mask_phone

ID_RE = re.compile(r"(?<![0-9])[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9])")
PHONE_RE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
LANDLINE_RE = re.compile(r"(?<![0-9])0\d{2,3}-?\d{7,8}(?![0-9])")
# compound surnames, so 欧阳娜 becomes 欧阳某 rather than 欧某
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "夏侯", "长孙")


def pseudonym(name: str) -> str:
    name = (name or "").strip()
    if not name:
        return ""
    if len(name) > 4:  # an organisation as a party: keep no identifying part
        return "某单位"
    surname = name[:2] if name[:2] in COMPOUND_SURNAMES else name[:1]
    return surname + "某"


def mask_text(text: str, names=()) -> str:
    out = text or ""
    # longest first, so 张三丰 is not half-replaced by 张三
    for name in sorted({n.strip() for n in names if n and n.strip()}, key=len, reverse=True):
        out = out.replace(name, pseudonym(name))
    out = ID_RE.sub(lambda m: mask_id_number(m.group(0)), out)
    out = PHONE_RE.sub(lambda m: mask_phone(m.group(0)), out)
    return LANDLINE_RE.sub(lambda m: mask_phone(m.group(0)), out)


def masked_case_text(case) -> tuple[str, str]:
    """The order's title and description from the case, with every party's identity masked."""
    parties = list(case.parties.all())
    names = [p.name for p in parties]
    secrets = [v for p in parties for v in (p.id_number, p.phone) if v]
    title, desc = mask_text(case.title, names), mask_text(case.description, names)
    for value in secrets:  # numbers written in odd formats the patterns miss
        title, desc = title.replace(value, "***"), desc.replace(value, "***")
    return title[:200], desc
