"""Case numbers: LOC + date + 5-digit daily sequence (LOC2026021400257), as in the exchange format."""
from __future__ import annotations

import secrets

from django.utils import timezone


def next_exchange_id(when=None) -> str:
    from cases.models import Case

    day = timezone.localtime(when or timezone.now()).strftime("%Y%m%d")
    prefix = f"LOC{day}"
    last = (Case.objects.filter(exchange_id__startswith=prefix)
            .order_by("-exchange_id").values_list("exchange_id", flat=True).first())
    seq = int(last[len(prefix):len(prefix) + 5]) + 1 if last and last[len(prefix):].isdigit() else 1
    candidate = f"{prefix}{seq:05d}"
    if Case.objects.filter(exchange_id=candidate).exists():  # concurrent registration: add entropy
        candidate = f"{prefix}{seq:05d}{secrets.randbelow(1000):03d}"
    return candidate
