"""The H5 个人中心 card (slot ``h5.me_panels``): the mediator's own score and rank for the last
computed month, and what would raise it — the indicators with the most points still to gain."""
from __future__ import annotations

from django.template.loader import render_to_string

from assessment import compute
from assessment.models import Snapshot


def my_standing(user) -> dict | None:
    if not (user.is_authenticated and user.is_active):
        return None
    snap = Snapshot.objects.filter(dimension="mediator", period_kind="month",
                                   rows__unit_key=str(user.pk)).order_by("-start").first()
    if snap is None:
        return None
    rows = compute.ranked_rows(snap)
    found = compute.as_ranked(rows.filter(unit_key=str(user.pk)))
    if not found:
        return None
    mine = found[0]
    specs = compute.current_specs(snap)
    total_weight = sum(s["weight"] for s in specs) or 1
    gains = []
    for s in specs:
        v = mine.values.get(s["code"]) or {}
        room = (100 - (v.get("score") or 0)) * s["weight"] / total_weight
        if room >= 0.5:
            gains.append({"name": s["name"], "raw": v.get("raw"), "score": v.get("score"), "room": round(room, 1),
                          "target": s.get("target"), "direction": s["direction"]})
    gains.sort(key=lambda g: -g["room"])
    return {"snap": snap, "row": mine, "count": rows.count(), "gains": gains[:3]}


def panel(request):
    standing = my_standing(request.user)
    if standing is None:
        return ""
    return render_to_string("assessment/h5_panel.html", standing, request=request)
