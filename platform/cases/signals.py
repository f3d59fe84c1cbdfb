"""Fires the ``records_changed`` extension hook (lowcode.hooks) for kind "case" whenever a case
or anything that describes it (parties, logs, results, reviews, help requests, visits) is saved
or deleted — through any path: admin, H5, actions, Excel import. Bulk writes (ingest) fire the
hook themselves."""
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from cases.models import Case, HelpRequest, MediationLog, MediationResult, Party, Review, Visit
from lowcode import hooks

CASE_CHILDREN = (Party, MediationLog, MediationResult, Review, HelpRequest, Visit)


@receiver(post_save, sender=Case)
def case_saved(sender, instance, **kwargs):
    hooks.fire("records_changed", kind="case", ids=[instance.pk])


@receiver(post_delete, sender=Case)
def case_deleted(sender, instance, **kwargs):
    hooks.fire("records_deleted", kind="case", ids=[instance.pk])


def child_changed(sender, instance, **kwargs):
    if instance.case_id:
        hooks.fire("records_changed", kind="case", ids=[instance.case_id])


for _model in CASE_CHILDREN:
    post_save.connect(child_changed, sender=_model, dispatch_uid=f"hook-{_model.__name__}-save")
    post_delete.connect(child_changed, sender=_model, dispatch_uid=f"hook-{_model.__name__}-delete")
