"""One small adapter per channel. The field mapping, time formats, normalisers, type and status
maps all come from the channel's CleaningRule (metadata); an adapter only adds what a rule cannot
express (a derived title, a sanity check of the channel's own conventions)."""
from __future__ import annotations

import importlib

from clues.sources.base import Adapter

_cache: dict[str, Adapter] = {}


def adapter_for(source: str) -> Adapter:
    """The channel's adapter module (``clues.sources.<key>``) if it has one, else the plain one.
    Only keys of the channel registry (clues.Channel, metadata/channels.yaml) are looked up; an
    unregistered key is not remembered (it may be registered later in this process)."""
    if source not in _cache:
        from clues.models import Channel

        if not Channel.objects.filter(key=source).exists():
            return Adapter()
        try:
            module = importlib.import_module(f"clues.sources.{source}")
        except ImportError:
            module = None
        _cache[source] = getattr(module, "ADAPTER", None) or Adapter()
    return _cache[source]
