"""A JSON value kept SM4-GCM encrypted at rest (the raw payloads of the outside channels).

    payload = EncryptedJSONField("原始数据")

In memory the attribute is the decoded JSON (dict / list …), as with ``JSONField``; the column is
text holding ``secure.crypto`` ciphertext of the canonical JSON. The database cannot look inside
(no ``payload__…`` lookups: they would silently compare ciphertext, so they are refused; only
``isnull`` is left). Whoever shows a payload masks it first (clues.redact).
"""
from __future__ import annotations

import json

from django.db import models

from secure import crypto


def dumps(value) -> str:
    """The canonical JSON text that is encrypted (same form as ingest's payload hash)."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


class EncryptedJSONField(models.TextField):
    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return json.loads(crypto.decrypt(value))

    def get_prep_value(self, value):
        if value is None:
            return None
        if isinstance(value, str) and value.startswith(crypto.PREFIX):
            return value  # already ciphertext (e.g. copied from another row)
        return crypto.encrypt(dumps(value))

    def to_python(self, value):
        return value  # already the decoded JSON value in memory

    def value_to_string(self, obj):
        return dumps(self.value_from_object(obj))

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            return None  # FieldError "Unsupported lookup": the column is ciphertext
        return super().get_lookup(lookup_name)

    def get_transform(self, name):
        return None

    def formfield(self, **kwargs):
        return None  # never edited in a form: raw records are kept as delivered
