"""研判分析 › 常用分析视图 in the admin (the business admin's list of saved views: name, page,
filters; shipped ones show the difference from the shipped value and can be restored)."""
from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from analysis import saved
from analysis.models import SavedView
from lowcode.admin import CustomisedFilter, MetaRecordAdmin


@admin.register(SavedView)
class SavedViewAdmin(MetaRecordAdmin):
    list_display = ["name", "code", "page", "filters", "sort", "enabled", "open_link", "origin_state"]
    list_filter = ["page", "enabled", CustomisedFilter]
    search_fields = ["code", "name", "description"]
    fields = ["code", "name", "page", "params", "description", "sort", "enabled"]

    @admin.display(description="筛选条件")
    def filters(self, obj):
        return "，".join(f"{k}={v}" for k, v in (obj.params or {}).items()) or "—"

    @admin.display(description="打开")
    def open_link(self, obj):
        return format_html('<a href="{}">打开视图</a>', saved.link(obj, ""))
