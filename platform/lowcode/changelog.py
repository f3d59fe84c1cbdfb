"""元数据变更记录: one list of every metadata change across record kinds (who, when, what,
old → new), newest first, linking to each record's history where it can be rolled back.

Every registered metadata kind (``lowcode.metakinds``) whose model keeps simple-history is
listed: registering a kind is all it takes, and the engine never imports the domain models."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from lowcode import metakinds

TYPE_LABELS = {"+": "新增", "~": "修改", "-": "删除"}
PAGE_SIZE = 50


def tracked_models() -> list:
    return [m for m in metakinds.metadata_models() if hasattr(m, "history")]


def _can_view(user, model) -> bool:
    return user.has_perm(f"{model._meta.app_label}.view_{model._meta.model_name}")


@dataclass
class Change:
    when: datetime
    user: str
    kind: str
    record: str
    action: str
    reason: str
    changes: list[tuple[str, str, str]]
    history_url: str


def _describe(model, record) -> list[tuple[str, str, str]]:
    if record.history_type != "~":
        return []
    previous = record.prev_record
    if previous is None:
        return []
    delta = record.diff_against(previous, excluded_fields=["updated_at", "shipped", "origin"])
    return [(str(model._meta.get_field(c.field).verbose_name), str(c.old), str(c.new)) for c in delta.changes]


def recent_changes(user, limit: int = 500) -> list[tuple]:
    rows = []
    for model in tracked_models():
        if not _can_view(user, model):
            continue
        for record in model.history.select_related("history_user").order_by("-history_date")[:limit]:
            rows.append((record.history_date, model, record))
    rows.sort(key=lambda r: r[0], reverse=True)
    return rows[:limit]


def changelog_view(request):
    if not any(_can_view(request.user, m) for m in tracked_models()):
        raise PermissionDenied
    page = Paginator(recent_changes(request.user), PAGE_SIZE).get_page(request.GET.get("p"))
    changes = []
    for when, model, record in page.object_list:
        try:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_history", args=[record.id])
        except NoReverseMatch:
            url = ""
        changes.append(Change(when, str(record.history_user or "系统"), str(model._meta.verbose_name),
                              str(record.instance), TYPE_LABELS.get(record.history_type, ""),
                              record.history_change_reason or "", _describe(model, record), url))
    return TemplateResponse(request, "lowcode/changelog.html", {
        **admin.site.each_context(request), "title": "元数据变更记录", "changes": changes, "page": page})
