"""Bulk inserts for ingest: PostgreSQL ``COPY … FROM STDIN`` (psycopg 3), ``bulk_create`` elsewhere.

    ids = bulkcopy.insert_rows(Clue, [{"record_key": …, "raw_id": …, "region_id": …}, …],
                               history=True, user=user, reason="数据归集")

Rows are dicts keyed by attname (``region_id``, not ``region``); a missing key takes the field's
default. Returns the new primary keys in row order.

Why: Django 5.2 bulk-inserts on PostgreSQL through ``UNNEST(%s::type[])``; psycopg adapts each
column as a Python list (array quoting in pure Python, JSON through Jsonb wrappers) and every row
first becomes a model instance. For ingest that was most of the run time. Here rows stay dicts,
COPY streams them in text format (formatted by psycopg's C code), and the ids come from the
table's sequence up front (one query).

Semantics kept from bulk_create: auto_now/auto_now_add columns get the current time, blind
indexes are computed from their source column, encrypted columns are encrypted
(``get_db_prep_save``; an encrypted JSON column encrypts the row's PREPARED_JSON text when given,
so the payload is serialised once); no ``save()``, no signals. The history rows (simple-history) are derived
from the very values written to the main table (same ciphertext, same blind index), one ``+``
row per object with the given user and change reason — what ``bulk_create_with_history`` writes.
A model with a field whose ``pre_save`` this module does not know is written through model
instances (correct, slower).

Must run inside a transaction (the caller's ``atomic``); a failing COPY raises and the caller
rolls back and replays record by record.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Callable

from django.conf import settings
from django.db import connection, models
from django.utils import timezone

# Exact classes whose value goes to the column untouched (no pre_save logic, psycopg adapts it).
_PLAIN = {models.CharField, models.TextField, models.SlugField, models.URLField, models.EmailField,
          models.IntegerField, models.PositiveIntegerField, models.PositiveSmallIntegerField,
          models.SmallIntegerField, models.BigIntegerField, models.BooleanField, models.AutoField,
          models.BigAutoField, models.SmallAutoField, models.FloatField, models.DecimalField,
          models.ForeignKey, models.OneToOneField}
# A row may carry JSON it already serialised (ingest hashes the payload's canonical text):
# ``row[PREPARED_JSON] = {attname: text}``.
PREPARED_JSON = "__json__"


def supported() -> bool:
    return connection.vendor == "postgresql"


def _default(field) -> Callable[[], Any]:
    if field.has_default() and callable(field.default):
        return field.default
    value = field.get_default()
    return lambda: value


def _converter(field) -> Callable[[dict], Any] | None:
    """row → the value to COPY for ``field``; None when the field needs a model instance."""
    from clues.fields import EncryptedJSONField
    from secure import crypto
    from secure.fields import BlindIndexField, EncryptedField

    attname = field.attname
    kind = type(field)
    default = _default(field)
    if isinstance(field, EncryptedJSONField):  # SM4: encrypt the canonical text ingest already made

        def encrypted_json(row):
            prepared = row.get(PREPARED_JSON)
            if prepared is not None and attname in prepared:
                return crypto.encrypt(prepared[attname])
            return field.get_db_prep_save(row[attname] if attname in row else default(), connection)
        return encrypted_json
    if isinstance(field, BlindIndexField):  # same value as its pre_save, computed once per value
        from clues.normalise import cached_blind_index

        source = field.model._meta.get_field(field.source)
        return lambda row: cached_blind_index(row.get(source.attname) or "", source.kind)
    if kind in _PLAIN:
        return lambda row: row[attname] if attname in row else default()
    if kind is models.DateTimeField:
        if field.auto_now or field.auto_now_add:
            return lambda row: timezone.now()  # as their pre_save on insert

        def dt_value(row):
            v = row[attname] if attname in row else default()
            if isinstance(v, dt.datetime) and v.tzinfo is None:  # naive: Django's own conversion
                return field.get_db_prep_save(v, connection)
            return v
        return dt_value
    if kind is models.JSONField:
        encoder = field.encoder

        def json_value(row):
            prepared = row.get(PREPARED_JSON)
            if prepared is not None and attname in prepared:
                return prepared[attname]
            v = row[attname] if attname in row else default()
            if v is None and field.null:
                return None
            if isinstance(v, (list, dict)) and not v:  # the common empty list / dict
                return "[]" if isinstance(v, list) else "{}"
            return json.dumps(v, ensure_ascii=False, cls=encoder)
        return json_value
    if isinstance(field, EncryptedField):
        return lambda row: field.get_db_prep_save(row[attname] if attname in row else default(), connection)
    return None


class _Table:
    def __init__(self, model):
        opts = model._meta
        self.model = model
        self.table = opts.db_table
        self.fields = [f for f in opts.concrete_fields if not getattr(f, "generated", False)]
        self.columns = [f.column for f in self.fields]
        self.attnames = [f.attname for f in self.fields]
        self.pk_attname = opts.pk.attname
        self.pk_column = opts.pk.column
        converters = [_converter(f) for f in self.fields]
        self.convert = None if any(c is None for c in converters) else converters
        self._sequence: str | None = None

    def sequence(self, cursor) -> str:
        if self._sequence is None:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [self.table, self.pk_column])
            self._sequence = cursor.fetchone()[0]
        return self._sequence

    def values(self, row: dict) -> tuple:
        if self.convert is not None:
            return tuple(c(row) for c in self.convert)
        obj = self.model(**{k: v for k, v in row.items() if k != PREPARED_JSON})  # the slow, general way
        return tuple(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in self.fields)


class _HistoryTable:
    """The simple-history model of a model: tracked columns + history_* columns (history_id by
    its default)."""

    def __init__(self, model):
        hist = model.history.model
        self.table = hist._meta.db_table
        tracked = {f.attname for f in hist.tracked_fields}
        self.tracked = [f.attname for f in hist._meta.concrete_fields if f.attname in tracked]
        own = {"history_date", "history_change_reason", "history_type", "history_user_id"}
        extra = [f for f in hist._meta.concrete_fields
                 if f.attname not in tracked and f.attname not in own and not f.primary_key]
        self.columns = [hist._meta.get_field(a).column for a in self.tracked] + [
            "history_date", "history_change_reason", "history_type", "history_user_id"] + [f.column for f in extra]
        self.extra_defaults = [f.get_db_prep_save(f.get_default(), connection) for f in extra]


_tables: dict[type, _Table] = {}
_histories: dict[type, _HistoryTable] = {}


def _table(model) -> _Table:
    t = _tables.get(model)
    if t is None:
        t = _tables[model] = _Table(model)
    return t


def _history(model) -> _HistoryTable:
    h = _histories.get(model)
    if h is None:
        h = _histories[model] = _HistoryTable(model)
    return h


def _copy(cursor, table: str, columns: list[str], rows) -> None:
    q = connection.ops.quote_name
    sql = f"COPY {q(table)} ({', '.join(q(c) for c in columns)}) FROM STDIN"
    with cursor.copy(sql) as cp:
        for row in rows:
            cp.write_row(row)


def insert_rows(model, rows: list[dict], *, history: bool = False, user=None, reason: str = "") -> list[int]:
    """Insert ``rows`` into ``model``'s table; returns their new primary keys (row order). With
    ``history``, also the ``+`` history rows (``user``, ``reason``)."""
    if not rows:
        return []
    if not supported():
        return _insert_orm(model, rows, history, user, reason)
    t = _table(model)
    with connection.cursor() as wrapper:
        cur = wrapper.cursor  # the psycopg cursor (COPY is not part of the DB-API)
        cur.execute("SELECT nextval(%s) FROM generate_series(1, %s)", [t.sequence(cur), len(rows)])
        ids = sorted(r[0] for r in cur.fetchall())
        values = []
        for row, pk in zip(rows, ids):
            row[t.pk_attname] = pk
            values.append(t.values(row))
        _copy(cur, t.table, t.columns, values)
        if history and getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
            h = _history(model)
            index = {a: i for i, a in enumerate(t.attnames)}
            picks = [index[a] for a in h.tracked]
            tail = (timezone.now(), reason or None, "+", getattr(user, "pk", None), *h.extra_defaults)
            _copy(cur, h.table, h.columns, (tuple(v[i] for i in picks) + tail for v in values))
    return ids


def _insert_orm(model, rows: list[dict], history: bool, user, reason: str) -> list[int]:
    objs = [model(**{k: v for k, v in row.items() if k != PREPARED_JSON}) for row in rows]
    if history:
        from simple_history.utils import bulk_create_with_history

        objs = bulk_create_with_history(objs, model, default_user=user, default_change_reason=reason)
    else:
        objs = model._default_manager.bulk_create(objs)
    ids = [o.pk for o in objs]
    for row, pk in zip(rows, ids):
        row[model._meta.pk.attname] = pk
    return ids
