"""What extensions contribute to the analysis views. Platform apps never import extensions/: an
extension registers here from its ``AppConfig.ready`` (extensions may import platform apps).

- ``register_measure(name, fn)``: ``"warning_colours"`` → ``fn(case_queryset) -> list of
  (key, label, colour, count)`` (the warnings of those cases by level); ``"case_colours"`` →
  ``fn(case_ids) -> {case_id: (label, colour)}`` (the map's marker colours).
- ``register_relations(fn)``: ``fn(user, case) -> list of (title, [(case, note)])`` — the
  relations of the 数字档案 (同人同案, 同案不同人, 同人不同案), rows already scoped to ``user``.
- ``register_timeline(fn)``: ``fn(case) -> list of (when, kind, text)`` extra timeline entries
  (warning changes …).
"""
from __future__ import annotations

from typing import Callable

_measures: dict[str, Callable] = {}
_relations: list[Callable] = []
_timelines: list[Callable] = []


def register_measure(name: str, fn: Callable) -> None:
    _measures[name] = fn


def measure(name: str) -> Callable | None:
    return _measures.get(name)


def register_relations(fn: Callable) -> None:
    if fn not in _relations:
        _relations.append(fn)


def relations() -> list[Callable]:
    return list(_relations)


def register_timeline(fn: Callable) -> None:
    if fn not in _timelines:
        _timelines.append(fn)


def timelines() -> list[Callable]:
    return list(_timelines)
