"""Admin screens of 升级预警.

业务配置 (metadata, history, shipped-vs-local like the engine's metadata): 预警等级, 预警规则,
预警关键词, 预警阈值与参数 — the rule, setting and keyword forms have a 「预览」 button that shows,
before saving, how many cases (people) in the admin's scope each colour would hold.
Results (read-only, row-scoped, open to everyone who may view cases): 案件预警, 案件预警记录,
当事人预警名单 (filter, Excel export masked by permission, link to the person's archive).
Register: 重点人员 with 稳控化解日志."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from accounts.scope import internal_staff, regions_for, scope_q
from extensions.escalation import config as config_mod
from extensions.escalation.admin_keywork import KeyPersonVisitInline  # 走访, 待核查线索 (registers its admin)
from extensions.escalation.facts import CASE_FACTS, PARTY_FACTS
from extensions.escalation.models import (CaseWarning, KeyPerson, PartyWarning, PersonCase, StabilisationLog,
                                          WarningEvent, WarningKeyword, WarningLevel, WarningRule, WarningSetting)
from lowcode.admin import CustomisedFilter, MetaRecordAdmin, PreviewChangeFormMixin
from lowcode.modeladmin import ScopedAdminMixin
from lowcode.registry import format_when
from orgs.widgets import region_formfield_kwargs
from secure import audit
from secure.masking import mask

SENSITIVE = "cases.view_sensitive_party"


def badge(cfg: config_mod.Config, key: str):
    lv = cfg.level(key)
    return format_html('<span class="badge mdtj-warning" style="background:{};color:#fff">{}</span>', lv.color, lv.label)


def reasons_html(reasons) -> str:
    return format_html_join("", "<div>{}</div>", ((r,) for r in reasons or [])) or "—"


# --- metadata ------------------------------------------------------------------------------------
class PreviewAdminMixin(PreviewChangeFormMixin):
    """「预览」 of a rule, keyword or setting: the colour counts it would give in the admin's scope."""

    change_form_template = "escalation/metadata_change_form.html"

    def preview(self, request, instance):
        from extensions.escalation.preview import preview

        return preview(request.user, instance)

    def preview_extra_context(self, request) -> dict:
        names = sorted(WarningSetting.objects.values_list("name", "value"))
        return {"fact_help": {"case": CASE_FACTS, "party": PARTY_FACTS, "settings": names}}


@admin.register(WarningLevel)
class WarningLevelAdmin(MetaRecordAdmin):
    list_display = ["label", "colour", "order", "responsible", "lead_level", "leader", "notify", "origin_state"]
    list_filter = [CustomisedFilter]

    @admin.display(description="颜色")
    def colour(self, obj):
        return format_html('<span class="badge" style="background:{};color:#fff">{}</span>', obj.color, obj.color)


@admin.register(WarningRule)
class WarningRuleAdmin(PreviewAdminMixin, MetaRecordAdmin):
    list_display = ["name", "target", "condition", "level", "priority", "window_days", "enabled", "origin_state"]
    list_filter = ["target", "level", "enabled", CustomisedFilter]
    search_fields = ["code", "name", "condition"]
    list_editable = []


@admin.register(WarningKeyword)
class WarningKeywordAdmin(PreviewAdminMixin, MetaRecordAdmin):
    list_display = ["word", "category", "enabled", "origin_state"]
    list_filter = ["category", "enabled", CustomisedFilter]
    search_fields = ["word"]


@admin.register(WarningSetting)
class WarningSettingAdmin(PreviewAdminMixin, MetaRecordAdmin):
    list_display = ["name", "value", "description", "origin_state"]
    list_filter = [CustomisedFilter]


# --- results -------------------------------------------------------------------------------------
class CaseViewerMixin(ScopedAdminMixin):
    """Read-only result screens for whoever may view cases, within their scope."""

    scope_path = "case__region_path"

    def has_module_permission(self, request):
        return internal_staff(request.user) and request.user.has_perm("cases.view_case")

    def has_view_permission(self, request, obj=None):
        return internal_staff(request.user) and request.user.has_perm("cases.view_case")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        q = scope_q(request.user, self.scope_path, qs.model)
        return qs if q is None else qs.filter(q)


