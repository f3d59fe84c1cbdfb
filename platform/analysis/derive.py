"""Values derived at save time, so the analysis never decrypts anything:

- a party's birth year and sex from the ID number being saved (the plaintext is in memory only
  while it is written; the columns hold no identifying detail);
- a case's coordinates from the unified address library (``addresses.matching``), falling back
  to the centre of its region (or the nearest ancestor with one)."""
from __future__ import annotations

import datetime as dt
import re

from django.utils import timezone

ID18 = re.compile(r"^\d{17}[\dXx]$")
ID15 = re.compile(r"^\d{15}$")
# age bands (lower bound, label): the 高发人群 chart's categories, in order
AGE_BANDS = [(0, "18岁以下"), (18, "18-29岁"), (30, "30-44岁"), (45, "45-59岁"), (60, "60岁及以上")]
SEX_LABELS = {"M": "男", "F": "女", "": "未知", "-": "未知"}


def demographics(id_number: str) -> tuple[int | None, str]:
    """(birth year, sex 'M'/'F') from a resident ID number; (None, '') for anything else."""
    text = (id_number or "").strip()
    if ID18.match(text):
        year, sex_digit = int(text[6:10]), int(text[16])
    elif ID15.match(text):
        year, sex_digit = 1900 + int(text[6:8]), int(text[14])
    else:
        return None, ""
    try:
        dt.date(year, int(text[10:12] if len(text) == 18 else text[8:10]),
                int(text[12:14] if len(text) == 18 else text[10:12]))
    except ValueError:
        return None, ""
    if not 1900 <= year <= timezone.now().year:
        return None, ""
    return year, "M" if sex_digit % 2 else "F"


def age_band(birth_year: int | None, at_year: int) -> str:
    if birth_year is None:
        return ""
    age = at_year - birth_year
    label = ""
    for lower, name in AGE_BANDS:
        if age >= lower:
            label = name
    return label


def fill_party(party) -> None:
    """Set birth_year and sex from the party's ID number (organisations: none)."""
    if party.party_kind != "person":
        party.birth_year, party.sex = None, ""
        return
    party.birth_year, party.sex = demographics(party.id_number)


def region_centre(region) -> tuple[float, float] | None:
    node = region
    while node is not None:
        if node.lng is not None and node.lat is not None:
            return node.lng, node.lat
        node = node.parent
    return None


def fill_coordinates(case) -> None:
    """Coordinates of the dispute's place: the standard address it matches (exact / building /
    road), else its region's centre; unchanged when the address and region did not change."""
    from addresses.matching import match

    point, source = None, ""
    if case.address:
        try:
            m = match(case.address, hint=case.region.name if case.region_id else None)
        except Exception:  # noqa: BLE001 — an address library problem never blocks a save
            m = None
        std = (m.standard or m.nearest) if m is not None and m.matched else None
        if std is not None and std.longitude is not None and std.latitude is not None:
            point, source = (float(std.longitude), float(std.latitude)), "address"
    if point is None and case.region_id:
        point = region_centre(case.region)
        source = "region" if point else ""
    case.lng, case.lat = point if point else (None, None)
    case.geo_source = source


GEO_SOURCE_LABELS = {"address": "标准地址", "region": "区域中心", "": "无坐标", "none": "无坐标"}
