"""Sensitive runtime fields (FieldDef 敏感（加密+脱敏）) encrypted at rest in the entity's JSON column.

A value of a sensitive field is kept in ``extra`` as ::

    {"bank_account": {"c": "sm4gcm1:…", "b": "<HMAC-SM3 hex>"}}

``c`` is the SM4-GCM ciphertext of the value's JSON text (the same ``secure.crypto`` as the core
sensitive columns, so a number or a list comes back as it went in); ``b`` is its blind index, so
an exact search or filter compares ``extra__<code>__b`` with the index of the typed value — the
same JSON key lookup on SQLite and PostgreSQL. No substring search on ciphertext.

The engine's storage path goes through ``FieldSpec.to_stored`` / ``FieldSpec.from_stored`` (forms,
Excel import/export, lists, detail screens, H5 and third-party pages all read through it).
``from_stored`` reveals any protected value whatever the field says now, so screens keep working
while a field switched to or from sensitive is being converted.

Switching a FieldDef to or from sensitive converts its stored values: ``pending_count`` is the
preview's number, ``convert_field`` does the work chunk by chunk (each chunk locked and written
in its own transaction, idempotent — a value already in the target shape is left alone).
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from lowcode import fieldtypes
from secure import crypto

CIPHER_KEY = "c"
INDEX_KEY = "b"
EMPTY = (None, "", [])
CHUNK = 1000


def is_protected(raw: Any) -> bool:
    return (isinstance(raw, dict) and set(raw) == {CIPHER_KEY, INDEX_KEY}
            and isinstance(raw[CIPHER_KEY], str) and raw[CIPHER_KEY].startswith(crypto.PREFIX))


def index_kind(fieldtype: str) -> str:
    """The field type's blind-index normalisation (``FieldType.index_kind``); a type no longer
    registered indexes as text."""
    known = fieldtypes.REGISTRY.get(fieldtype)
    return known.index_kind if known else "text"


def index_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)


def blind_index(fieldtype: str, value: Any) -> str:
    return crypto.blind_index(index_text(value), index_kind(fieldtype))


def protect(fieldtype: str, value: Any) -> Any:
    """A JSON value → its stored, encrypted form (empty values stay empty: nothing to hide)."""
    if value in EMPTY or is_protected(value):
        return value
    return {CIPHER_KEY: crypto.encrypt(json.dumps(value, ensure_ascii=False)),
            INDEX_KEY: blind_index(fieldtype, value)}


def reveal(raw: Any) -> Any:
    """A stored value → the JSON value (plaintext values, e.g. of a non-sensitive field, as is)."""
    if not is_protected(raw):
        return raw
    return json.loads(crypto.decrypt(raw[CIPHER_KEY]))


def exact_lookup(path: str, fieldtype: str, value: Any) -> dict[str, str]:
    """ORM lookup matching a sensitive JSON key equal to ``value`` (through the blind index)."""
    return {f"{path}__{INDEX_KEY}": blind_index(fieldtype, value)}


# --- converting stored values when a field becomes (or stops being) sensitive ----------------
def _entity_model(entity: str, apps=None):
    from lowcode import registry

    config = registry.entity_config(entity)
    model = config.model
    if apps is not None:  # a migration: the historical model
        model = apps.get_model(model._meta.app_label, model._meta.model_name)
    return model, config.extra_field


def _history_model(model, apps=None):
    """The model's simple-history table, if it has one: past versions hold the values too."""
    history = getattr(model, "history", None)
    if apps is None:
        return getattr(history, "model", None)
    try:
        return apps.get_model(model._meta.app_label, f"Historical{model.__name__}")
    except LookupError:
        return None


def _needs_conversion(raw: Any, sensitive: bool) -> bool:
    if raw in EMPTY:
        return False
    return is_protected(raw) != sensitive


