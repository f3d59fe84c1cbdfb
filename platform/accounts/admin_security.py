"""The security admin's screens (安全管理员): the login/session policy, 登录锁定 (login failures
recorded by django-axes, with 解锁), and the users' second-factor devices (reset = enrol again).
Every change is written to the security audit log. Rights are the library models' own
(axes.view_/delete_accessattempt, otp_totp.view_/delete_totpdevice) and
accounts.view_/change_securitypolicy."""
from __future__ import annotations

from django.contrib import admin, messages
from django.forms import ModelForm, MultipleChoiceField
from django.forms.widgets import CheckboxSelectMultiple
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from accounts import policy
from accounts.forms import AdminLoginForm
from accounts.models import LoginLock, SecondFactorDevice, SecurityPolicy
from secure import audit


# --- policy ------------------------------------------------------------------------------------
class SecurityPolicyForm(ModelForm):
    otp_roles = MultipleChoiceField(label="须第二因素的角色", required=False, widget=CheckboxSelectMultiple,
                                    help_text="这些角色的用户在 PC 端登录后须通过动态口令验证；超级用户始终需要。")

    class Meta:
        model = SecurityPolicy
        fields = ["otp_roles", "otp_on_mobile", "zzd_counts_as_factor", "lockout_failure_limit", "lockout_cooloff_minutes",
                  "password_expiry_days", "idle_timeout_minutes"]

    def __init__(self, *args, **kwargs):
        from accounts import roles

        super().__init__(*args, **kwargs)
        choices = roles.choices()  # stored by code: renaming a role keeps its second factor
        known = {code for code, _ in choices}
        self.fields["otp_roles"].choices = choices + [(c, c) for c in self.instance.otp_roles or [] if c not in known]


class SecurityPolicyAdmin(admin.ModelAdmin):
    form = SecurityPolicyForm
    fieldsets = [("第二因素", {"fields": ["otp_roles", "otp_on_mobile", "zzd_counts_as_factor"]}),
                 ("登录失败处理", {"fields": ["lockout_failure_limit", "lockout_cooloff_minutes"]}),
                 ("密码与会话", {"fields": ["password_expiry_days", "idle_timeout_minutes"]})]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # one policy: the list is its form
        if not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        SecurityPolicy.objects.get_or_create(pk=1)
        return redirect(reverse("admin:accounts_securitypolicy_change", args=[1]))

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        policy.clear_cache()
        changed = {name: _plain(form.cleaned_data.get(name)) for name in form.changed_data}
        audit.record("policy_change", request=request, obj=obj, changed=changed)


def _plain(value):
    return value if isinstance(value, (int, bool, str, list)) or value is None else str(value)


# --- screens the security admin acts on but never edits ----------------------------------------
class ActionOnlyAdmin(admin.ModelAdmin):
    """Viewed with ``view_perm``; its one action (unlock, reset) needs ``action_perm`` and is the
    only way to change anything: no add, no edit, no bulk delete."""

    view_perm = action_perm = ""

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.view_perm)

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm(self.action_perm)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_module_permission(self, request):
        return self.has_view_permission(request)


# --- login lockouts ------------------------------------------------------------------------------
class LoginLockAdmin(ActionOnlyAdmin):
    list_display = ["account", "ip", "failures", "last_attempt", "state"]
    search_fields = ["username", "ip_address"]
    actions = ["unlock"]
    ordering = ["-attempt_time"]
    list_display_links = None

    @admin.display(description="账号（尝试的用户名）", ordering="username")
    def account(self, obj):
        return obj.username or "—"

    @admin.display(description="来源地址", ordering="ip_address")
    def ip(self, obj):
        return obj.ip_address or "—"

    @admin.display(description="连续失败次数", ordering="failures_since_start")
    def failures(self, obj):
        return obj.failures_since_start

    @admin.display(description="最近一次失败", ordering="attempt_time")
    def last_attempt(self, obj):
        return timezone.localtime(obj.attempt_time).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="状态")
    def state(self, obj):
        locked = (obj.failures_since_start >= policy.failure_limit()
                  and obj.attempt_time + policy.cooloff_time() > timezone.now())
        return "已锁定" if locked else "未锁定（失败次数累计中）"


    @admin.action(description="解锁所选账号/来源地址", permissions=["delete"])
    def unlock(self, request, queryset):
        rows = list(queryset)
        for row in rows:
            audit.record("unlock", request=request, obj=row.username or row.ip_address,
                         outcome="success", unlocked_username=row.username or "",
                         unlocked_ip=row.ip_address or "", failures=row.failures_since_start)
        queryset.delete()
        self.message_user(request, f"已解锁 {len(rows)} 条登录锁定。", messages.SUCCESS)

    view_perm, action_perm = "axes.view_accessattempt", "axes.delete_accessattempt"


# --- second-factor devices ----------------------------------------------------------------------
class SecondFactorDeviceAdmin(ActionOnlyAdmin):
    list_display = ["user", "name", "confirmed_", "last_used"]
    search_fields = ["user__username", "user__display_name"]
    list_select_related = ["user"]
    actions = ["reset"]
    list_display_links = None

    @admin.display(description="已绑定", boolean=True)
    def confirmed_(self, obj):
        return obj.confirmed

    @admin.display(description="最近使用")
    def last_used(self, obj):
        return timezone.localtime(obj.last_used_at).strftime("%Y-%m-%d %H:%M") if obj.last_used_at else "—"


    @admin.action(description="重置所选用户的动态口令（下次登录重新绑定）", permissions=["delete"])
    def reset(self, request, queryset):
        rows = list(queryset.select_related("user"))
        for row in rows:
            audit.record("otp_reset", request=request, obj=row.user, username=request.user.get_username(),
                         target=row.user.get_username())
        queryset.delete()
        self.message_user(request, f"已重置 {len(rows)} 个动态口令，相关用户下次登录时须重新绑定。", messages.SUCCESS)

    view_perm, action_perm = "otp_totp.view_totpdevice", "otp_totp.delete_totpdevice"


def _password_change_redirect(request, extra_context=None):
    return redirect(f"{reverse('accounts:password_change')}?next={reverse('admin:index')}")


def install(site=admin.site) -> None:
    for model, model_admin in ((SecurityPolicy, SecurityPolicyAdmin), (LoginLock, LoginLockAdmin),
                               (SecondFactorDevice, SecondFactorDeviceAdmin)):
        if not site.is_registered(model):
            site.register(model, model_admin)
    site.login_form = AdminLoginForm
    # the PC login page lists the other ways in (slot accounts.login_links: 政钉扫码, 一网通管 …)
    site.login_template = "accounts/admin_login.html"
    # the admin's own 修改密码 link goes to the one change page (validators, history, audit,
    # clears the forced-change flag) instead of Django's bare admin form
    site.password_change = _password_change_redirect
    # the libraries' own English screens are replaced by the ones above
    from django_otp.plugins.otp_totp.models import TOTPDevice
    from django_password_validators.password_history.models import PasswordHistory, UserPasswordHistoryConfig

    for model in (TOTPDevice, PasswordHistory, UserPasswordHistoryConfig):
        if site.is_registered(model):
            site.unregister(model)
