"""Every metadata save or delete bumps the metadata version, so each process recompiles its
cached metadata on its next request (``registry.get_meta``, ``cases.states``, the warning levels
of the case list…).

Every registered metadata kind is watched (``metakinds.register`` calls ``watch``), not only the
engine's own models: a cache keyed by the version may read any kind. That is affordable because
metadata records are saved rarely, by an admin or by ``load_metadata``; state that code writes on
a hot path lives in other models (a channel's pull state is ``clues.PullState``, not ``Channel``)."""
from __future__ import annotations

import uuid

from django.db.models import F
from django.db.models.signals import post_delete, post_save

from lowcode.models import MetaVersion


def bump_version() -> None:
    stamp = uuid.uuid4().hex
    updated = MetaVersion.objects.filter(pk=1).update(version=F("version") + 1, stamp=stamp)
    if not updated:
        MetaVersion.objects.get_or_create(pk=1, defaults={"version": 2, "stamp": stamp})


def _on_change(sender, **kwargs):
    if kwargs.get("raw"):
        return  # fixtures load rows raw; load_metadata saves normally and so bumps
    bump_version()


def watch(model) -> None:
    """Bump the version on every save and delete of ``model``'s rows (idempotent)."""
    label = model._meta.label
    post_save.connect(_on_change, sender=model, dispatch_uid=f"lowcode-bump-{label}-save")
    post_delete.connect(_on_change, sender=model, dispatch_uid=f"lowcode-bump-{label}-delete")
