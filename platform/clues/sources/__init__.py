"""One small adapter per channel. The field mapping, time formats, normalisers, type and status
maps all come from the channel's CleaningRule (metadata); an adapter only adds what a rule cannot
express (a derived title, a sanity check of the channel's own conventions)."""
from __future__ import annotations

import importlib

from clues.sources.base import Adapter

CHANNELS = ("hotline12345", "minhu", "police110", "jczz", "province", "odr", "xltj", "local")
_cache: dict[str, Adapter] = {}


def adapter_for(source: str) -> Adapter:
    if source not in _cache:
        try:
            module = importlib.import_module(f"clues.sources.{source}") if source in CHANNELS else None
        except ImportError:
            module = None
        _cache[source] = getattr(module, "ADAPTER", None) or Adapter()
    return _cache[source]