def pending_queryset(entity: str, code: str, sensitive: bool, apps=None):
    """Rows whose value of ``code`` is not yet in the shape ``sensitive`` asks for (SQL only)."""
    from django.db.models import Q

    model, extra = _entity_model(entity, apps)
    has_value = Q(**{f"{extra}__has_key": code}) & ~Q(**{f"{extra}__{code}": None}) \
        & ~Q(**{f"{extra}__{code}": ""})
    # both keys: on PostgreSQL a plain string "c" would pass a one-key test
    encrypted = Q(**{f"{extra}__{code}__has_keys": [CIPHER_KEY, INDEX_KEY]})
    return model._base_manager.filter(has_value & (~encrypted if sensitive else encrypted))


def pending_count(entity: str, code: str, sensitive: bool) -> int:
    """How many records a switch of ``code`` to ``sensitive`` would rewrite (the preview)."""
    return pending_queryset(entity, code, sensitive).count()


def convert_field(entity: str, code: str, fieldtype: str, sensitive: bool, apps=None,
                  chunk: int = CHUNK, progress=None) -> int:
    """Encrypt (``sensitive``) or decrypt every stored value of one field, in the records and in
    their history rows (past versions hold the value too); returns the records rewritten.
    Chunks by primary key, each locked (``select_for_update``) and written in one transaction, so
    a concurrent edit is never overwritten with a stale copy and memory stays constant."""
    model, extra = _entity_model(entity, apps)
    done = _convert_table(model, extra, code, fieldtype, sensitive, chunk, progress)
    history = _history_model(model, apps)
    if history is not None:
        _convert_table(history, extra, code, fieldtype, sensitive, chunk)
    return done


def _convert_table(model, extra: str, code: str, fieldtype: str, sensitive: bool, chunk: int,
                   progress=None) -> int:
    from django.db import connections, router, transaction

    using = router.db_for_write(model)
    connection = connections[using]
    column = model._meta.get_field(extra)
    # one UPDATE per row, sent as a batch: Django's bulk_update builds a CASE over the whole chunk,
    # which the database evaluates per row (quadratic in the chunk size)
    sql = "UPDATE {} SET {} = %s WHERE {} = %s".format(
        *(connection.ops.quote_name(n) for n in (model._meta.db_table, column.column, model._meta.pk.column)))
    done, last_pk = 0, None
    while True:
        with transaction.atomic(using=using):
            # walk the primary key and test the shape here: a JSON condition in SQL would make
            # the database scan the rest of the table for every chunk (quadratic)
            qs = model._base_manager.order_by("pk")
            if last_pk is not None:
                qs = qs.filter(pk__gt=last_pk)
            rows = list(qs.select_for_update().values_list("pk", extra)[:chunk])
            if not rows:
                return done
            params = []
            for pk, values in rows:
                if not isinstance(values, dict) or not _needs_conversion(values.get(code), sensitive):
                    continue
                values = dict(values)
                plain = reveal(values[code])
                values[code] = protect(fieldtype, plain) if sensitive else plain
                params.append((column.get_db_prep_save(values, connection), pk))
            if params:
                with connection.cursor() as cursor:
                    cursor.executemany(sql, params)
        done += len(params)
        last_pk = rows[-1][0]
        if progress is not None:
            progress(done)


def sensitive_extra_fields(apps=None) -> Iterable[tuple[str, str, str]]:
    """(entity, code, fieldtype) of every sensitive field kept in a JSON column."""
    if apps is not None:
        FieldDef = apps.get_model("lowcode", "FieldDef")
    else:
        from lowcode.models import FieldDef
    return FieldDef.objects.filter(sensitive=True, core=False).values_list("entity", "code", "fieldtype")


def _convert_all(sensitive: bool, apps=None, chunk: int = CHUNK) -> int:
    from lowcode import registry

    total = 0
    for entity, code, fieldtype in list(sensitive_extra_fields(apps)):
        if entity not in registry.entities():
            continue
        try:
            _entity_model(entity, apps)
        except LookupError:  # its app is not migrated yet: it has no rows either
            continue
        total += convert_field(entity, code, fieldtype, sensitive, apps=apps, chunk=chunk)
    return total


def encrypt_existing(apps=None, chunk: int = CHUNK) -> int:
    """Every sensitive runtime field's plaintext values encrypted (idempotent): the data
    migration that closed the plaintext hole."""
    return _convert_all(True, apps, chunk)


