"""Every metadata save or delete bumps the metadata version (after commit), so each process
recompiles its cached metadata on its next request."""
from __future__ import annotations

import uuid

from django.db.models import F
from django.db.models.signals import post_delete, post_save

from lowcode.models import METADATA_MODELS, MetaVersion


def bump_version() -> None:
    stamp = uuid.uuid4().hex
    updated = MetaVersion.objects.filter(pk=1).update(version=F("version") + 1, stamp=stamp)
    if not updated:
        MetaVersion.objects.get_or_create(pk=1, defaults={"version": 2, "stamp": stamp})


def _on_change(sender, **kwargs):
    if kwargs.get("raw"):
        return
    bump_version()


for _model in METADATA_MODELS:
    post_save.connect(_on_change, sender=_model, dispatch_uid=f"lowcode-bump-{_model.__name__}-save")
    post_delete.connect(_on_change, sender=_model, dispatch_uid=f"lowcode-bump-{_model.__name__}-delete")
