"""Fires the ``records_changed`` extension hook (lowcode.hooks) for kind "clue" when a clue is
saved one by one (assign, convert, close, admin edits). Ingest writes in bulk and fires
``records_ingested`` once per chunk itself (``clues.ingest.Run``); ``ingested_ids`` turns that
event's record keys into the clue or case ids its subscribers work on."""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from clues.models import Clue
from lowcode import hooks


@receiver(post_save, sender=Clue)
def clue_saved(sender, instance, **kwargs):
    hooks.fire("records_changed", kind="clue", ids=[instance.pk])


@receiver(post_delete, sender=Clue)
def clue_deleted(sender, instance, **kwargs):
    hooks.fire("records_deleted", kind="clue", ids=[instance.pk])


def ingested_ids(kind: str, record_keys) -> tuple[str, list[int]]:
    """("clue" | "case", primary keys) of what an ingest chunk wrote (kind "event"/"clue" → clues,
    "case" → the aggregated cases); one query."""
    from clues.models import RawRecord

    keys = list(record_keys)
    if kind == "case":
        return "case", list(RawRecord.objects.filter(record_key__in=keys, case__isnull=False)
                            .values_list("case_id", flat=True))
    return "clue", list(Clue.objects.filter(record_key__in=keys).values_list("id", flat=True))
