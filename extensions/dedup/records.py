"""Cases and clues → plain record dicts for ``features.build`` (bulk reads, a few queries per
chunk whatever its size). Phones are read decrypted only to keep their masked form (first three
and last four digits); IDs and phones are compared by blind index."""
from __future__ import annotations

from collections import defaultdict
from typing import Iterable, Iterator


def _case_party(p: dict) -> dict:
    extra = p["extra"] or {}
    known = extra.get("name_known", True)
    return {"name": p["name"] if known else "", "known": known, "surname": extra.get("surname", ""),
            "id_bidx": p["id_number_bidx"], "phone_bidx": p["phone_bidx"],
            "phone": p["phone"] or extra.get("phone_masked", "")}


def case_records(ids: Iterable[int]) -> list[dict]:
    from cases.models import Case, Party

    ids = list(ids)
    if not ids:
        return []
    parties = defaultdict(list)
    for p in Party.objects.filter(case_id__in=ids).order_by("id").values(
            "case_id", "name", "id_number_bidx", "phone_bidx", "phone", "extra"):
        parties[p["case_id"]].append(_case_party(p))
    out = []
    for c in Case.objects.filter(pk__in=ids).values(
            "id", "source", "exchange_id", "region_path", "case_type", "registered_at", "title",
            "description", "address", "extra"):
        agg = (c["extra"] or {}).get("aggregation") or {}
        out.append({"key": f"{c['source']}:{c['exchange_id']}", "kind": "case", "obj_id": c["id"],
                    "channel": c["source"], "region_path": c["region_path"], "case_type": c["case_type"],
                    "reported_at": c["registered_at"], "title": c["title"], "text": c["description"],
                    "address": c["address"], "address_id": agg.get("address_standard_id"),
                    "parties": parties.get(c["id"], [])})
    return out


def clue_records(ids: Iterable[int]) -> list[dict]:
    from clues.models import Clue, ClueParty

    ids = list(ids)
    if not ids:
        return []
    parties = defaultdict(list)
    for p in ClueParty.objects.filter(clue_id__in=ids).order_by("id").values(
            "clue_id", "name", "name_known", "id_number_bidx", "phone_bidx", "phone", "phone_masked"):
        name = p["name"] or ""
        parties[p["clue_id"]].append({
            "name": name if p["name_known"] else "", "known": p["name_known"],
            "surname": name[:-2] if name.endswith("某某") else "",
            "id_bidx": p["id_number_bidx"], "phone_bidx": p["phone_bidx"],
            "phone": p["phone"] or p["phone_masked"]})
    out = []
    for c in Clue.objects.filter(pk__in=ids).values(
            "id", "record_key", "channel_id", "region_path", "type_code", "occurred_at", "created_at",
            "title", "text", "address", "address_standard_id", "extra"):
        out.append({"key": c["record_key"], "kind": "clue", "obj_id": c["id"], "channel": c["channel_id"],
                    "region_path": c["region_path"], "case_type": c["type_code"],
                    "reported_at": c["occurred_at"] or c["created_at"], "title": c["title"], "text": c["text"],
                    "address": c["address"],
                    "address_id": c["address_standard_id"] or (c["extra"] or {}).get("address_standard_id"),
                    "parties": parties.get(c["id"], [])})
    return out


def records(kind: str, ids: Iterable[int]) -> list[dict]:
    return case_records(ids) if kind == "case" else clue_records(ids)


def all_ids(kind: str, chunk: int = 2000) -> Iterator[list[int]]:
    """Every case / clue id, in chunks (keyset pagination: constant memory)."""
    from cases.models import Case
    from clues.models import Clue

    model = Case if kind == "case" else Clue
    last = 0
    while True:
        ids = list(model.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:chunk])
        if not ids:
            return
        yield ids
        last = ids[-1]
