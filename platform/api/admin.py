"""接口客户端 in the admin (district admin): create one per connected platform (region, push
channel, rights, rate limit), revoke it, rotate its secret. The secret is derived, never stored,
and shown once — on creation and on rotation — to the admin who did it (audited)."""
from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import F
from django.utils import timezone

from accounts.scope import regions_for, scope_queryset
from api.models import ApiClient
from api.signing import client_secret
from secure import audit


class ApiClientForm(forms.ModelForm):
    class Meta:
        model = ApiClient
        fields = ["name", "region", "channel", "can_read", "can_push", "see_sensitive", "rate_limit"]

    def __init__(self, *args, request=None, **kwargs):
        super().__init__(*args, **kwargs)
        from clues.models import channel_choices

        self.fields["channel"] = forms.ChoiceField(label="推送使用的数据来源", required=False,
                                                   choices=[("", "—（不推送）")] + [
                                                       (k, n) for k, n in channel_choices() if k != "local"],
                                                   help_text=ApiClient._meta.get_field("channel").help_text)
        if request is not None:
            self.fields["region"].queryset = regions_for(request.user)

    def clean(self):
        data = super().clean()
        if data.get("can_push") and not data.get("channel"):
            self.add_error("channel", "允许推送时须选择数据来源（推送的记录按它的清洗规则入库）")
        return data


@admin.register(ApiClient)
class ApiClientAdmin(admin.ModelAdmin):
    form = ApiClientForm
    list_display = ["name", "key_id", "region", "channel", "can_push", "see_sensitive", "rate_limit", "state",
                    "last_call_at", "calls", "refused"]
    list_filter = ["can_push", "see_sensitive"]
    search_fields = ["name", "key_id"]
    readonly_fields = ["key_id", "secret_version", "state", "created_by", "created_at", "last_call_at", "calls",
                       "refused"]
    actions = ["revoke", "rotate"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class Bound(form):
            def __init__(self, *a, **kw):
                super().__init__(*a, request=request, **kw)
        return Bound

    def get_queryset(self, request):
        return scope_queryset(request.user, super().get_queryset(request).select_related("region"))

    @admin.display(description="状态")
    def state(self, obj):
        return "已吊销" if obj.revoked_at else "有效"

    def save_model(self, request, obj, form, change):
        created = obj.pk is None
        if created:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if created:
            self._show_secret(request, obj, "client_created")

    def _show_secret(self, request, obj, event):
        audit.record(event, request=request, obj=obj, key_id=obj.key_id, version=obj.secret_version)
        messages.warning(request, f"接入编号 {obj.key_id} 的密钥（只显示这一次，请立即交给对方平台保管）："
                                  f"{client_secret(obj.key_id, obj.secret_version)}")

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the audit trail keeps naming the client

    @admin.action(description="吊销所选接入凭证（立即失效）", permissions=["change"])
    def revoke(self, request, queryset):
        n = 0
        for obj in queryset.filter(revoked_at__isnull=True):
            ApiClient.objects.filter(pk=obj.pk).update(revoked_at=timezone.now())
            audit.record("client_revoked", request=request, obj=obj, key_id=obj.key_id)
            n += 1
        messages.success(request, f"已吊销 {n} 个接入凭证")

    @admin.action(description="重新生成所选凭证的密钥（旧密钥立即失效）", permissions=["change"])
    def rotate(self, request, queryset):
        for obj in queryset.filter(revoked_at__isnull=True):
            ApiClient.objects.filter(pk=obj.pk).update(secret_version=F("secret_version") + 1)
            obj.refresh_from_db()
            self._show_secret(request, obj, "client_rotated")
