"""Choices for a form's select from a dictionary: the one helper every fixed (non-metadata) form
uses — the handling forms, dispatch, partners, clues and the case library. Metadata forms get
theirs from the compiled entity (``EntityMeta.choices``)."""
from __future__ import annotations

from lowcode import registry

PLEASE_CHOOSE = "请选择"


def dictionary_choices(code: str, blank: str | None = PLEASE_CHOOSE) -> list[tuple[str, str]]:
    """Choices from a dictionary's active items, led by a blank choice labelled ``blank``
    (请选择 on a form, 全部 on a query; None: no blank choice)."""
    items = [(c, e.label) for c, e in registry.get_dictionary(code).items() if e.is_active]
    return ([("", blank)] if blank is not None else []) + items
