"""考核评价 facts from the warnings: 预警化解数 — cases of the period whose warning went from a
warning colour back to the default level (green: 已化解), and 预警案件数 — cases that were ever
given a warning colour. Registered into assessment's fact registry from this app's ``ready``."""
from __future__ import annotations

from django.db.models import Count, Q


def _default_level() -> str:
    from extensions.escalation.models import WarningSetting

    value = WarningSetting.objects.filter(key="default_level").values_list("value", flat=True).first()
    return value if isinstance(value, str) and value else "green"


def _resolved_q(prefix: str = "") -> Q:
    calm = _default_level()
    return Q(**{f"{prefix}to_level": calm}) & ~Q(**{f"{prefix}from_level__in": ["", calm]})


def _warned_q(prefix: str = "") -> Q:
    return ~Q(**{f"{prefix}to_level": _default_level()})


def register() -> None:
    from assessment import facts

    facts.register(facts.Fact(
        "warnings_resolved", "预警化解数", "case", "escalation.WarningEvent",
        lambda: Count("case", distinct=True, filter=_resolved_q()), case_path="case",
        drill=lambda: _resolved_q("warning_events__"), help="本期登记案件中预警颜色转为绿色（已化解）的案件"))
    facts.register(facts.Fact(
        "warnings_raised", "预警案件数", "case", "escalation.WarningEvent",
        lambda: Count("case", distinct=True, filter=_warned_q()), case_path="case",
        drill=lambda: _warned_q("warning_events__"), help="本期登记案件中曾被评为预警颜色（红/橙/黄）的案件"))
    facts.register(facts.Derived(
        "warning_resolve_rate", "预警化解率", "case", facts.ratio("warnings_resolved", "warnings_raised"),
        "warnings_resolved", "预警化解数 ÷ 预警案件数 × 100"))
