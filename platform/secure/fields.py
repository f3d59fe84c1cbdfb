"""Model fields that keep a sensitive value SM4-encrypted at rest with an HMAC-SM3 blind index.

    id_number = EncryptedField("证件号码", kind="id_number", blank=True)
    id_number_bidx = BlindIndexField(source="id_number")

The model attribute holds plaintext in memory; the column holds ciphertext. The blind index is
recomputed on every save from the plaintext, so the two never disagree.
"""
from __future__ import annotations

from django.db import models

from secure import crypto


class EncryptedField(models.TextField):
    """TextField whose column holds SM4-GCM ciphertext. Not indexable, not filterable:
    search through the companion BlindIndexField."""

    def __init__(self, *args, kind: str = "text", **kwargs):
        self.kind = kind
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value in (None, ""):
            return value
        return crypto.decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        if value.startswith(crypto.PREFIX):
            return value
        return crypto.encrypt(value)


class BlindIndexField(models.CharField):
    def __init__(self, *args, source: str = "", **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        if not self.db_index:  # this field defaults to an index: say so when there is none
            kwargs["db_index"] = False
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        source_field = model_instance._meta.get_field(self.source)
        value = crypto.blind_index(getattr(model_instance, self.source) or "", source_field.kind)
        setattr(model_instance, self.attname, value)
        return value
