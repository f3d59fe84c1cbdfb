"""Address matching through the unified address library (``addresses.matching.match``), with a
neutral fallback while that module is not installed. Results are cached per text for one run."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

try:  # the unified address library (platform/addresses), built alongside this app
    from addresses.matching import match as _library_match
except ImportError:  # pragma: no cover — until addresses.matching exists
    _library_match = None

QUALITIES = ("exact", "building", "road", "region", "none")


@dataclass(frozen=True)
class Matched:
    quality: str = "none"
    region: Any = None            # orgs.Region or None
    standard: str = ""            # the standard address as text
    standard_obj: Any = None      # addresses.StandardAddress (or whatever the library returns)
    components: dict = field(default_factory=dict)
    score: float = 0.0


NO_MATCH = Matched()


def match_address(text: str, hint: str | None = None) -> Matched:
    """``hint``: a region name the channel delivers beside the address (所属街道, 所属网格)."""
    if not text or _library_match is None:
        return NO_MATCH
    try:
        m = _library_match(text, hint=hint) if hint else _library_match(text)
    except TypeError:  # a matcher without the hint keyword
        m = _library_match(text)
    if m is None:
        return NO_MATCH
    standard = getattr(m, "standard", None)
    quality = getattr(m, "quality", "none") or "none"
    return Matched(quality if quality in QUALITIES else "none", getattr(m, "region", None),
                   "" if standard is None else str(standard)[:255], standard,
                   dict(getattr(m, "components", None) or {}), float(getattr(m, "score", 0) or 0))


class MatchCache:
    """One run's cache: the same address text (very common across channels) is matched once."""

    def __init__(self, limit: int = 50_000):
        self._cache: dict[tuple, Matched] = {}
        self.limit = limit

    def __call__(self, text: str, hint: str | None = None) -> Matched:
        key = (text, hint)
        hit = self._cache.get(key)
        if hit is None:
            hit = match_address(text, hint)
            if len(self._cache) >= self.limit:
                self._cache.clear()
            self._cache[key] = hit
        return hit
