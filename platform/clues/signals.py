"""Fires the ``records_changed`` extension hook (lowcode.hooks) for kind "clue" when a clue is
saved one by one (assign, convert, close, admin edits). Ingest writes in bulk and fires the hook
once per chunk itself (``clues.ingest.Run``)."""
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
