"""The settings record (DedupSettings "default"): a metadata kind (``KIND``, shipped as
metadata/dedup/default.yaml), loaded and upgraded by ``load_metadata`` like every other kind."""
from __future__ import annotations

KIND = "dedup_settings"
CODE = "default"


def shipped() -> dict:
    """The shipped values (what the evaluation and previews compare against)."""
    from lowcode.serialization import shipped_values

    return dict(shipped_values(KIND)[(CODE,)])


def get_settings():
    """The active settings (a fresh read each call: one indexed row); on a database that never
    loaded the metadata, the shipped record is loaded first."""
    from extensions.dedup.models import DedupSettings
    from lowcode.serialization import load_metadata

    obj = DedupSettings.objects.filter(code=CODE).first()
    if obj is None:
        load_metadata([KIND])
        obj = DedupSettings.objects.get(code=CODE)
    return obj


class Conf:
    """Settings as a plain object (for previews and the evaluation: unsaved values)."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @classmethod
    def from_shipped(cls, **overrides):
        return cls(**{**shipped(), **overrides})

    @classmethod
    def from_record(cls, obj, **overrides):
        from extensions.dedup.models import DedupSettings

        return cls(**{**{f: getattr(obj, f) for f in DedupSettings.META_FIELDS}, **overrides})
