"""预警校准报告 admin page (under 案件预警): the colour distribution of the evaluated cases in the
user's scope by region, type and source with the deciding rules, and — with changed rules or
settings pasted as YAML — the same table after the change (``calibration.report``). Nothing is
written."""
from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse

from extensions.escalation import calibration

MAX_YAML = 20000


def calibration_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    text, error, replace = "", "", []
    if request.method == "POST":
        text = request.POST.get("rules", "")
        if len(text) > MAX_YAML:
            error = f"内容过长（最多 {MAX_YAML} 个字符）"
        elif not text.strip():
            error = "请先粘贴修改后的规则或参数（YAML），再对比修改前后"
        else:
            try:
                replace = calibration.rules_from_yaml(text)
            except ValueError as exc:
                error = str(exc)
    rep = calibration.report(user=request.user, replace=replace)
    changed = bool(replace)
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "预警校准报告", "opts": model_admin.model._meta, "levels": rep.levels, "changed": changed,
        "moved": rep.changed, "skipped": rep.skipped, "error": error, "rules_text": text,
        "overall": calibration.table_rows(rep, "", changed),
        "tables": [(label, calibration.table_rows(rep, dim, changed)) for dim, label in calibration.DIMENSIONS],
    }
    return TemplateResponse(request, "escalation/calibration.html", context)
