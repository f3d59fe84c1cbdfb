"""Spreadsheet exports made safe: a cell a spreadsheet would run as a formula (CSV/Excel
injection) is neutralised, and one export is bounded in rows. Here rather than in the engine's
Excel module because every export needs it, including the security audit log's, and ``secure``
imports no app (import contract ``secure-is-infrastructure``)."""
from __future__ import annotations

from typing import Any

from django.conf import settings
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
EXCEL_MAX_CELL = 32767


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe."""
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith(FORMULA_PREFIXES):
        value = "'" + value
    return value[:EXCEL_MAX_CELL]


def max_export_rows() -> int:
    return int(getattr(settings, "EXPORT_MAX_ROWS", 50000))
