"""Saving, creating and deleting many model instances at once, as their one-by-one ``save()`` /
``delete()`` would — for ingest's updates (a chunk of re-sent records).

    bulksave.save_many(Case, cases, user=user, reason="数据归集")       # UPDATE, history "~"
    bulksave.create_many(Party, parties, reason="数据归集")             # INSERT, history "+"
    bulksave.delete_many(Party, old_parties)                           # DELETE, history "-"

Why: saved one by one, an updated record cost ≈ 14 queries (its clean record, history, parties
deleted and re-inserted with their history, each in a round trip) — 60 updates/s against ≈ 1,000
new records/s. Here each step is one statement (or one pipelined batch) per chunk.

What is kept from ``save()``: every ``pre_save`` receiver runs per instance (derived fields,
coordinates, sensitive-field protection), fields' ``pre_save`` (auto_now, blind indexes) and
``get_db_prep_save`` (encryption); every ``post_save`` receiver runs per instance, except
simple-history's, whose rows are written here in bulk with the same user / change reason (an
instance's ``_history_user`` / ``_change_reason`` first). Deletes write the "-" history rows
and do not send the delete signals: the receivers of the models used here (parties of cases and
clues) are the history and the muted ``records_changed`` hook. Must run inside the caller's
transaction (ingest replays the chunk record by record when it fails).
"""
from __future__ import annotations

from django.conf import settings
from django.db import connection, models, router
from django.db.models.signals import post_save, pre_save
from django.utils import timezone


def _history_enabled(model) -> bool:
    return getattr(settings, "SIMPLE_HISTORY_ENABLED", True) and hasattr(model, "history")


def _history(model, objs, kind: str, user=None, reason: str | None = None) -> None:
    """History rows of type ``kind`` ("+", "~", "-") for ``objs`` (as simple-history would write
    them one by one)."""
    if not objs or not _history_enabled(model):
        return
    hist = model.history.model
    now = timezone.now()
    rows = []
    for obj in objs:
        row = hist(history_date=now, history_type=kind,
                   history_user=getattr(obj, "_history_user", user),
                   history_change_reason=getattr(obj, "_change_reason", None) or reason,
                   **{f.attname: getattr(obj, f.attname) for f in hist.tracked_fields})
        rows.append(row)
    hist.objects.bulk_create(rows, batch_size=1000)


def _post_save(model, objs, created: bool, using: str) -> None:
    """The post_save receivers of each instance, simple-history's excepted (written in bulk)."""
    for obj in objs:
        obj.skip_history_when_saving = True
        try:
            post_save.send(sender=model, instance=obj, created=created, update_fields=None, raw=False, using=using)
        finally:
            del obj.skip_history_when_saving


def save_many(model, objs: list, *, user=None, reason: str | None = None) -> None:
    """``obj.save()`` of existing instances: every concrete field written, one pipelined batch of
    UPDATEs (psycopg sends them in one round trip; SQLite runs them in process)."""
    if not objs:
        return
    using = router.db_for_write(model)
    for obj in objs:
        pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.primary_key and not getattr(f, "generated", False)]
    q = connection.ops.quote_name
    sql = (f"UPDATE {q(opts.db_table)} SET {', '.join(f'{q(f.column)} = %s' for f in fields)} "
           f"WHERE {q(opts.pk.column)} = %s")
    params = [[f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields] + [obj.pk] for obj in objs]
    with connection.cursor() as cur:
        cur.executemany(sql, params)
    _post_save(model, objs, False, using)
    _history(model, objs, "~", user, reason)


def create_many(model, objs: list, *, user=None, reason: str | None = None) -> list:
    """``obj.save()`` of new instances (``bulk_create``: their primary keys are set)."""
    if not objs:
        return objs
    using = router.db_for_write(model)
    for obj in objs:
        pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    objs = model._default_manager.bulk_create(objs, batch_size=1000)
    if any(o.pk is None for o in objs):  # a backend that returns no ids: nothing here relies on them
        raise RuntimeError(f"bulk_create of {model.__name__} returned no primary keys")
    _post_save(model, objs, True, using)
    _history(model, objs, "+", user, reason)
    return objs


def delete_many(model, objs: list) -> None:
    """``obj.delete()`` of many instances: the rows that point at them follow their ``on_delete``
    (CASCADE, SET_NULL, DO_NOTHING; anything else raises — the caller falls back to one by one),
    then one DELETE. Delete signals: see the module docstring."""
    if not objs:
        return
    pks = [o.pk for o in objs]
    using = router.db_for_write(model)
    for rel in model._meta.related_objects:
        if rel.many_to_many or rel.field.model._meta.auto_created:
            continue
        on_delete = rel.on_delete
        if on_delete is models.DO_NOTHING:
            continue
        linked = rel.related_model._base_manager.using(using).filter(**{f"{rel.field.name}__in": pks})
        if on_delete is models.CASCADE:
            linked.delete()
        elif on_delete is models.SET_NULL:
            linked.update(**{rel.field.name: None})
        else:
            raise RuntimeError(f"{model.__name__}: on_delete {on_delete.__name__} of {rel} not handled in bulk")
    _history(model, objs, "-")
    model._base_manager.using(using).filter(pk__in=pks)._raw_delete(using)
