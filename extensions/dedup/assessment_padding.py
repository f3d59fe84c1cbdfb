"""The duplicate model's text similarity for 考核评价's padding detector (疑似凑数): the same
character shingles (the settings' 套话 removed) and Jaccard the duplicate check scores with."""
from __future__ import annotations


def make_similarity():
    from extensions.dedup.conf import get_settings
    from extensions.dedup.features import shingles
    from extensions.dedup.score import jaccard

    stop = tuple(get_settings().stop_phrases or ())

    def text_similarity(a: str, b: str) -> float:
        return jaccard(shingles(a, stop), shingles(b, stop))
    return text_similarity


def register() -> None:
    from assessment import padding

    padding.register_similarity(make_similarity)
