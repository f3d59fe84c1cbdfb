"""What the warning colours contribute to the 研判 views (platform/analysis reads them through
``analysis.sources``; it never imports this extension)."""
from __future__ import annotations

from django.db.models import Count


def warning_colours(case_qs) -> list[tuple[str, str, str, int]]:
    """(level key, label, colour, number of those cases at that level), in level order."""
    from extensions.escalation.models import CaseWarning, WarningLevel

    counts = dict(CaseWarning.objects.filter(case__in=case_qs.values("pk")).order_by()
                  .values_list("level").annotate(n=Count("pk")))
    return [(lv.key, lv.label, lv.color, counts.get(lv.key, 0)) for lv in WarningLevel.objects.order_by("order")]


def case_colours(case_ids) -> dict[int, tuple[str, str]]:
    from extensions.escalation.models import CaseWarning, WarningLevel

    levels = {lv.key: (lv.label, lv.color) for lv in WarningLevel.objects.all()}
    return {pk: levels.get(level, (level, "")) for pk, level in
            CaseWarning.objects.filter(case_id__in=list(case_ids)).values_list("case_id", "level")}


def timeline(case) -> list[tuple]:
    from extensions.escalation.models import WarningLevel

    labels = dict(WarningLevel.objects.values_list("key", "label"))
    return [(e.created_at, "预警", f"{labels.get(e.from_level, e.from_level) or '无'} → "
             f"{labels.get(e.to_level, e.to_level)}（{e.rule_name or e.rule}）")
            for e in case.warning_events.all()[:200]]


def register() -> None:
    from analysis import sources

    sources.register_measure("warning_colours", warning_colours)
    sources.register_measure("case_colours", case_colours)
    sources.register_timeline(timeline)
