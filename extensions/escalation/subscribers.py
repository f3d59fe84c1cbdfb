"""Incremental re-evaluation on the engine's hooks (lowcode.hooks, run after commit):

- a case changed → its colour and the 预警名单 rows of its parties (old and new). Other cases
  only when something they read moved: when its person links moved (a party added, removed, or
  identified differently: other ID / phone), the other recent open cases of the people who gained
  or lost the case (their 当事人最多纠纷数); when its same-dispute facts moved (报告次数, 报警次数,
  调解失败次数 — it joined or left a dispute, or a mediation failed), the cases of that dispute and
  the recent open cases of its people; then the people of those cases whose colour changed. An
  edit that moves none of these (the usual save) touches this case and its own people only;
- a clue changed (assign, convert, close, admin edit) → the cases the duplicate model holds to be
  the same dispute (报告次数/报警次数 moved) and the people the clue names;
- a case deleted → people left without cases leave the list;
- an ingest chunk (``records_ingested``: up to 1,000 clues or cases written in bulk) → the same
  as above for all of them, as a *queued* subscriber (``lowcode.hooks``: one django-q2 task per
  chunk runs the queued subscribers in order — the duplicate model's check first, so 报告次数
  reads its fresh verdicts): the re-evaluation of a chunk costs more than the ingest's whole
  per-chunk budget (2,000 records/s ≈ 0.5 s per 1,000; figures in docs/architecture.md,
  escalation section). Inline under tests and with ``Q_CLUSTER`` sync. Without a worker the task
  waits; the daily job covers it.
The daily job (tasks.evaluate_daily) repairs anything a failed subscriber missed.

The metadata version is read once per call (``registry.pin_version_for_request``) instead of once
per dictionary lookup, and the warning configuration is loaded once per metadata version
(``current_config``) and shared by every step."""
from __future__ import annotations

from contextlib import contextmanager

from lowcode import hooks

RELATED_LIMIT = 50
_config_cache: tuple[str, object] | None = None


def current_config():
    """The warning configuration, loaded once per metadata version (a save of a warning level,
    rule, keyword or setting bumps it; ``lowcode.signals``), not once per hook call."""
    global _config_cache
    from extensions.escalation import config as config_mod
    from lowcode.registry import current_version

    version = current_version()
    if not version or _config_cache is None or _config_cache[0] != version:
        _config_cache = (version, config_mod.load())
    return _config_cache[1]


def install() -> None:
    hooks.subscribe("records_changed", records_changed)
    hooks.subscribe("records_deleted", records_deleted)
    hooks.subscribe("records_ingested", records_ingested, queued=True)


@contextmanager
def pinned_metadata():
    """One metadata-version read for the whole call (as a request does), not one per lookup."""
    from lowcode import registry

    token = registry.pin_version_for_request()
    try:
        yield
    finally:
        registry.unpin_version(token)


def records_changed(kind: str, ids, **_):
    ids = [i for i in ids if i is not None]
    if not ids:
        return
    with pinned_metadata():
        _records_changed(kind, ids)


def _records_changed(kind: str, ids):
    from extensions.escalation import evaluate, party

    cfg = current_config()
    if kind == "case":
        report = evaluate.evaluate_cases(ids, cfg=cfg)
        persons = set(report.persons)
        related = related_open_cases(report.relinked | report.regrouped, exclude=ids, cfg=cfg)
        related += sorted(report.same_cases - set(ids) - set(related))
        if related:
            more = evaluate.evaluate_cases(related, cfg=cfg)
            persons |= more.recoloured | more.relinked
        party.evaluate_persons(persons, cfg=cfg)
    elif kind == "clue":
        case_ids = set()
        try:
            from extensions.dedup.api import same_records_many

            for refs in same_records_many("clue", ids, reasons=False).values():
                case_ids |= {r.pk for r in refs if r.kind == "case"}
        except ImportError:
            pass
        persons = party.keys_for_clue_parties(ids)
        if case_ids:
            persons |= evaluate.evaluate_cases(sorted(case_ids), cfg=cfg).persons
        party.evaluate_persons(persons, cfg=cfg)


def records_ingested(channel: str, kind: str, record_keys, **_):
    """Re-evaluate what an ingest chunk wrote (a queued subscriber, see the module docstring)."""
    from clues.signals import ingested_ids

    target, ids = ingested_ids(kind, record_keys)
    if ids:
        records_changed(kind=target, ids=ids)


def records_deleted(kind: str, ids, **_):
    from extensions.escalation import party

    if kind in ("case", "clue"):
        party.evaluate_persons(party.keys_without_cases())


def related_open_cases(person_keys, exclude, cfg) -> list[int]:
    """Open cases of these people registered within the longest case window, newest first."""
    import datetime as dt

    from django.utils import timezone

    from cases.states import closed_states
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
