"""Hand-written baselines for the case-list benchmark: plain ``django.contrib.admin.ModelAdmin``
classes for Case, each on its own AdminSite (a model registers once per site), mounted only by
``bench_urls``. They render the same query as the metadata-driven CaseAdmin — same 7 columns,
same scope filter, same ordering, 20 rows, the full-count query off — with one list filter
(b1, b2), or (b3, information only) with the same seven filters the metadata list shows.

The bench sites show the real site's navigation (``get_app_list`` delegates to ``admin.site``),
so the page chrome (jazzmin side menu) is the same size on both sides of the comparison.
"""
from __future__ import annotations

import yaml
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model

from accounts.scope import scope_queryset
from cases.models import Case

COLUMNS = ["exchange_id", "title", "case_type", "status", "region", "party_count", "registered_at"]


class BenchSite(admin.AdminSite):
    site_header = "矛盾纠纷调处研判系统"
    site_title = "矛调研判"
    index_title = "工作台"

    def get_app_list(self, request, app_label=None):
        return admin.site.get_app_list(request, app_label)


class PlainCaseAdmin(admin.ModelAdmin):
    """What a developer writes by hand: plain field names and ``list_filter = ["case_type"]``
    (Django picks AllValuesFieldListFilter: one SELECT DISTINCT over the scoped rows)."""

    list_display = COLUMNS
    list_select_related = ["region"]
    list_filter = ["case_type"]
    ordering = ["-registered_at"]
    list_per_page = 20
    show_full_result_count = False  # as CaseAdmin

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request))


def _dictionary(code: str) -> list[tuple[str, str]]:
    """A dictionary's items as a developer would hard-code them (read once, at import)."""
    docs = yaml.safe_load((settings.BASE_DIR / "metadata" / "dictionaries.yaml").read_text(encoding="utf-8"))
    for d in docs:
        if d["code"] == code:
            return [(i["code"], i.get("label", i["code"])) for i in d.get("items", [])]
    return []


def static_filter(field: str, title: str, dictionary: str, lookup: str = "") -> type:
    """A SimpleListFilter with hard-coded choices; ``lookup`` (default: the field itself)
    turns the chosen value into the queryset filter."""

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(**({lookup: [value]} if lookup else {field: value}))

    return type(f"{field.title()}Filter", (admin.SimpleListFilter,), {
        "title": title, "parameter_name": field, "CHOICES": _dictionary(dictionary),
        "lookups": lambda self, request, model_admin: self.CHOICES, "queryset": queryset})


CaseTypeFilter = static_filter("case_type", "案件类型", "case_type")


class StaticFilterCaseAdmin(PlainCaseAdmin):
    """Same, with the case-type filter's choices hard-coded (no DISTINCT query): the fastest
    hand-written equivalent, used as the baseline of the ratio."""

    list_filter = [CaseTypeFilter]


class GroupDisputeFilter(admin.SimpleListFilter):
    title = "群体性纠纷"
    parameter_name = "group_dispute"

    def lookups(self, request, model_admin):
        return [("1", "是"), ("0", "否")]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(extra__group_dispute=True)
        if self.value() == "0":
            return queryset.exclude(extra__group_dispute=True)
        return queryset


class SameFiltersCaseAdmin(PlainCaseAdmin):
    """Like-for-like page (information only): the same 7 filters the metadata list shows
    (ListView filters + in_standard_filter fields), hand-written, plus the same search box."""

    list_filter = [
        CaseTypeFilter,
        static_filter("status", "案件状态", "case_status"),
        static_filter("mediation_type", "调解类型", "mediation_type"),
        static_filter("source", "案件来源", "event_source"),
        static_filter("tags", "案件标签", "case_tag", lookup="tags__contains"),
        "registered_at",
        GroupDisputeFilter,
    ]
    search_fields = ["exchange_id", "title", "description", "address"]


plain_site = BenchSite(name="bench_plain")
plain_site.register(Case, PlainCaseAdmin)

static_site = BenchSite(name="bench_static")
static_site.register(Case, StaticFilterCaseAdmin)

same_site = BenchSite(name="bench_same")
same_site.register(Case, SameFiltersCaseAdmin)

# jazzmin's user menu reverses admin:accounts_user_change in the current site; without it
# every bench page would log "Could not reverse url" twice (an unfair extra cost).
for _site in (plain_site, static_site, same_site):
    _site.register(get_user_model(), admin.ModelAdmin)