class LevelFilter(admin.SimpleListFilter):
    title = "预警等级"
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [(lv.key, lv.label) for lv in sorted(config_mod.load().levels.values(), key=lambda lv: lv.order)]

    def queryset(self, request, queryset):
        return queryset.filter(level=self.value()) if self.value() else queryset


@admin.register(CaseWarning)
class CaseWarningAdmin(CaseViewerMixin, admin.ModelAdmin):
    list_display = ["case_link", "colour", "reason_list", "region_name", "changed_at"]
    list_filter = [LevelFilter]
    search_fields = ["case__title", "case__exchange_id"]
    list_select_related = ["case", "case__region"]
    ordering = ["-changed_at"]

    def changelist_view(self, request, extra_context=None):
        self._cfg = config_mod.load()
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        from extensions.escalation.admin_calibration import calibration_view

        return [path("calibration/", self.admin_site.admin_view(lambda request: calibration_view(self, request)),
                     name="escalation_casewarning_calibration")] + super().get_urls()

    @admin.display(description="案件")
    def case_link(self, obj):
        return format_html('<a href="{}">{} {}</a>', reverse("admin:cases_case_detail", args=[obj.case_id]),
                           obj.case.exchange_id, obj.case.title)

    @admin.display(description="预警等级", ordering="level")
    def colour(self, obj):
        return badge(getattr(self, "_cfg", None) or config_mod.load(), obj.level)

    @admin.display(description="预警原因")
    def reason_list(self, obj):
        return reasons_html(obj.reasons)

    @admin.display(description="所属区域")
    def region_name(self, obj):
        return obj.case.region.name


@admin.register(WarningEvent)
class WarningEventAdmin(CaseViewerMixin, admin.ModelAdmin):
    list_display = ["created_at", "case_link", "change", "rule_name", "reason_list", "notified"]
    list_filter = [LevelFilter]
    search_fields = ["case__title", "case__exchange_id"]
    list_select_related = ["case"]

    @admin.display(description="案件")
    def case_link(self, obj):
        return format_html('<a href="{}">{} {}</a>', reverse("admin:cases_case_detail", args=[obj.case_id]),
                           obj.case.exchange_id, obj.case.title)

    @admin.display(description="颜色变化")
    def change(self, obj):
        cfg = config_mod.load()
        return format_html("{} → {}", badge(cfg, obj.from_level) if obj.from_level else "—", badge(cfg, obj.to_level))

    @admin.display(description="预警原因")
    def reason_list(self, obj):
        return reasons_html(obj.reasons)


class IdentityFilter(admin.SimpleListFilter):
    title = "识别依据"
    parameter_name = "identity"

    def lookups(self, request, model_admin):
        return PartyWarning.IDENTITIES

    def queryset(self, request, queryset):
        return queryset.filter(identity=self.value()) if self.value() else queryset