def decrypt_existing(apps=None, chunk: int = CHUNK) -> int:
    """The reverse of ``encrypt_existing`` (rolling the migration back)."""
    return _convert_all(False, apps, chunk)


# --- a FieldDef switched to or from sensitive ----------------------------------------------
def sync_limit() -> int:
    """Up to this many rows are converted with the FieldDef save, in its transaction; more are
    converted by a queued task (chunk by chunk, the rest shown on the field's page)."""
    from django.conf import settings

    return int(getattr(settings, "SENSITIVE_SYNC_LIMIT", 10000))


def switch_preview(field_def) -> dict:
    """What saving ``field_def`` (unsaved edits) does to stored values: the records rewritten."""
    from lowcode import registry

    before = type(field_def).objects.filter(pk=field_def.pk).values_list("sensitive", flat=True).first() \
        if field_def.pk else None
    if field_def.core or field_def.entity not in registry.entities():
        return {"applies": False}
    count = pending_count(field_def.entity, field_def.code, field_def.sensitive)
    return {"applies": True, "switched": before is not None and before != field_def.sensitive,
            "sensitive": field_def.sensitive, "count": count, "queued": count > sync_limit(),
            "label": field_def.label}


def convert_task(entity: str, code: str) -> int:
    """Queued conversion of one field to what its FieldDef says now (idempotent: re-running it,
    or a later switch back, converts only what is not yet in the current shape)."""
    from lowcode.models import FieldDef

    field_def = FieldDef.objects.filter(entity=entity, code=code, core=False).first()
    if field_def is None:
        return 0
    return convert_field(entity, code, field_def.fieldtype, field_def.sensitive)


CONVERT_TASK = "lowcode.sensitive.convert_task"


def _remember_before(sender, instance, raw=False, **kwargs):
    instance._sensitive_before = None if raw or instance.pk is None else \
        sender.objects.filter(pk=instance.pk).values_list("sensitive", flat=True).first()


def _convert_after_save(sender, instance, created, raw=False, **kwargs):
    from django.db import transaction

    from lowcode import registry

    if raw or instance.core or instance.entity not in registry.entities():
        return
    before = getattr(instance, "_sensitive_before", None)
    # a new sensitive field may find plaintext under its code (a field deleted and added again)
    switched = instance.sensitive if created else (before is not None and before != instance.sensitive)
    if not switched:
        return
    if pending_count(instance.entity, instance.code, instance.sensitive) <= sync_limit():
        convert_field(instance.entity, instance.code, instance.fieldtype, instance.sensitive)
        return
    from django_q.tasks import async_task

    entity, code = instance.entity, instance.code
    transaction.on_commit(lambda: async_task(CONVERT_TASK, entity, code,
                                             task_name=f"敏感字段转换 {entity}.{code}"[:100]))


def protect_before_save(sender, instance, raw=False, **kwargs):
    """Safety net for writes that skip the forms (seeding, scripts, a shell, a later API): a
    sensitive runtime field's plaintext in the JSON column is encrypted before it reaches the
    database. The forms already store it protected (``protect`` leaves that as it is)."""
    from lowcode import registry

    if raw:
        return
    config = next((c for c in registry.entities().values() if c.model is sender), None)
    extra = getattr(instance, config.extra_field, None) if config else None
    if not extra:
        return
    for spec in registry.get_meta(config.key).fields.values():
        if spec.sensitive and not spec.core and spec.code in extra:
            extra[spec.code] = protect(spec.fieldtype, extra[spec.code])


def connect_entity(model) -> None:
    """Called by ``registry.register_entity`` for each entity model."""
    from django.db.models.signals import pre_save

    pre_save.connect(protect_before_save, sender=model, dispatch_uid=f"lowcode-sensitive-{model._meta.label}")


def connect_signals() -> None:
    from django.db.models.signals import post_save, pre_save

    pre_save.connect(_remember_before, sender="lowcode.FieldDef", dispatch_uid="lowcode-sensitive-before")
    post_save.connect(_convert_after_save, sender="lowcode.FieldDef", dispatch_uid="lowcode-sensitive-convert")


connect_signals()
