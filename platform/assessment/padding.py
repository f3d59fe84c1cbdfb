"""疑似凑数 (padding) detector: near-identical cases entered by one person in one period are
flagged (``PaddingFlag``) and left out of every fact until a reviewer clears them.

Text similarity comes from a registry: the duplicate model (extensions.dedup) registers its own
(character shingles of its dedup features, Jaccard) from its ``ready``; without it a built-in
character-bigram Jaccard is used. Cases are compared only within one registrant and one case
type (the padding pattern: the same dispute typed again and again), newest against older."""
from __future__ import annotations

import re
from collections.abc import Callable

from django.db import transaction

_similarity: list[Callable[[], Callable[[str, str], float]]] = []
THRESHOLD = 0.9
MAX_PER_GROUP = 400  # cases of one person and type compared per period (beyond: the newest)


def register_similarity(make: Callable[[], Callable[[str, str], float]]) -> None:
    """Replace the text similarity used by the detector: ``make()`` (called once per run, may read
    settings) returns ``similarity(text_a, text_b) -> 0..1``."""
    _similarity[:] = [make]


def _bigrams(text: str) -> set[str]:
    text = re.sub(r"\s+", "", text or "")
    return {text[i:i + 2] for i in range(len(text) - 1)} or ({text} if text else set())


def builtin_similarity(a: str, b: str) -> float:
    x, y = _bigrams(a), _bigrams(b)
    if not x or not y:
        return 0.0
    inter = len(x & y)
    return inter / (len(x) + len(y) - inter)


def similarity_function() -> Callable[[str, str], float]:
    return _similarity[0]() if _similarity else builtin_similarity


def detect(period, threshold: float = THRESHOLD) -> int:
    """Flag the near-identical cases of the period; returns how many were flagged now. A case
    already flagged or cleared is never flagged again (a cleared one stays counted)."""
    from cases.models import Case

    from assessment.models import PaddingFlag

    start, end = period.bounds()
    seen = set(PaddingFlag.objects.values_list("case_id", flat=True))
    rows = (Case.objects.filter(registered_at__gte=start, registered_at__lt=end, registrant__isnull=False)
            .order_by("registrant_id", "case_type", "registered_at", "pk")
            .values_list("pk", "registrant_id", "case_type", "title", "description", "region_path"))
    groups: dict[tuple, list] = {}
    for pk, who, ctype, title, desc, path in rows.iterator(chunk_size=2000):
        groups.setdefault((who, ctype), []).append((pk, f"{title}\n{desc}", path))
    similarity = similarity_function()
    flags = []
    for (who, _), items in groups.items():
        items = items[-MAX_PER_GROUP:]
        for i in range(1, len(items)):
            pk, text, path = items[i]
            if pk in seen:
                continue
            for other_pk, other_text, _ in items[:i]:
                score = similarity(text, other_text)
                if score >= threshold:
                    flags.append(PaddingFlag(case_id=pk, similar_to_id=other_pk, person_id=who,
                                             similarity=round(score, 3), region_path=path))
                    seen.add(pk)
                    break
    with transaction.atomic():
        PaddingFlag.objects.bulk_create(flags, ignore_conflicts=True)
    return len(flags)
