"""Public read API of the duplicate-case model, for other extensions (escalation warnings) and
screens (H5 similar cases). Nothing here writes; nothing here applies row scope — callers that
show records to a user filter the refs by scope themselves (``visible_refs``).

    same_reports("case", 42, days=30)  → 2   (two other reports of the same dispute in 30 days)
    same_records("clue", 7)            → [RecordRef(...), ...]
    similar_records("case", 42)        → [RecordRef(...), ...]

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
    key = Signature.objects.filter(kind=kind, obj_id=pk).values_list("key", flat=True).first()
    if key:
        return key
    if kind == "case":
        from cases.models import Case

        row = Case.objects.filter(pk=pk).values_list("source", "exchange_id").first()
        return f"{row[0]}:{row[1]}" if row else None
    if kind == "clue":
        from clues.models import Clue

        return Clue.objects.filter(pk=pk).values_list("record_key", flat=True).first()
    raise ValueError(f"unknown kind {kind!r}")


def _refs(key: str, verdict: str) -> list[RecordRef]:
    pairs = list(Pair.objects.filter(Q(a_key=key) | Q(b_key=key), verdict=verdict)
                 .exclude(status="rejected"))
    found: dict[str, tuple[float, bool, tuple]] = {
        p.other(key): (p.score, p.status == "confirmed", tuple(p.reasons)) for p in pairs}
    pair_ids = {p.other(key): p.pk for p in pairs}
    rejected = set()
    if verdict == "same":
        # a 一件事档案 is confirmed "same" as a whole
        group = GroupMember.objects.filter(key=key).values_list("group_id", flat=True).first()
        if group is not None:
            for other in GroupMember.objects.filter(group_id=group).exclude(key=key).values_list("key", flat=True):
                score, _, reasons = found.get(other, (1.0, True, ("已并入同一件事档案",)))
                found[other] = (score, True, reasons)
    else:
        # a record held "same" is never also listed as merely similar
        same = {p.other(key) for p in Pair.objects.filter(Q(a_key=key) | Q(b_key=key), verdict="same")
                .exclude(status="rejected")}
        rejected = same
    sigs = {s.key: s for s in Signature.objects.filter(key__in=list(found))}
    out = []
    for other, (score, confirmed, reasons) in found.items():
        s = sigs.get(other)
        if s is None or other in rejected:
            continue  # the record is gone (deleted) — nothing to show or count
        out.append(RecordRef(kind=s.kind, pk=s.obj_id, key=other, channel=s.channel,
                             reported_at=s.reported_at, verdict=verdict, score=round(score, 3),
                             confirmed=confirmed, reasons=reasons, region_path=s.region_path,
                             title=s.title, pair_id=pair_ids.get(other)))
    out.sort(key=lambda r: (not r.confirmed, -r.score, r.key))
    return out


def same_records(kind: str, pk: int) -> list[RecordRef]:
    """Other records (cases and clues, any channel) held to be the same dispute, best first."""
    key = key_of(kind, pk)
    return _refs(key, "same") if key else []


def similar_records(kind: str, pk: int) -> list[RecordRef]:
    """Other records held similar: 同人不同案 (shared party) or 同案不同人 (same matter and place)."""
    key = key_of(kind, pk)
    return _refs(key, "similar") if key else []


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
