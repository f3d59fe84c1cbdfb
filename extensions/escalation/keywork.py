"""重点人 走访 and 待核查线索 (issue #15).

A clue whose people include a key person (the 重点人 register, by ID-number or phone blind index)
or a party on the 预警名单 (``PartyWarning``, by person key) becomes a ``VerificationTask`` in the
clue's region: assigned to someone, verified with a result, closed. Tasks are made by the hooks
(a clue saved, an ingest chunk of clues) and by ``sync_tasks`` (command ``keywork_tasks``); a clue
makes at most one task per person."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from extensions.escalation.models import KeyPerson, PartyWarning, VerificationTask


class Refused(Exception):
    """A refusal in Chinese."""


def sync_tasks(clue_ids) -> int:
    """Create the missing tasks of these clues; returns how many were created."""
    from clues.models import Clue, ClueParty

    clue_ids = list(clue_ids)
    if not clue_ids:
        return 0
    parties = list(ClueParty.objects.filter(clue_id__in=clue_ids).only("clue_id", "name", "id_number_bidx",
                                                                        "phone_bidx"))
    ids = {p.id_number_bidx for p in parties if p.id_number_bidx}
    phones = {p.phone_bidx for p in parties if p.phone_bidx}
    if not ids and not phones:
        return 0
    people = list(KeyPerson.objects.filter(active=True).filter(
        models_q(id_number_bidx__in=ids) | models_q(phone_bidx__in=phones)))
    keys = [f"id:{b}" for b in ids] + [f"phone:{b}" for b in phones]
    warned = {w.person_key: w for w in PartyWarning.objects.filter(person_key__in=keys).exclude(level="")}
    clues = {c.pk: c for c in Clue.objects.filter(pk__in=clue_ids).select_related("region")}
    wanted = []
    for p in parties:
        clue = clues.get(p.clue_id)
        if clue is None:
            continue
        for person in people:
            if (p.id_number_bidx and p.id_number_bidx == person.id_number_bidx) or \
                    (p.phone_bidx and p.phone_bidx == person.phone_bidx):
                wanted.append(VerificationTask(clue=clue, person=person, person_name=person.name,
                                               reason=f"涉及重点人员（{person.reason}）"[:200],
                                               region=clue.region, region_path=clue.region_path or ""))
        for key in (f"id:{p.id_number_bidx}" if p.id_number_bidx else "", f"phone:{p.phone_bidx}" if p.phone_bidx else ""):
            if key and key in warned:
                w = warned[key]
                wanted.append(VerificationTask(clue=clue, person_key=key, person_name=w.name or p.name,
                                               reason="涉及预警当事人", region=clue.region,
                                               region_path=clue.region_path or ""))
                break
    existing = set(VerificationTask.objects.filter(clue_id__in=clue_ids).values_list("clue_id", "person_name", "person_key"))
    new, seen = [], set()
    for t in wanted:
        key = (t.clue_id, t.person_name, t.person_key)
        if key not in existing and key not in seen:
            seen.add(key)
            new.append(t)
    VerificationTask.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def models_q(**kwargs):
    from django.db.models import Q

    return Q(**kwargs)


def on_changed(kind: str, ids, **_):
    if kind == "clue":
        sync_tasks(ids)


def on_ingested(kind: str = "", record_keys=(), **_):
    from clues.signals import ingested_ids

    which, ids = ingested_ids(kind, record_keys)
    if which == "clue":
        sync_tasks(ids)


def connect() -> None:
    from lowcode import hooks

    hooks.subscribe("records_changed", on_changed)
    hooks.subscribe("records_ingested", on_ingested, queued=True)


# --- actions: assign, verify, close (one transaction each, compare-and-set on the state) ------------
def assign(task: VerificationTask, user, assignee) -> VerificationTask:
    if assignee is None:
        raise ValidationError({"assignee": "请选择核查人"})
    with transaction.atomic():
        if not VerificationTask.objects.filter(pk=task.pk, state__in=("open", "assigned")).update(
                state="assigned", assignee=assignee):
            raise Refused("该线索已核查或已关闭，不能再指派")
    task.refresh_from_db()
    return task


def verify(task: VerificationTask, user, result: str) -> VerificationTask:
    result = (result or "").strip()
    if not result:
        raise ValidationError({"result": "请填写核查结果"})
    if len(result) > 2000:
        raise ValidationError({"result": "核查结果不能超过 2000 字"})
    with transaction.atomic():
        if not VerificationTask.objects.filter(pk=task.pk, state__in=("open", "assigned")).update(
                state="verified", result=result, verified_by=user, verified_at=timezone.now()):
            raise Refused("该线索已核查或已关闭")
    task.refresh_from_db()
    return task


def close(task: VerificationTask, user) -> VerificationTask:
    with transaction.atomic():
        if not VerificationTask.objects.filter(pk=task.pk, state="verified").update(state="closed",
                                                                                   closed_at=timezone.now()):
            raise Refused("只有已核查的线索才能关闭")
    task.refresh_from_db()
    return task
