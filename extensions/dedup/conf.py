"""The settings record (DedupSettings "default"), created from the shipped YAML on first use."""
from __future__ import annotations

from pathlib import Path

import yaml

DEFAULTS_FILE = Path(__file__).with_name("defaults.yaml")


def shipped() -> dict:
    return yaml.safe_load(DEFAULTS_FILE.read_text(encoding="utf-8"))


def get_settings():
    """The active settings (a fresh read each call: one indexed row)."""
    from extensions.dedup.models import DedupSettings

    obj = DedupSettings.objects.filter(code="default").first()
    if obj is None:
        values = shipped()
        obj, _ = DedupSettings.objects.get_or_create(
            code="default", defaults={**values, "origin": "shipped", "shipped": values})
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
