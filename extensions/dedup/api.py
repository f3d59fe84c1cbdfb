"""Public read API of the duplicate-case model, for other extensions (escalation warnings) and
screens (H5 similar cases). Nothing here writes; nothing here applies row scope — callers that
show records to a user filter the refs by scope themselves (``visible_refs``).

    same_reports("case", 42, days=30)  → 2   (two other reports of the same dispute in 30 days)
    same_records("clue", 7)            → [RecordRef(...), ...]
    same_records_many("clue", [7, 8])  → {7: [RecordRef(...), ...], 8: []}
    similar_records("case", 42)        → [RecordRef(...), ...]
    with_verdicts("case", [42, 43])    → {42}  (the records the model holds anything about)

A pair counts while it is proposed or confirmed; a rejected pair never counts. Records merged
into one 一件事档案 count as "same" even without a direct pair between them.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone

from extensions.dedup.models import GroupMember, Pair, Signature


@dataclass(frozen=True)
class RecordRef:
    kind: str              # "case" | "clue"
    pk: int                # cases.Case / clues.Clue primary key
    key: str               # "<source key>:<id>"
    channel: str           # source key (hotline12345, local, …)
    reported_at: dt.datetime | None
    verdict: str           # "same" | "similar"
    score: float           # 0..1
    confirmed: bool        # staff confirmed the verdict (or merged into one file)
    reasons: tuple = ()    # human-readable reasons (Chinese)
    region_path: str = ""
    title: str = ""
    pair_id: int | None = None  # the Pair row (None for a 一件事档案 member without a direct pair)


def key_of(kind: str, pk: int) -> str | None:
    """Record key of a case / clue (from its signature, else from the record itself)."""
    return keys_of(kind, [pk]).get(pk)


def keys_of(kind: str, pks) -> dict[int, str]:
    """Record keys of many cases / clues (two queries at most)."""
    if kind not in ("case", "clue"):
        raise ValueError(f"unknown kind {kind!r}")
    pks = list(pks)
    out = dict(Signature.objects.filter(kind=kind, obj_id__in=pks).values_list("obj_id", "key"))
    missing = [pk for pk in pks if pk not in out]
    if missing and kind == "case":
        from cases.models import Case

        out.update({pk: f"{src}:{eid}" for pk, src, eid in
                    Case.objects.filter(pk__in=missing).values_list("pk", "source", "exchange_id")})
    elif missing:
        from clues.models import Clue

        out.update(Clue.objects.filter(pk__in=missing).values_list("pk", "record_key"))
    return out


def _refs_many(keys: list[str], verdict: str, reasons: bool = True) -> dict[str, list[RecordRef]]:
    """For each key, the records held ``verdict`` with it — a fixed handful of queries for all.
    ``reasons=False``: without the reasons (counting callers; decoding them is most of the cost)."""
    keys = list(dict.fromkeys(keys))
    if not keys:
        return {}
    wanted = set(keys)
    # rows, not model instances: an ingest chunk's re-check reads ~100,000 pairs here
    pairs = (Pair.objects.filter(Q(a_key__in=keys) | Q(b_key__in=keys), verdict=verdict).exclude(status="rejected")
             .values_list("pk", "a_key", "b_key", "score", "status", "reasons" if reasons else "pk"))
    found: dict[str, dict[str, tuple[float, bool, tuple]]] = {k: {} for k in keys}
    pair_ids: dict[str, dict[str, int]] = {k: {} for k in keys}
    for pk, a, b, score, status, why in pairs:
        for own in {a, b} & wanted:
            other = b if own == a else a
            found[own][other] = (score, status == "confirmed", tuple(why) if reasons else ())
            pair_ids[own][other] = pk
    excluded: dict[str, set] = {k: set() for k in keys}
    if verdict == "same":
        # a 一件事档案 is confirmed "same" as a whole
        group_of = dict(GroupMember.objects.filter(key__in=keys).values_list("key", "group_id"))
        members: dict[int, list[str]] = {}
        for key, group in GroupMember.objects.filter(group_id__in=set(group_of.values())).values_list("key", "group_id"):
            members.setdefault(group, []).append(key)
        for own, group in group_of.items():
            for other in members.get(group, []):
                if other != own:
                    score, _, reasons = found[own].get(other, (1.0, True, ("已并入同一件事档案",)))
                    found[own][other] = (score, True, reasons)
    else:
        # a record held "same" is never also listed as merely similar
        for a, b in (Pair.objects.filter(Q(a_key__in=keys) | Q(b_key__in=keys), verdict="same")
                     .exclude(status="rejected").values_list("a_key", "b_key")):
            for own in {a, b} & wanted:
                excluded[own].add(b if own == a else a)
    others = {o for per in found.values() for o in per}
    sigs = {s.key: s for s in Signature.objects.filter(key__in=list(others)).only(
        "key", "kind", "obj_id", "channel", "reported_at", "region_path", "title")}
    out: dict[str, list[RecordRef]] = {}
    for own in keys:
        refs = []
        for other, (score, confirmed, reasons) in found[own].items():
            s = sigs.get(other)
            if s is None or other in excluded[own]:
                continue  # the record is gone (deleted) — nothing to show or count
            refs.append(RecordRef(kind=s.kind, pk=s.obj_id, key=other, channel=s.channel,
                                  reported_at=s.reported_at, verdict=verdict, score=round(score, 3),
                                  confirmed=confirmed, reasons=reasons, region_path=s.region_path,
                                  title=s.title, pair_id=pair_ids[own].get(other)))
        refs.sort(key=lambda r: (not r.confirmed, -r.score, r.key))
        out[own] = refs
    return out


def with_verdicts(kind: str, pks) -> set[int]:
    """The records among ``pks`` the model holds anything about (a pair in any state, or a 一件事
    档案) — a few bulk queries for a whole chunk, so a caller asks ``same_records`` only where it
    can answer."""
    pk_of = {key: pk for pk, key in keys_of(kind, pks).items()}
    keys = list(pk_of)
    found = set(Pair.objects.filter(a_key__in=keys).values_list("a_key", flat=True))
    found |= set(Pair.objects.filter(b_key__in=keys).values_list("b_key", flat=True))
    found |= set(GroupMember.objects.filter(key__in=keys).values_list("key", flat=True))
    return {pk_of[k] for k in found if k in pk_of}


def same_records(kind: str, pk: int) -> list[RecordRef]:
    """Other records (cases and clues, any channel) held to be the same dispute, best first."""
    return same_records_many(kind, [pk]).get(pk, [])


def same_records_many(kind: str, pks, reasons: bool = True) -> dict[int, list[RecordRef]]:
    """``same_records`` of many cases / clues at once (an ingest chunk: a few queries in all);
    ``reasons=False`` leaves ``RecordRef.reasons`` empty (for callers that count)."""
    keys = keys_of(kind, pks)
    refs = _refs_many(list(keys.values()), "same", reasons)
    return {pk: refs.get(key, []) for pk, key in keys.items()}


def similar_records(kind: str, pk: int) -> list[RecordRef]:
    """Other records held similar: 同人不同案 (shared party) or 同案不同人 (same matter and place)."""
    key = key_of(kind, pk)
    return _refs_many([key], "similar").get(key, []) if key else []


def same_reports(kind: str, pk: int, days: int | None = None) -> int:
    """Number of OTHER records held "same" (not rejected) whose report time lies within the last
    ``days`` days (all when None)."""
    refs = same_records(kind, pk)
    if days is None:
        return len(refs)
    since = timezone.now() - dt.timedelta(days=days)
    return sum(1 for r in refs if r.reported_at is not None and r.reported_at >= since)


def visible_refs(user, refs: list[RecordRef]) -> list[RecordRef]:
    """Only the refs the user may see — through the same scoped querysets as the case and clue
    screens (accounts.scope / clues.actions.scoped_clues)."""
    from accounts.scope import scope_queryset
    from cases.models import Case
    from clues.actions import scoped_clues
    from clues.models import Clue

    case_ids = [r.pk for r in refs if r.kind == "case"]
    clue_ids = [r.pk for r in refs if r.kind == "clue"]
    ok = set()
    if case_ids:
        ok |= {("case", pk) for pk in scope_queryset(user, Case.objects.filter(pk__in=case_ids)).values_list("pk", flat=True)}
    if clue_ids:
        ok |= {("clue", pk) for pk in scoped_clues(user, Clue.objects.filter(pk__in=clue_ids)).values_list("pk", flat=True)}
    return [r for r in refs if (r.kind, r.pk) in ok]


GROUP_REASON = "同案不同人"


def group_sizes(kind: str, pks) -> dict[int, int]:
    """For each case / clue, the number of disputes in its 同案不同人 group (itself included):
    the records held 同案不同人 with it or with another report of its dispute, reports of one
    dispute ("same") counted once — a wage group filed worker by worker counts its workers.
    Records without such a group are left out. A fixed handful of queries for all ``pks``."""
    keys = keys_of(kind, pks)
    own = list(keys.values())
    if not own:
        return {}

    def pairs(verdict: str, among: list[str], both: bool = False):
        q = Q(a_key__in=among, b_key__in=among) if both else Q(a_key__in=among) | Q(b_key__in=among)
        qs = Pair.objects.filter(q, verdict=verdict).exclude(status="rejected")
        if verdict == "similar":  # only 同案不同人: picked in the database (decoding every pair's reasons cost seconds)
            qs = qs.filter(reasons__0=GROUP_REASON)
        return qs.values_list("a_key", "b_key")

    # the other reports of each record's own dispute
    dispute: dict[str, set[str]] = {k: {k} for k in own}
    wanted = set(own)
    for a, b in pairs("same", own):
        for k in {a, b} & wanted:
            dispute[k].add(b if k == a else a)
    reports = sorted({r for rs in dispute.values() for r in rs})
    partners: dict[str, set[str]] = {}
    for a, b in pairs("similar", reports):
        partners.setdefault(a, set()).add(b)
        partners.setdefault(b, set()).add(a)
    members = {k: set(rs) | {p for r in rs for p in partners.get(r, ())} for k, rs in dispute.items()}
    if not any(len(m) > len(dispute[k]) for k, m in members.items()):
        return {}
    # reports of one dispute among the members count once (union-find over "same")
    everyone = sorted({m for ms in members.values() for m in ms})
    parent = {k: k for k in everyone}

    def root(k: str) -> str:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for i in range(0, len(everyone), 1000):
        part = everyone[i:i + 1000]
        for a, b in pairs("same", part):
            if a in parent and b in parent:
                parent[root(a)] = root(b)
    out = {}
    for pk, key in keys.items():
        m = members.get(key, set())
        if len(m) > len(dispute.get(key, ())):
            out[pk] = len({root(x) for x in m})
    return out
