"""用户与角色 screens under 三员分立 (accounts.separation holds the policy; this module applies it).

- 用户 (系统管理员): no superuser / staff / raw-permission fields anywhere; roles only from the
  actor's allow-list; nobody edits their own account, a superuser or a management-role account;
  an admin password reset (and a new account) forces a change at the next login. Everything is
  checked on POST: fields that are not on the form are ignored, a group outside the allow-list
  is an invalid choice, a protected account answers 403.
- 角色 (安全管理员): role → rights, business rights only; the three management roles and the
  actor's own roles are read-only; names are fixed (allow-lists and code refer to them).
Every change (and every refused attempt) goes to the security audit log."""
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts import separation
from accounts.models import User
from secure import audit


def _audit(event: str, request, obj, outcome: str = "success", **detail) -> None:
    audit.record(event, request=request, obj=obj, outcome=outcome, **detail)


class AccountChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


class AccountCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username",)


class PasswordResetByAdminForm(AdminPasswordChangeForm):
    """An administrator sets a password for someone else: the owner must change it at the next login."""

    def save(self, commit=True):
        user = super().save(commit=False)
        user.must_change_password = True
        if commit:
            user.save()
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = AccountChangeForm
    add_form = AccountCreationForm
    change_password_form = PasswordResetByAdminForm
    list_display = ["username", "display_name", "region", "organization", "is_active", "roles"]
    list_filter = ["is_active", "groups"]
    search_fields = ["username", "display_name"]
    list_select_related = ["region", "organization"]
    autocomplete_fields = ["region", "organization"]
    filter_horizontal = ["groups"]
    readonly_fields = ["last_login", "date_joined"]
    # no is_superuser, is_staff, user_permissions: rights come only from roles (accounts.separation)
    fieldsets = (
        (None, {"fields": ["username", "password"]}),
        ("基本信息", {"fields": ["display_name", "mobile", "email"]}),
        ("所属", {"fields": ["region", "organization"]}),
        ("状态与角色", {"fields": ["is_active", "groups"],
                        "description": "只能分配您可分配的业务角色；角色的功能权限由安全管理员在“组”中设置。"}),
        ("重要日期", {"fields": ["last_login", "date_joined"]}),
    )
    add_fieldsets = (
        (None, {"classes": ["wide"], "fields": ["username", "usable_password", "password1", "password2"],
                "description": "新账号首次登录时须修改密码。"}),
        ("基本信息", {"fields": ["display_name", "mobile"]}),
        ("所属", {"fields": ["region", "organization"]}),
        ("状态与角色", {"fields": ["is_active", "groups"]}),
    )

    @admin.display(description="角色")
    def roles(self, obj):
        return "、".join(g.name for g in obj.groups.all())

    # --- who may do what: management rights count only through a management role ------------------
    def has_view_permission(self, request, obj=None):
        u = request.user
        return separation.has_admin_perm(u, "accounts.view_user") or separation.has_admin_perm(u, "accounts.change_user")

    def has_add_permission(self, request):
        u = request.user
        return separation.has_admin_perm(u, "accounts.add_user") and separation.has_admin_perm(u, "accounts.change_user")

    def has_change_permission(self, request, obj=None):
        if not separation.has_admin_perm(request.user, "accounts.change_user"):
            return False
        if obj is None:
            return True
        try:
            separation.check_account_editable(request.user, obj)
        except separation.RoleRefused:
            return False
        return True

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are closed (启用 off), never deleted: the audit trail keeps its subject

    def get_queryset(self, request):
        qs = super().get_queryset(request).prefetch_related("groups")
        prefix = getattr(request.user.region, "path", None) if request.user.region_id else None
        if prefix and not request.user.is_superuser:  # a district's system admin: its district
            from django.db.models import Q

            qs = qs.filter(Q(region__path__startswith=prefix) | Q(region__isnull=True))
        return qs

    # --- the form fields ------------------------------------------------------------------------------------
    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "groups":
            kwargs["queryset"] = separation.assignable_roles(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def formfield_for_foreignkey(self, db_field, request=None, **kwargs):
        if db_field.name == "region":
            from orgs.widgets import region_formfield_kwargs

            region_formfield_kwargs(kwargs)  # the searchable region tree
        if db_field.name == "region" and request.user.region_id and not request.user.is_superuser:
            from accounts.scope import regions_for

            kwargs["queryset"] = regions_for(request.user)
        elif db_field.name == "organization" and request.user.region_id and not request.user.is_superuser:
            from orgs.models import Organization

            kwargs["queryset"] = Organization.objects.filter(region__path__startswith=request.user.region.path)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "groups" not in form.base_fields:
            return form

        class KeepOtherRoles(form):
            """The groups field lists only the assignable roles; roles the account holds outside
            them are kept, never dropped by a save."""

            def clean_groups(self):
                chosen = list(self.cleaned_data.get("groups") or [])
                if self.instance.pk is None:
                    return chosen
                assignable = separation.assignable_roles(request.user).values_list("pk", flat=True)
                return chosen + list(self.instance.groups.exclude(pk__in=list(assignable)))

        return KeepOtherRoles

    # --- saving and auditing ------------------------------------------------------------------------------
    def save_model(self, request, obj, form, change):
        if not change:
            obj.is_staff = True            # every account signs in on the PC end; 启用 decides
            obj.is_superuser = False
            obj.must_change_password = True
        request._roles_before = set(obj.groups.values_list("name", flat=True)) if change else set()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        after = set(obj.groups.values_list("name", flat=True))
        before = getattr(request, "_roles_before", set())
        _audit("user_change", request, obj, action="change" if change else "add",
               fields=[f for f in form.changed_data if f not in ("password", "password1", "password2")],
               roles_added=sorted(after - before), roles_removed=sorted(before - after))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PermissionDenied:
            if request.method == "POST":
                target = self.get_object(request, unquote(object_id)) if object_id else None
                _audit("user_change", request, target, outcome="failure",
                       action="change" if object_id else "add", reason=self._refusal(request, target))
            raise

    def user_change_password(self, request, id, form_url=""):
        target = self.get_object(request, unquote(id))
        try:
            response = super().user_change_password(request, id, form_url)
        except PermissionDenied:
            if request.method == "POST":
                _audit("password_reset", request, target, outcome="failure", reason=self._refusal(request, target))
            raise
        if request.method == "POST" and target is not None and response.status_code == 302 and \
                response["Location"] == reverse(f"{self.admin_site.name}:accounts_user_change", args=[target.pk]):
            _audit("password_reset", request, target, must_change_password=True)
            messages.info(request, f"{target.username} 下次登录时须修改密码。")
        return response

    def _refusal(self, request, target) -> str:
        if target is None:
            return "无用户管理权限"
        try:
            separation.check_account_editable(request.user, target)
        except separation.RoleRefused as e:
            return str(e)
        return "无用户管理权限"


admin.site.unregister(Group)


@admin.register(Group)
class RoleAdmin(BaseGroupAdmin):
    """角色 → 功能权限 (安全管理员). Roles themselves come from metadata/roles.yaml."""

    list_display = ["name", "kind", "member_count"]

    @admin.display(description="类别")
    def kind(self, obj):
        return "三员管理角色（权限固定）" if separation.is_admin_role(obj) else "业务角色"

    @admin.display(description="用户数")
    def member_count(self, obj):
        return obj.user_set.count()

    def has_view_permission(self, request, obj=None):
        u = request.user
        return separation.has_admin_perm(u, "auth.view_group") or separation.has_admin_perm(u, "auth.change_group")

    def has_add_permission(self, request):
        return False  # roles are defined in metadata/roles.yaml: allow-lists and code name them

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if not separation.has_admin_perm(request.user, "auth.change_group"):
            return False
        if obj is None:
            return True
        try:
            separation.check_role_editable(request.user, obj)
        except separation.RoleRefused:
            return False
        return True

    def get_readonly_fields(self, request, obj=None):
        return ["name"] if obj is not None else []

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "permissions":
            # business rights only: a role never grants rights over users, roles, security or audit
            kwargs["queryset"] = separation.business_permissions().select_related("content_type")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        request._perms_before = set(_perm_names(obj)) if change else set()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        after = set(_perm_names(form.instance))
        before = getattr(request, "_perms_before", set())
        _audit("group_change", request, form.instance, permissions_added=sorted(after - before),
               permissions_removed=sorted(before - after))

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except PermissionDenied:
            if request.method == "POST":
                target = self.get_object(request, unquote(object_id)) if object_id else None
                reason = "无角色权限设置权限"
                if target is not None and separation.has_admin_perm(request.user, "auth.change_group"):
                    try:
                        separation.check_role_editable(request.user, target)
                    except separation.RoleRefused as e:
                        reason = str(e)
                _audit("group_change", request, target, outcome="failure", reason=reason)
            raise


def _perm_names(group) -> list[str]:
    return [f"{a}.{c}" for a, c in group.permissions.values_list("content_type__app_label", "codename")]
