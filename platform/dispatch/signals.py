"""Keeps each third-party user's case grants in step with their organisation, and completes orders
when their case reaches a closed state (the result passed review).

Completion listens to two things: the ``records_changed`` hook (saves of a case or its children)
and the case trace — ``cases.actions.do_transition`` moves the status with a compare-and-set
``update()`` (no model signal) but always writes a ``CaseEvent`` with the new state."""
from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from cases.models import CaseEvent
from lowcode import hooks


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="dispatch-grant-membership")
def user_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and "organization" not in update_fields):
        return  # e.g. the last_login update on every login
    from dispatch.grants import sync_member

    sync_member(instance)


def _complete_after_commit(case_ids) -> None:
    from dispatch.actions import sync_completion

    ids = list(case_ids)
    transaction.on_commit(lambda: sync_completion(ids))


@receiver(post_save, sender=CaseEvent, dispatch_uid="dispatch-completion-on-transition")
def case_moved(sender, instance, created=False, raw=False, **kwargs):
    if created and not raw and instance.to_state:
        _complete_after_commit([instance.case_id])
        case_id, state = instance.case_id, instance.to_state
        transaction.on_commit(lambda: _review_requested(case_id, state))


def _review_requested(case_id: int, state: str) -> None:
    from dispatch.actions import notify_awarding_staff

    notify_awarding_staff(case_id, state)


def case_changed(kind: str, ids, **_):
    if kind == "case":
        from dispatch.actions import sync_completion

        sync_completion(ids)


def cases_ingested(kind: str = "", case_ids=(), **_):
    """An ingest chunk's aggregated cases (new or updated by their channel): the same completion
    check as a save (ingest mutes the per-row signals and announces the chunk once)."""
    if kind == "case" and case_ids:
        from dispatch.actions import sync_completion

        sync_completion(case_ids)


hooks.subscribe("records_changed", case_changed)
hooks.subscribe("records_ingested", cases_ingested)
