"""对接外部系统 in the admin (district admin): each outside system's configuration and status
(last success / last error / counts), an audited 「测试连接」, the 政钉 sync (「立即同步」 and its
runs), the organisation mapping rules, account bindings, work-notice deliveries (「立即重试」) and
the 天地图 results awaiting review (「采纳并加入统一地址库」)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db import models

from accounts.scope import regions_for, scope_queryset
from integrations import connection
from integrations.models import (ExternalAccount, ExternalOrg, ExternalSystem, GeocodeResult, OrgMapping,
                                 SyncRun, WorkNotice)


@admin.register(ExternalSystem)
class ExternalSystemAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "kind", "enabled", "secret_state", "last_success_at", "last_error_at",
                    "last_error", "success_count", "error_count"]
    list_filter = ["kind", "enabled"]
    fieldsets = [
        (None, {"fields": ["code", "name", "kind", "end", "enabled"]}),
        ("连接", {"fields": ["base_url", "login_url", "token_url", "userinfo_url", "app_key", "secret_env",
                           "secret_state", "tenant_id", "user_id_field"],
                  "description": "密钥不保存在系统中：由运维在服务器上设置环境变量，这里只填变量名。"}),
        ("调用控制", {"fields": ["timeout_seconds", "retries", "rate_per_minute"]}),
        ("状态", {"fields": ["last_success_at", "last_error_at", "last_error", "success_count", "error_count"]}),
    ]
    readonly_fields = ["secret_state", "last_success_at", "last_error_at", "last_error", "success_count",
                       "error_count"]
    actions = ["test_connection", "sync_now"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="密钥")
    def secret_state(self, obj):
        if obj is None or not obj.secret_env:
            return "未填写环境变量名"
        return f"环境变量 {obj.secret_env} " + ("已设置" if obj.secret_configured else "未设置")

    @admin.action(description="测试连接（记入安全审计日志）", permissions=["change"])
    def test_connection(self, request, queryset):
        for system in queryset:
            ok, text = connection.test(system, request)
            (messages.success if ok else messages.error)(request, f"{system.name}：{text}")

    @admin.action(description="立即同步政钉组织与人员", permissions=["change"])
    def sync_now(self, request, queryset):
        from integrations import sync

        for system in queryset.filter(kind=ExternalSystem.ZZD):
            run = sync.run(system)
            if run.ok:
                messages.success(request, f"{system.name}：组织 {run.orgs} 个，新增人员 {run.users_new}，"
                                          f"更新 {run.users_updated}，未变 {run.users_unchanged}。新增人员没有角色，请在“用户”中分配。")
            else:
                messages.error(request, f"{system.name}：同步未成功：{run.message}")


class RegionScopedForm(forms.ModelForm):
    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        if request is not None and "region" in self.fields:
            self.fields["region"].queryset = regions_for(request.user)


class ScopedFormMixin:
    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class Bound(form):
            def __init__(self, *a, **kw):
                super().__init__(*a, request=request, **kw)
        return Bound


class OrgMappingForm(RegionScopedForm):
    class Meta:
        model = OrgMapping
        fields = ["system", "org_code", "org_name", "region", "organization"]

    def clean(self):
        data = super().clean()
        if not data.get("region") and not data.get("organization"):
            raise forms.ValidationError("请选择归属区域或归属组织（至少一项）")
        return data


@admin.register(OrgMapping)
class OrgMappingAdmin(ScopedFormMixin, admin.ModelAdmin):
    form = OrgMappingForm
    list_display = ["org_name", "org_code", "region", "organization", "system"]
    search_fields = ["org_name", "org_code"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("region", "organization", "system")
        return scope_queryset(request.user, qs, "region__path")


class ExternalAccountForm(forms.ModelForm):
    class Meta:
        model = ExternalAccount
        fields = ["system", "external_id", "user", "employee_code", "external_name"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        if request is not None:
            # never a superuser or a 三员 account: an outside identity must not open the administrators' doors
            users = get_user_model().objects.filter(is_active=True, is_superuser=False).exclude(
                groups__role__admin=True)
            self.fields["user"].queryset = scope_queryset(request.user, users, "region__path").distinct()


@admin.register(ExternalAccount)
class ExternalAccountAdmin(ScopedFormMixin, admin.ModelAdmin):
    """Bindings: made by the 政钉 sync, or by hand for an OAuth2 platform (its stable user id →
    an existing account). A binding grants nothing: the account's roles stay what they are."""

    form = ExternalAccountForm
    list_display = ["external_name", "external_id", "user", "system", "org_code", "synced_at", "last_login_at"]
    list_filter = ["system"]
    search_fields = ["external_name", "external_id", "user__username", "user__display_name"]
    readonly_fields = ["org_code", "synced_at", "last_login_at"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("user", "system")
        return scope_queryset(request.user, qs, "user__region__path")


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = ["started_at", "system", "ok", "orgs", "users_new", "users_updated", "users_unchanged", "message"]
    list_filter = ["system", "ok"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ExternalOrg)
class ExternalOrgAdmin(SyncRunAdmin):
    list_display = ["name", "code", "parent_code", "system", "synced_at"]
    list_filter = ["system"]
    search_fields = ["name", "code"]


@admin.register(WorkNotice)
class WorkNoticeAdmin(admin.ModelAdmin):
    list_display = ["biz_msg_id", "recipient", "status", "attempts", "next_try_at", "sent_at", "last_error"]
    list_filter = ["status"]
    actions = ["retry_now"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("notice__recipient")
        return scope_queryset(request.user, qs, "notice__recipient__region__path")

    @admin.display(description="接收人")
    def recipient(self, obj):
        return obj.notice.recipient

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="立即重试所选（未送达的）")
    def retry_now(self, request, queryset):
        from integrations.notices import deliver

        if not request.user.has_perm("integrations.view_worknotice"):
            return
        counts = deliver(queryset.filter(status__in=["pending", "failed", "gave_up"]))
        messages.info(request, f"送达 {counts.get('sent', 0)} 条，仍失败 {counts.get('failed', 0) + counts.get('gave_up', 0)} 条")


class GeocodeForm(RegionScopedForm):
    class Meta:
        model = GeocodeResult
        fields = ["region"]


@admin.register(GeocodeResult)
class GeocodeResultAdmin(ScopedFormMixin, admin.ModelAdmin):
    form = GeocodeForm
    list_display = ["address", "found", "lon", "lat", "level", "score", "review", "region", "fetched_at"]
    list_filter = ["review", "found"]
    search_fields = ["address"]
    readonly_fields = ["address", "found", "lon", "lat", "level", "score", "review", "fetched_at", "reviewed_by",
                       "standard"]
    actions = ["accept", "reject"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="采纳并加入统一地址库（须已选所属区域）", permissions=["change"])
    def accept(self, request, queryset):
        from integrations.http import IntegrationError
        from integrations.tianditu import accept

        allowed = set(regions_for(request.user).values_list("pk", flat=True))
        done = 0
        for result in queryset.filter(review="pending"):
            if result.region_id not in allowed:
                messages.error(request, f"{result.address}：请先打开这条记录选择所属区域（本人管辖范围内）")
                continue
            try:
                accept(result, request.user)
                done += 1
            except IntegrationError as exc:
                messages.error(request, f"{result.address}：{exc}")
        messages.success(request, f"已采纳 {done} 条，已加入统一地址库")

    @admin.action(description="不采纳", permissions=["change"])
    def reject(self, request, queryset):
        n = queryset.filter(review="pending").update(review="rejected", reviewed_by=request.user)
        messages.success(request, f"已标记不采纳 {n} 条")
