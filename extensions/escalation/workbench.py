"""The 升级预警 block on the PC workbench (UI slot cases.workbench_panels): how many open
cases in the user's scope hold each colour, and the latest colour changes."""
from __future__ import annotations

from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.scope import scope_q
from extensions.escalation import caselist
from lowcode.registry import format_when

LIST_SIZE = 8


def _scoped(qs, user):
    q = scope_q(user, "case__region_path", qs.model)
    return qs if q is None else qs.filter(q)


def panel(request) -> str:
    from cases.states import open_states
    from extensions.escalation.models import CaseWarning, WarningEvent

    user = request.user
    known = caselist.levels()  # cached: the workbench stays a handful of queries
    counts = dict(_scoped(CaseWarning.objects.filter(case__status__in=open_states()), user)
                  .values_list("level").annotate(n=Count("pk")).values_list("level", "n"))
    list_url = reverse("admin:escalation_casewarning_changelist")
    levels = [{"level": lv, "count": counts.get(lv.key, 0), "url": f"{list_url}?level={lv.key}"}
              for lv in sorted(known.values(), key=lambda lv: lv.order) if lv.key != caselist.default_level()]
    events = [{"case": e.case, "url": reverse("admin:cases_case_detail", args=[e.case_id]),
               "change": caselist.badge(e.to_level), "from": caselist.badge(e.from_level) if e.from_level else "",
               "reason": (e.reasons or [""])[0], "when": format_when(e.created_at)}
              for e in _scoped(WarningEvent.objects.all(), user).select_related("case")
              .order_by("-created_at", "-id")[:LIST_SIZE]]
    return render_to_string("escalation/workbench_panel.html", {
        "levels": levels, "events": events, "list_url": list_url,
        "history_url": reverse("admin:escalation_warningevent_changelist"),
        "party_url": reverse("admin:escalation_partywarning_changelist")}, request=request)
