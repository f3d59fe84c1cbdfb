"""Synthetic people, numbers, addresses and dispute texts for demos, tests and benchmarks.
Deterministic for a given random.Random; nothing here is real personal data."""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings

from lowcode.fieldtypes import ID_CHECK, ID_WEIGHTS

FIXTURES = Path(settings.BASE_DIR) / "fixtures" / "demo"


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    return yaml.safe_load((FIXTURES / name).read_text(encoding="utf-8"))


def id_number(rng: random.Random, birth_from=1950, birth_to=2004) -> str:
    """A synthetic 18-digit ID number with a valid GB 11643 check digit."""
    prefix = rng.choice(load("people.yaml")["id_prefixes"])
    birth = dt.date(rng.randint(birth_from, birth_to), 1, 1) + dt.timedelta(days=rng.randint(0, 364))
    body = f"{prefix}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    return body + ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]


def phone(rng: random.Random) -> str:
    return rng.choice(load("people.yaml")["phone_prefixes"]) + f"{rng.randint(0, 99999999):08d}"


def person_name(rng: random.Random) -> str:
    p = load("people.yaml")
    return rng.choice(p["surnames"]) + rng.choice(p["given"])


def company(rng: random.Random) -> str:
    return rng.choice(load("people.yaml")["companies"])


def address(rng: random.Random, place: str) -> str:
    road = rng.choice(load("regions.yaml")["roads"])
    return f"{place}{road}{rng.randint(1, 300)}号{rng.randint(1, 30)}幢{rng.randint(1, 4)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"


@dataclass
class CaseDraft:
    title: str
    description: str
    case_type: str
    parties: list[dict]
    party_count: int
    extra: dict


def case_draft(rng: random.Random, case_type: str, place: str) -> CaseDraft:
    templates = load("cases.yaml")["templates"]
    a, b_person = person_name(rng), person_name(rng)
    company_respondent = case_type.startswith("labor") or case_type in ("property_mgmt", "consumer", "medical", "environment")
    b = company(rng) if company_respondent else b_person
    n = rng.choice([1, 1, 2, 3, 5, 8, 12, 20]) if case_type.startswith("labor") else rng.randint(1, 3)
    m = round(rng.uniform(0.2, 60), 1)
    text = rng.choice(templates.get(case_type) or templates["other"]).format(
        a=a, b=b, addr=place, n=n, m=m)
    title = text.split("，")[0][:40]
    parties = [
        {"role": "applicant", "party_kind": "person", "name": a, "id_number": id_number(rng),
         "phone": phone(rng), "address": address(rng, place)},
        {"role": "respondent", "party_kind": "company" if company_respondent else "person", "name": b,
         "id_number": "" if company_respondent else id_number(rng),
         "phone": phone(rng) if rng.random() < 0.8 else "", "address": ""},
    ]
    extra: dict = {}
    if n >= 10:
        extra["group_dispute"] = True
    if case_type.startswith("labor") and (n >= 10 or rng.random() < 0.5):
        extra["employer_name"] = b
    if case_type == "labor_wage" and rng.random() < 0.7:
        extra["arrears_months"] = rng.randint(1, 12)
    return CaseDraft(title, text, case_type, parties, max(n, len(parties)), extra)
