"""Display masking for sensitive values (screens and exports).

What a mask may keep: at most the usual ends (ID 3301**********1234, phone 138****5678) and
never enough to identify the value. Short or odd-length values keep less — at least half of an
ID number is always hidden, and of a phone at least four characters (of a fragment shorter than
a local number, all but the first) — and a kind without a masker of its own (a sensitive runtime
field: bank account, address …) shows nothing of it."""
from __future__ import annotations

GENERIC = "***"


def _text(value) -> str:
    return "" if value is None else str(value)


def mask_id_number(value) -> str:
    """3301**********1234 (18 characters); each end keeps at most a quarter of the value, so a
    15-digit old ID shows 330*********234 (its birth date hidden) and a short number little."""
    value = _text(value)
    keep = min(4, len(value) // 4)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[len(value) - keep:]


def mask_phone(value) -> str:
    """138****5678 (mobile); 8-digit local number ****5678; 0571-12345678 → 057******5678: the
    last 4, and a prefix of up to 3 only while at least 4 others stay hidden. Anything shorter
    than a local number (a fragment, a typo) keeps only its first character."""
    value = _text(value)
    if len(value) < 8:
        return value[:1] + "*" * (len(value) - 1) if len(value) > 2 else "*" * len(value)
    head = min(3, len(value) - 8)
    return value[:head] + "*" * (len(value) - head - 4) + value[-4:]


def mask_generic(value) -> str:
    """Any other sensitive value: nothing of it, not even its length."""
    return GENERIC if _text(value) else ""


MASKERS = {"id_number": mask_id_number, "phone": mask_phone}


def mask(value, kind: str) -> str:
    return MASKERS.get(kind, mask_generic)(value)
