"""Document numbers: prefix + date + 5-digit daily sequence (FD2026112600001, PZ…)."""
from __future__ import annotations

import secrets

from django.utils import timezone


def next_number(model, prefix: str, when=None) -> str:
    day = timezone.localtime(when or timezone.now()).strftime("%Y%m%d")
    head = f"{prefix}{day}"
    last = (model.objects.filter(number__startswith=head).order_by("-number")
            .values_list("number", flat=True).first())
    seq = int(last[len(head):len(head) + 5]) + 1 if last and last[len(head):len(head) + 5].isdigit() else 1
    candidate = f"{head}{seq:05d}"
    if model.objects.filter(number=candidate).exists():  # concurrent insert: add entropy
        candidate = f"{head}{seq:05d}{secrets.randbelow(1000):03d}"
    return candidate
