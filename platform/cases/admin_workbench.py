"""工作台: the admin index for users who handle cases (cases.view_case). Everyone else keeps the
normal admin index. The page extends admin/base_site.html with the site's own context, so the
side menu (jazzmin) is the same as on every other admin page."""
from __future__ import annotations

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from cases import states, workbench, workbench_charts
from cases.admin_blocks import label
from lowcode import slots
from lowcode.registry import format_when
from notices.actions import readable, unread_count

LIST_SIZE = 10

def workbench_context(request, notice_count: int | None = None) -> dict:
    user = request.user
    now = timezone.now()
    period = workbench.period_for(request.GET.get("period"), now)
    figures = workbench.indicators(user, period, now)

    waiting = workbench.reviews_waiting_for(user)
    reviews = [{
        "case": r.case, "kind": workbench.review_kind_label(r.kind),
        "submitted_by": r.submitted_by, "submitted_at": format_when(r.submitted_at),
        "url": reverse("admin:cases_review_decide", args=[r.pk]),
    } for r in waiting.select_related("case").prefetch_related("submitted_by")  # no user join (issue #17)
        .order_by("submitted_at")[:LIST_SIZE]]

    overdue_qs = workbench.scoped_cases(user).filter(workbench.overdue_q(now))
    overdue = [{
        "case": c, "status": label("case_status", c.status), "deadline": format_when(c.deadline),
        "days": (now - c.deadline).days, "url": reverse("admin:cases_case_detail", args=[c.pk]),
    } for c in overdue_qs.select_related("region").order_by("deadline")[:LIST_SIZE]]

    notices = [{
        "notice": n, "kind": n.get_kind_display(), "created_at": format_when(n.created_at),
        "url": reverse("admin:notices_notice_change", args=[n.pk]),
    } for n in readable(user).filter(read_at__isnull=True).order_by("-created_at")[:LIST_SIZE]]

    latest = [{
        "case": c, "type": label("case_type", c.case_type), "status": label("case_status", c.status),
        "registered_at": format_when(c.registered_at), "region": c.region.name,
        "overdue": states.is_overdue(c, now),
        "url": reverse("admin:cases_case_detail", args=[c.pk]),
    } for c in workbench.scoped_cases(user).select_related("region").order_by("-registered_at", "-pk")[:LIST_SIZE]]

    overdue_total = next(i.now_value for i in figures if i.key == "overdue")
    return {
        "period": period,
        "periods": [(code, labels[0]) for code, labels in workbench.PERIODS.items()],
        "indicators": figures,
        "reviews": reviews,
        "review_count": waiting.count(),
        "overdue": overdue,
        "overdue_count": overdue_total,
        "notices": notices,
        "notice_count": unread_count(user) if notice_count is None else notice_count,
        "latest": latest,
        "review_list_url": reverse("admin:cases_review_changelist"),
        "case_list_url": reverse("admin:cases_case_changelist"),
        "overdue_list_url": reverse("admin:cases_case_changelist") + "?overdue=yes",
        "notice_list_url": reverse("admin:notices_notice_changelist") + "?read=unread",
        "extension_panels": [panel(request) for panel in slots.items("cases.workbench_panels")],
        "charts": workbench_charts.charts(user, period, now),  # small trend / distribution charts
    }


def install(site) -> None:
    """Make ``site``'s index the workbench for case users (called once, from cases.admin)."""
    if getattr(site, "_workbench_installed", False):
        return
    normal_index = site.index

    def index(request, extra_context=None):
        if not request.user.has_perm("cases.view_case"):
            return normal_index(request, extra_context)
        base = site.each_context(request)  # notices.admin adds unread_notice_count to it
        context = {**base, "title": "工作台", "subtitle": None,
                   **workbench_context(request, base.get("unread_notice_count")), **(extra_context or {})}
        request.current_app = site.name
        return TemplateResponse(request, "cases/workbench.html", context)

    site.index = index
    site._workbench_installed = True