@admin.register(PartyWarning)
class PartyWarningAdmin(CaseViewerMixin, admin.ModelAdmin):
    """预警名单. A person is listed to a user when one of their cases is in the user's scope."""

    list_display = ["name", "masked_id", "masked_phone", "identity", "colour", "reason_list", "archive_link",
                    "evaluated_at"]
    list_filter = [LevelFilter, IdentityFilter]
    search_fields = ["name"]
    list_select_related = ["party"]
    actions = ["export_xlsx"]
    change_list_template = "escalation/partywarning_change_list.html"

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        q = scope_q(request.user, "case__region_path", PersonCase)
        if q is None:
            return qs
        return qs.filter(Exists(PersonCase.objects.filter(q, person_key=OuterRef("person_key"))))

    def get_urls(self):
        urls = super().get_urls()
        info = self.opts.app_label, self.opts.model_name
        return [path("<path:object_id>/archive/", self.admin_site.admin_view(self.archive_view),
                     name="%s_%s_archive" % info),
                path("export/", self.admin_site.admin_view(self.export_view), name="%s_%s_export" % info)] + urls

    def changelist_view(self, request, extra_context=None):
        self._cfg = config_mod.load()
        return super().changelist_view(request, extra_context)

    def _value(self, request, obj, attr, kind):
        value = getattr(obj.party, attr, "") if obj.party_id else ""
        return audit.shown(obj.party if obj.party_id else obj, value, kind, request.user.has_perm(SENSITIVE))

    @admin.display(description="证件号码")
    def masked_id(self, obj):
        return self._value(self._request, obj, "id_number", "id_number") or "—"

    @admin.display(description="联系电话")
    def masked_phone(self, obj):
        return self._value(self._request, obj, "phone", "phone") or "—"

    def get_list_display(self, request):
        self._request = request
        return super().get_list_display(request)

    @admin.display(description="预警等级", ordering="level")
    def colour(self, obj):
        return badge(getattr(self, "_cfg", None) or config_mod.load(), obj.level)

    @admin.display(description="预警原因")
    def reason_list(self, obj):
        return reasons_html(obj.reasons)

    @admin.display(description="档案")
    def archive_link(self, obj):
        return format_html('<a href="{}">同人案件</a>', reverse("admin:escalation_partywarning_archive", args=[obj.pk]))

    # -- 同人不同案: the person's cases within the user's scope ---------------------------------
    def archive_view(self, request, object_id):
        from cases.models import Case
        from extensions.escalation.models import CaseWarning

        if not self.has_view_permission(request):
            raise PermissionDenied
        pw = self.get_queryset(request).filter(pk=object_id).select_related("party").first() if str(object_id).isdigit() else None
        if pw is None:
            raise Http404("记录不存在或无权访问")
        q = scope_q(request.user, "region_path", Case)
        cases = Case.objects.filter(pk__in=PersonCase.objects.filter(person_key=pw.person_key).values("case_id"))
        if q is not None:
            cases = cases.filter(q)
        cases = list(cases.select_related("region").order_by("-registered_at"))
        levels = dict(CaseWarning.objects.filter(case__in=cases).values_list("case_id", "level"))
        cfg = config_mod.load()
        from cases.admin_blocks import label

        rows = [{"case": c, "url": reverse("admin:cases_case_detail", args=[c.pk]),
                 "type": label("case_type", c.case_type), "status": label("case_status", c.status),
                 "registered_at": format_when(c.registered_at), "region": c.region.name,
                 "colour": badge(cfg, levels[c.pk]) if c.pk in levels else "—"} for c in cases]
        context = {**self.admin_site.each_context(request), "title": f"{pw.name} 的案件（同人不同案）",
                   "opts": self.opts, "person": pw, "colour": badge(cfg, pw.level), "rows": rows,
                   "masked_id": self._value(request, pw, "id_number", "id_number"),
                   "masked_phone": self._value(request, pw, "phone", "phone")}
        return TemplateResponse(request, "escalation/person_archive.html", context)

    # -- Excel export ----------------------------------------------------------------------------
    @admin.action(description="导出所选到 Excel")
    def export_xlsx(self, request, queryset):
        return self._export(request, queryset)

    def export_view(self, request):
        """导出当前列表（已应用的筛选与搜索）."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        from django.contrib.admin.options import IncorrectLookupParameters
        from django.shortcuts import redirect

        try:
            cl = self.get_changelist_instance(request)
            queryset = cl.get_queryset(request)
        except IncorrectLookupParameters:
            messages.error(request, "筛选条件无效，请在列表中重新筛选后再导出")
            return redirect("admin:escalation_partywarning_changelist")
        return self._export(request, queryset)

    def _export(self, request, queryset):
        from extensions.escalation.export import party_warnings_xlsx

        see = request.user.has_perm(SENSITIVE)
        response = party_warnings_xlsx(queryset.select_related("party"), see, config_mod.load(), user=request.user)
        audit.export(request, "当事人预警名单", rows=queryset.count(),
                     unmasked_fields=("id_number", "phone") if see else ())
        return response


# --- 重点人员 --------------------------------------------------------------------------------------
class StabilisationLogInline(admin.TabularInline):
    """Whoever may edit the 重点人 may keep their 稳控化解日志 (same rights as the parent)."""

    model = StabilisationLog
    extra = 1
    fields = ["occurred_at", "content"]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("cases.view_case")

    def has_add_permission(self, request, obj=None):
        return KeyPersonAdmin._handles(request)

    def has_change_permission(self, request, obj=None):
        return KeyPersonAdmin._handles(request)

    def has_delete_permission(self, request, obj=None):
        return KeyPersonAdmin._handles(request)


def key_person_form(see_sensitive: bool):
    class KeyPersonForm(forms.ModelForm):
        """Without the sensitive-data permission the stored ID number and phone are shown masked;
        a masked value posted back unchanged keeps the stored one."""

        class Meta:
            model = KeyPerson
            fields = ["name", "id_number", "phone", "reason", "region", "active"]

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.instance.pk:
                for name in ("id_number", "phone"):  # masked, or in full and audited
                    self.initial[name] = audit.shown(self.instance, getattr(self.instance, name), name, see_sensitive)

        def _keep(self, name):
            value = (self.cleaned_data.get(name) or "").strip()
            if self.instance.pk and not see_sensitive and value == mask(getattr(self.instance, name), name):
                return getattr(self.instance, name)
            return value

        def clean_id_number(self):
            return self._keep("id_number")

        def clean_phone(self):
            return self._keep("phone")

    return KeyPersonForm


@admin.register(KeyPerson)
class KeyPersonAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["name", "masked_id", "masked_phone", "reason", "region", "active", "created_at"]
    list_filter = ["active"]
    search_fields = ["name", "reason"]
    inlines = [StabilisationLogInline, KeyPersonVisitInline]  # 走访: admin_keywork

    def has_module_permission(self, request):
        return internal_staff(request.user) and request.user.has_perm("cases.view_case")

    def has_view_permission(self, request, obj=None):
        return internal_staff(request.user) and request.user.has_perm("cases.view_case")

    @staticmethod
    def _handles(request) -> bool:
        # registering people needs case handling rights and a place in the region tree
        return request.user.has_perm("cases.change_case") and (
            request.user.is_superuser or getattr(request.user, "region_id", None) is not None)

    def has_add_permission(self, request):
        return self._handles(request)

    def has_change_permission(self, request, obj=None):
        return self._handles(request)

    def has_delete_permission(self, request, obj=None):
        return self._handles(request) and request.user.has_perm("cases.delete_case")

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("region")
        q = scope_q(request.user, "region_path", KeyPerson)
        return qs if q is None else qs.filter(q)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "region":
            kwargs["queryset"] = regions_for(request.user)
            region_formfield_kwargs(kwargs)  # the searchable region tree
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = key_person_form(request.user.has_perm(SENSITIVE))
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        from extensions.escalation.subscribers import key_person_changed

        transaction.on_commit(lambda: key_person_changed(obj))

    def delete_model(self, request, obj):
        from extensions.escalation.subscribers import key_person_changed

        obj.active = False  # recompute as released: the same cases and people lose the fact
        super().delete_model(request, obj)
        transaction.on_commit(lambda: key_person_changed(obj))

    def delete_queryset(self, request, queryset):
        for obj in list(queryset):
            self.delete_model(request, obj)

    def save_formset(self, request, form, formset, change):
        for inst in formset.save(commit=False):
            if inst.created_by_id is None:
                inst.created_by = request.user
            inst.save()
        for inst in formset.deleted_objects:
            inst.delete()

    @admin.display(description="证件号码")
    def masked_id(self, obj):
        return mask(obj.id_number, "id_number")

    @admin.display(description="联系电话")
    def masked_phone(self, obj):
        return mask(obj.phone, "phone")
