"""Case screens: the generic metadata admin, scoped to the user's region, with parties inline."""
from __future__ import annotations

import re

from django.contrib import admin
from django.db.models import Q
from django.urls import path, reverse
from simple_history.admin import SimpleHistoryAdmin

from accounts.scope import InternalScreenMixin, regions_for, scope_queryset
from cases import admin_blocks, admin_handling, admin_workbench, summary, workbench
from cases.admin_library import CaseFileAdmin, archive_selected, tag_selected
from cases.admin_review import ReviewAdmin
from cases.forms import party_form_for
from cases.models import Case, CaseFile, Party, Review
from lowcode import slots
from lowcode.excel_admin import ExcelAdminMixin
from lowcode.modeladmin import MetaModelAdmin, ScopedAdminMixin, current_request, set_current_request
from lowcode.registry import get_meta
from orgs.models import Region
from orgs.widgets import region_formfield_kwargs
from secure import audit
from secure.crypto import blind_index, normalise

ID_LIKE = re.compile(r"^\d{17}[\dX]$")
PHONE_LIKE = re.compile(r"^(1\d{10}|0\d{9,11})$")
SENSITIVE_PERMISSION = "cases.view_sensitive_party"


def identity_lookup(term: str, prefix: str = "") -> dict | None:
    """A search term that is an ID number or a phone becomes an exact blind-index match
    (the values are encrypted; substring search on them is impossible by design)."""
    for kind, pattern in (("id_number", ID_LIKE), ("phone", PHONE_LIKE)):
        if pattern.match(normalise(term, kind)):
            audit.searched(kind, normalise(term, kind))  # a probe for a person: audited
            return {f"{prefix}{kind}_bidx": blind_index(term, kind)}
    return None


def case_types_named(term: str) -> list[str]:
    """Codes of the case types whose name contains ``term`` (the list's search box takes names)."""
    from lowcode.registry import get_dictionary

    term = (term or "").strip()
    if not term or len(term) > 50:
        return []
    return [code for code, item in get_dictionary("case_type").items() if term in item.label]


def can_see_sensitive(request) -> bool:
    return request.user.has_perm(SENSITIVE_PERMISSION)


class PartyInline(admin.TabularInline):
    model = Party
    extra = 1
    min_num = 1
    verbose_name = "当事人"
    verbose_name_plural = "当事人"

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = party_form_for(can_see_sensitive(request))
        return super().get_formset(request, obj, **kwargs)


class OverdueFilter(admin.SimpleListFilter):
    title = "是否超期"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "超期未办结"), ("no", "未超期")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(workbench.overdue_q())
        if self.value() == "no":
            return queryset.exclude(workbench.overdue_q())
        return queryset


