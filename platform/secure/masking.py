"""Display masking for sensitive values (screens and exports)."""
from __future__ import annotations


def mask_id_number(value: str | None) -> str:
    """3301**********1234: first 4 and last 4 kept."""
    if not value:
        return ""
    if len(value) <= 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    """138****5678: first 3 and last 4 kept."""
    if not value:
        return ""
    if len(value) < 8:
        return value[:1] + "*" * (len(value) - 1)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


MASKERS = {"id_number": mask_id_number, "phone": mask_phone}


def mask(value: str | None, kind: str) -> str:
    return MASKERS.get(kind, lambda v: "***" if v else "")(value)
