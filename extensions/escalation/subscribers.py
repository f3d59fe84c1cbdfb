"""Incremental re-evaluation on the engine's hooks (lowcode.hooks, run after commit):

- a case changed → its colour; the other recent open cases of its parties (their 重复当事人 fact
  moved); the 预警名单 rows of its parties;
- a clue changed (ingest chunk, assign, convert) → the cases the duplicate model holds to be the
  same dispute (报告次数/报警次数 moved) and the people the clue names;
- a case deleted → people left without cases leave the list.
The daily job (tasks.evaluate_daily) repairs anything a failed subscriber missed."""
from __future__ import annotations

from lowcode import hooks

RELATED_LIMIT = 50


def install() -> None:
    hooks.subscribe("records_changed", records_changed)
    hooks.subscribe("records_deleted", records_deleted)


def records_changed(kind: str, ids, **_):
    from extensions.escalation import config as config_mod
    from extensions.escalation import evaluate, party

    ids = [i for i in ids if i is not None]
    if not ids:
        return
    cfg = config_mod.load()
    if kind == "case":
        report = evaluate.evaluate_cases(ids, cfg=cfg)
        related = related_open_cases(report.persons, exclude=ids, cfg=cfg)
        if related:
            evaluate.evaluate_cases(related, cfg=cfg, report=report)
        party.evaluate_persons(report.persons, cfg=cfg)
    elif kind == "clue":
        case_ids = set()
        try:
            from extensions.dedup.api import same_records

            for pk in ids:
                case_ids |= {r.pk for r in same_records("clue", pk) if r.kind == "case"}
        except ImportError:
            pass
        persons = party.keys_for_clue_parties(ids)
        if case_ids:
            persons |= evaluate.evaluate_cases(sorted(case_ids), cfg=cfg).persons
        party.evaluate_persons(persons, cfg=cfg)


def records_deleted(kind: str, ids, **_):
    from extensions.escalation import party

    if kind in ("case", "clue"):
        party.evaluate_persons(party.keys_without_cases())


def related_open_cases(person_keys, exclude, cfg) -> list[int]:
    """Open cases of these people registered within the longest case window, newest first."""
    import datetime as dt

    from django.utils import timezone

    from cases.workbench import closed_states
    from extensions.escalation.models import PersonCase

    if not person_keys:
        return []
    since = timezone.now() - dt.timedelta(days=max(cfg.windows("case")))
    rows = (PersonCase.objects.filter(person_key__in=list(person_keys), case__registered_at__gte=since)
            .exclude(case__in=list(exclude)).exclude(case__status__in=closed_states())
            .order_by("-case__registered_at").values_list("case_id", flat=True)[:RELATED_LIMIT * 4])
    return list(dict.fromkeys(rows))[:RELATED_LIMIT]


def key_person_changed(person) -> None:
    """A 重点人 registered, edited or released: the cases and people it matches change colour."""
    from extensions.escalation import evaluate, party
    from extensions.escalation.models import PersonCase

    keys = {f"id:{person.id_number_bidx}"} if person.id_number_bidx else set()
    if person.phone_bidx:
        keys.add(f"phone:{person.phone_bidx}")
    rows = PersonCase.objects.filter(person_key__in=list(keys)) | PersonCase.objects.filter(
        phone_bidx=person.phone_bidx or "-")
    case_ids = sorted(set(rows.values_list("case_id", flat=True)))
    report = evaluate.evaluate_cases(case_ids)
    party.evaluate_persons(report.persons | keys)
