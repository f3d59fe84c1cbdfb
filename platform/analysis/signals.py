"""Save-time derivation and rollup upkeep (see analysis.rollup)."""
from __future__ import annotations

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from analysis import derive, rollup


def case_pre_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    old = None
    if instance.pk:
        old = sender.objects.filter(pk=instance.pk).values("registered_at", "region_id", "address").first()
    instance._analysis_old = old
    moved_place = old is None or old["address"] != instance.address or old["region_id"] != instance.region_id
    if moved_place or not instance.geo_source or instance.geo_source == "none":
        derive.fill_coordinates(instance)


def case_post_save(sender, instance, raw=False, **kwargs):
    if raw:
        return
    # the current bucket is refreshed by the records_changed hook (cases.signals); the bucket a
    # moved case left (another region or registration day) only here
    old = getattr(instance, "_analysis_old", None)
    if old:
        left = (rollup.local_day(old["registered_at"]), old["region_id"])
        if left != (rollup.local_day(instance.registered_at), instance.region_id):
            transaction.on_commit(lambda: rollup.refresh([left]))


def case_post_delete(sender, instance, **kwargs):
    bucket = (rollup.local_day(instance.registered_at), instance.region_id)
    transaction.on_commit(lambda: rollup.refresh([bucket]))


def party_pre_save(sender, instance, raw=False, **kwargs):
    if not raw:
        derive.fill_party(instance)


def on_records_changed(kind: str = "", ids=(), **_):
    if kind == "case" and ids:
        rollup.refresh(rollup.buckets_of(ids))


def on_records_ingested(kind: str = "", case_ids=(), **_):
    if case_ids:
        rollup.derive_missing(case_ids)
        rollup.refresh(rollup.buckets_of(case_ids))


def connect() -> None:
    from cases.models import Case, Party
    from lowcode import hooks

    pre_save.connect(case_pre_save, sender=Case, dispatch_uid="analysis-case-pre")
    post_save.connect(case_post_save, sender=Case, dispatch_uid="analysis-case-post")
    post_delete.connect(case_post_delete, sender=Case, dispatch_uid="analysis-case-delete")
    pre_save.connect(party_pre_save, sender=Party, dispatch_uid="analysis-party-pre")
    hooks.subscribe("records_changed", on_records_changed)
    # an ingest chunk touches up to a thousand buckets: in the task queue, not in the import
    hooks.subscribe("records_ingested", on_records_ingested, queued=True)