@admin.register(Case)
class CaseAdmin(ExcelAdminMixin, MetaModelAdmin, SimpleHistoryAdmin):
    entity = "case"
    inlines = [PartyInline]
    list_select_related = ["region"]
    show_full_result_count = False
    actions = [tag_selected, archive_selected]

    def can_see_sensitive(self, request) -> bool:
        return can_see_sensitive(request)

    @property
    def search_help_text(self) -> str:
        return super().search_help_text + "、案件类型名称，或完整证件号码、手机号"

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request))

    def get_readonly_fields(self, request, obj=None):
        return ["exchange_id"] if obj is not None else []

    def get_formset_kwargs(self, request, obj, inline, prefix):
        kwargs = super().get_formset_kwargs(request, obj, inline, prefix)
        if isinstance(inline, PartyInline) and (obj is None or obj.pk is None):
            kwargs["initial"] = [{"role": "applicant"}, {"role": "respondent"}]  # a new case: both sides
        return kwargs

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None:
            fieldsets[0][1]["fields"] = ["exchange_id", *fieldsets[0][1]["fields"]]
        return fieldsets

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = regions_for(request.user).filter(level__gte=Region.CASE_LEVEL)
            region_formfield_kwargs(kwargs)  # the searchable region tree
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        if request.user.region_id and request.user.region.holds_cases:
            initial.setdefault("region", request.user.region_id)
        return initial

    def save_model(self, request, obj, form, change):
        if not change:
            obj.registrant = request.user
            obj.organization = obj.organization or request.user.organization
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        if formset.model is Party:
            case = form.instance
            count = case.parties.count()
            if count > case.party_count:
                Case.objects.filter(pk=case.pk).update(party_count=count)

    def get_search_results(self, request, queryset, search_term):
        found = identity_lookup(search_term, "parties__")
        if found is None:
            matched, dup = super().get_search_results(request, queryset, search_term)
            types = case_types_named(search_term)  # "欠薪" finds the 欠薪 cases
            if not types:
                return matched, dup
            return queryset.filter(Q(pk__in=matched.values("pk")) | Q(case_type__in=types)), dup
        # the number may also be the value of a case's own field (e.g. a sensitive 联系电话)
        also, _ = super().get_search_results(request, queryset, search_term)
        return (queryset.filter(**found) | also).distinct(), True

    # extensions' columns and filters (e.g. 预警等级) come through the slots declared in cases.apps
    def get_list_filter(self, request):
        return [*super().get_list_filter(request), OverdueFilter, *slots.items("cases.list_filters")]

    def get_list_display(self, request):
        return [*super().get_list_display(request), *slots.items("cases.list_columns")]

    def get_list_select_related(self, request):
        return [*self.list_select_related, *slots.items("cases.list_select_related")]

    # -- detail page: handling records below the layout, and the handling buttons --------
    def detail_extra_blocks(self, request, obj):
        return (admin_blocks.handling_blocks(obj, can_see_sensitive(request))
                + admin_blocks.extension_blocks(request, obj))

    def detail_view(self, request, object_id):
        response = super().detail_view(request, object_id)
        response.template_name = "cases/case_detail.html"
        case = response.context_data["original"]
        response.context_data.update(admin_handling.detail_handling(request, case))
        response.context_data["summary_flags"] = summary.flags_for(request, case)
        # 打标 / 归档 as buttons: the list's bulk actions applied to this one case
        allowed = self.has_change_permission(request, case)
        response.context_data.update(case_actions=[(name, label) for name, label in
                                                   (("tag_selected", "打标签"), ("archive_selected", "归档"))
                                                   if allowed],
                                     changelist_url=reverse("admin:cases_case_changelist"))
        return response

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        wrap = self.admin_site.admin_view
        return [
            path("<path:object_id>/transition/", wrap(lambda request, object_id:
                                                      admin_handling.transition_view(self, request, object_id)),
                 name="%s_%s_transition" % info),
            path("<path:object_id>/handle/", wrap(lambda request, object_id:
                                                  admin_handling.handle_view(self, request, object_id)),
                 name="%s_%s_handle" % info),
        ] + super().get_urls()


@admin.register(Party)
class PartyAdmin(InternalScreenMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "role_label", "masked_id_number", "masked_phone", "case"]
    search_fields = ["name"]
    list_select_related = ["case"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # parties are registered with their case

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request), "case__region_path")

    def get_readonly_fields(self, request, obj=None):
        return ["case"]  # a party belongs to its case; never a drop-down of every case

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "case":
            kwargs["queryset"] = scope_queryset(request.user, Case.objects.all())
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = party_form_for(can_see_sensitive(request))
        return super().get_form(request, obj, change, **kwargs)

    def get_search_results(self, request, queryset, search_term):
        found = identity_lookup(search_term)
        if found is not None:
            return queryset.filter(**found), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="当事人类型")
    def role_label(self, obj):
        pm = get_meta("party")
        return pm.display_value(pm.fields["role"], obj.role) if "role" in pm.fields else obj.role

    def _masked(self, obj, name):
        request = current_request()
        value = getattr(obj, name)
        return audit.shown(obj, value, name, request is not None and can_see_sensitive(request))

    @admin.display(description="证件号码")
    def masked_id_number(self, obj):
        return self._masked(obj, "id_number")

    @admin.display(description="联系电话")
    def masked_phone(self, obj):
        return self._masked(obj, "phone")

    def changelist_view(self, request, extra_context=None):
        set_current_request(request)
        return super().changelist_view(request, extra_context)


admin.site.register(Review, ReviewAdmin)
admin.site.register(CaseFile, CaseFileAdmin)
admin_workbench.install(admin.site)
