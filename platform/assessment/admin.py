"""Admin screens of 考核评价.

业务配置: 考核指标 (metadata: history, shipped-vs-local, 「预览（不保存）」 showing last month's
ranking with the edited indicator beside the current one).
Results: 考核快照 (read-only; rows through the ranking screens), 已关闭期间重算记录.
Entered: 加减分项 (evidence; approved one level up), 疑似凑数案件 (review: clear → counts again)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.scope import region_prefix, scope_q
from assessment import facts as facts_mod
from assessment.models import (Adjustment, Indicator, MediatorProfile, PaddingFlag, RecomputeLog, Snapshot,
                               TrainingRecord)
from lowcode.admin import CustomisedFilter, MetaRecordAdmin, PreviewChangeFormMixin
from lowcode.modeladmin import ScopedAdminMixin


@admin.register(Indicator)
class IndicatorAdmin(PreviewChangeFormMixin, MetaRecordAdmin):
    list_display = ["name", "code", "dimension", "formula", "weight", "direction", "normalisation", "target", "cap",
                    "period", "enabled", "origin_state"]
    list_filter = ["dimension", "enabled", "normalisation", CustomisedFilter]
    search_fields = ["code", "name", "formula"]
    change_form_template = "assessment/indicator_change_form.html"

    def preview(self, request, instance):
        from assessment.preview import preview

        return preview(request.user, instance)

    def preview_extra_context(self, request) -> dict:
        return {"fact_help": {label: [(f.label, f.help) for f in facts_mod.for_dimension(code)]
                              for code, label in [("mediator", "调解员 / 社区 / 街道"), ("dept", "部门"), ("third", "第三方")]}}


class ReadOnlyMixin:
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Snapshot)
class SnapshotAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["__str__", "period_key", "dimension", "status", "unit_count", "computed_at", "computed_by",
                    "recomputed", "seconds", "ranking_link"]
    list_filter = ["dimension", "period_kind", "status"]
    list_display_links = None

    @admin.display(description="排名")
    def ranking_link(self, obj):
        return format_html('<a href="{}?period={}">查看排名</a>', reverse("assessment:ranking", args=[obj.dimension]),
                           obj.period_key)


@admin.register(RecomputeLog)
class RecomputeLogAdmin(ReadOnlyMixin, admin.ModelAdmin):
    list_display = ["snapshot", "at", "user", "reason", "changed_units"]
    list_filter = ["snapshot__dimension"]


class AdjustmentForm(forms.ModelForm):
    class Meta:
        model = Adjustment
        fields = ["dimension", "unit_key", "unit_name", "period_key", "points", "reason", "evidence"]

    def clean_points(self):
        v = self.cleaned_data["points"]
        if v is None or not (-20 <= v <= 20) or v == 0:
            raise forms.ValidationError("单项分值须在 -20 至 20 之间且不为 0")
        return v

    def clean_period_key(self):
        from assessment import periods

        try:
            return periods.parse_checked(self.cleaned_data["period_key"]).key
        except periods.PeriodError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        from assessment.compute import units

        dim, key = data.get("dimension"), (data.get("unit_key") or "").strip()
        if dim and key:
            unit = units(dim, extra_keys=[key] if dim == "mediator" and key.isdigit() else ()).get(key)
            if unit is None:
                self.add_error("unit_key", "没有该考核对象（调解员填用户编号，社区/街道填区域编号，部门/第三方填组织编号）")
            else:
                data["unit_name"] = unit.name
                self.instance.region_path = unit.region_path
                self.instance.unit_name = unit.name
        return data


@admin.register(Adjustment)
class AdjustmentAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """加减分项: entered with evidence within one's scope; approved by a user of a higher level
    (fewer path segments) whose scope contains the unit — never by the person who entered it."""

    form = AdjustmentForm
    list_display = ["unit_name", "dimension", "period_key", "points", "reason", "status", "entered_by", "decided_by"]
    list_filter = ["status", "dimension"]
    readonly_fields = ["unit_name", "status", "entered_by", "decided_by", "decided_at", "opinion"]
    actions = ["approve", "reject"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        q = scope_q(request.user, "region_path", qs.model)
        return qs if q is None else qs.filter(q)

    def save_model(self, request, obj, form, change):
        prefix = region_prefix(request.user)
        if prefix is not None and not obj.region_path.startswith(prefix):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        if not change:
            obj.entered_by = request.user
        obj.status, obj.decided_by, obj.decided_at = "pending", None, None
        super().save_model(request, obj, form, change)

    def _decide(self, request, queryset, status):
        prefix = region_prefix(request.user)
        done = refused = 0
        for adj in queryset.filter(status="pending"):
            higher = request.user.is_superuser or (
                prefix is not None and adj.region_path.startswith(prefix) and adj.region_path != prefix
                and adj.entered_by_id != request.user.pk)
            if not higher:
                refused += 1
                continue
            adj.status, adj.decided_by, adj.decided_at = status, request.user, timezone.now()
            adj.save(update_fields=["status", "decided_by", "decided_at"])
            done += 1
        messages.success(request, f"已处理 {done} 条")
        if refused:
            messages.warning(request, f"{refused} 条须由上一级审核（不能审核本级或本人录入的加减分）")

    @admin.action(description="审核通过所选加减分", permissions=["change"])
    def approve(self, request, queryset):
        self._decide(request, queryset, "approved")

    @admin.action(description="驳回所选加减分", permissions=["change"])
    def reject(self, request, queryset):
        self._decide(request, queryset, "rejected")


@admin.register(PaddingFlag)
class PaddingFlagAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ["case_link", "similar_link", "person", "similarity", "status", "flagged_at", "reviewed_by"]
    list_filter = ["status"]
    list_select_related = ["case", "similar_to", "person", "reviewed_by"]
    actions = ["clear"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        q = scope_q(request.user, "region_path", qs.model)
        return qs if q is None else qs.filter(q)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in PaddingFlag._meta.fields]

    @admin.display(description="案件")
    def case_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[obj.case_id]),
                           obj.case.exchange_id)

    @admin.display(description="相似案件")
    def similar_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("admin:cases_case_change", args=[obj.similar_to_id]),
                           obj.similar_to.exchange_id)

    @admin.action(description="复核：不是凑数（重新计分）", permissions=["change"])
    def clear(self, request, queryset):
        n = queryset.filter(status="flagged").update(status="cleared", reviewed_by=request.user,
                                                     reviewed_at=timezone.now())
        messages.success(request, f"已复核 {n} 件，下次计算起计分")


class RosterScopeMixin(ScopedAdminMixin):
    """The roster and training records of the mediators in one's region subtree."""

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user")
        q = scope_q(request.user, "region_path", qs.model)
        return qs if q is None else qs.filter(q)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            from accounts.models import User

            users = User.objects.filter(is_active=True, region__isnull=False)
            q = scope_q(request.user, "region__path", User)
            kwargs["queryset"] = users if q is None else users.filter(q)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(MediatorProfile)
class MediatorProfileAdmin(RosterScopeMixin, admin.ModelAdmin):
    list_display = ["user", "specialty", "qualification", "hours_this_year"]
    search_fields = ["user__display_name", "user__username", "specialty", "qualification"]

    @admin.display(description="本年培训学时")
    def hours_this_year(self, obj):
        from django.db.models import Sum

        total = obj.user.training_records.filter(held_on__year=timezone.localdate().year).aggregate(t=Sum("hours"))["t"]
        return total or 0


@admin.register(TrainingRecord)
class TrainingRecordAdmin(RosterScopeMixin, admin.ModelAdmin):
    list_display = ["user", "title", "held_on", "hours", "organiser"]
    list_filter = ["held_on"]
    search_fields = ["user__display_name", "title", "organiser"]
    date_hierarchy = "held_on"
