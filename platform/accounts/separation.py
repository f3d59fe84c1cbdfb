"""三员分立 (three-role separation): the one policy for who may change users and roles.

- **Management roles** — 系统管理员, 安全管理员, 审计管理员 (``admin: true`` in
  metadata/roles.yaml, the "roles" metadata kind). Their rights are fixed by that file (``sync_roles`` sets them exactly);
  no screen changes their rights or assigns them: only ``manage.py bootstrap_admins`` creates
  their accounts. Nobody in operation is a superuser.
- **Management rights** — every permission of the apps in ``MANAGEMENT_APPS`` (users, roles,
  security policy, lockouts, second factors, audit log, admin log, task schedules…). Business
  roles never hold one: the role screen does not offer them and ``sync_roles`` strips them. A
  management right also *counts* only when it comes through a management role
  (``has_admin_perm``), so a business role that kept one from an older installation grants
  nothing (this closes finding 1 even before ``bootstrap_admins`` has run).
- **Assignment** — an actor assigns only the roles (codes) in the ``assigns`` allow-list of one
  of its roles, never a management role and never a role holding a management right the actor
  does not hold through a management role. Nobody edits their own account's roles, a
  superuser, or a management-role account through a screen.

Every screen that changes users or roles (accounts.admin, dispatch.accounts) asks this module.
Roles are identified by their stable code (``accounts.roles``), never by the group's name."""
from __future__ import annotations

import re

# Apps whose permissions are rights over rights (or over the evidence of their use).
MANAGEMENT_APPS = frozenset({
    "accounts", "auth", "admin", "contenttypes", "sessions",   # users, roles, permissions, admin log
    "axes",                                                    # login lockouts
    "otp_totp", "otp_static", "otp_email", "otp_hotp", "django_otp",  # second factors
    "secure",                                                  # security audit log
    "guardian",                                                # per-object grants
    "django_q",                                                # schedules run arbitrary functions
})


class RoleRefused(Exception):
    """An assignment or role change the policy refuses; ``str()`` is the Chinese message."""


# --- the roles (metadata kind "roles", metadata/roles.yaml, accounts.Role) --------------------------
ROLES_KIND = "roles"
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
PERMISSION_RE = re.compile(r"^[a-z_][a-z0-9_]*\.(\*|[a-z0-9_]+)$")


def load_roles() -> list[dict]:
    """The shipped roles (the file's rows, read by the one metadata loader)."""
    from lowcode.serialization import shipped_values

    return list(shipped_values(ROLES_KIND).values())


def known_role_codes() -> set[str]:
    """The codes metadata may name: the installed roles, and the shipped ones (a database whose
    roles are not synced yet, e.g. a fresh test database, still knows them)."""
    from accounts.models import Role

    return set(Role.objects.values_list("code", flat=True)) | {row["code"] for row in load_roles()}


def admin_role_codes() -> frozenset[str]:
    from accounts.models import Role

    return frozenset(Role.objects.filter(admin=True).values_list("code", flat=True))


def allow_list(role_codes) -> set[str]:
    """Role codes the holders of ``role_codes`` may assign (union of their ``assigns``)."""
    from accounts.models import Role

    return {code for assigns in Role.objects.filter(code__in=list(role_codes)).values_list("assigns", flat=True)
            for code in assigns or []}


def validate_role(role) -> None:
    """The roles kind's validator (the file and any saved role): a code, well-formed rights, no
    management right on a business role, ``assigns`` naming business roles that exist."""
    from django.core.exceptions import ValidationError

    from accounts.models import Role

    errors = {}
    if not CODE_RE.match(role.code or ""):
        errors["code"] = "角色代码应为小写字母开头的字母、数字、下划线（2–64 位），如 mediator"
    perms = role.permissions
    if not isinstance(perms, list) or not all(isinstance(p, str) and PERMISSION_RE.match(p) for p in perms):
        errors["permissions"] = "功能权限应为列表，每项形如 cases.view_case 或 cases.*"
    elif not role.admin and (mgmt := [p for p in perms if is_management_perm(p)]):
        errors["permissions"] = "业务角色不得持有管理权限：" + "、".join(mgmt)
    assigns = role.assigns
    if not isinstance(assigns, list) or not all(isinstance(c, str) for c in assigns):
        errors["assigns"] = "可分配的角色应为角色代码列表"
    else:
        known = dict(Role.objects.filter(code__in=assigns).values_list("code", "admin"))
        unknown = [c for c in assigns if c not in known]
        if unknown:
            errors["assigns"] = "可分配的角色不存在：" + "、".join(unknown)
        elif any(known.values()):
            errors["assigns"] = "三员管理角色不能出现在可分配的角色中"
    if errors:
        raise ValidationError(errors)


# --- permissions -------------------------------------------------------------------------------------
def is_management_perm(perm) -> bool:
    """``perm``: a Permission or "app_label.codename"."""
    app = perm.split(".", 1)[0] if isinstance(perm, str) else perm.content_type.app_label
    return app in MANAGEMENT_APPS


def business_permissions():
    """The permissions a business role may hold (everything outside MANAGEMENT_APPS)."""
    from django.contrib.auth.models import Permission

    return Permission.objects.exclude(content_type__app_label__in=MANAGEMENT_APPS)


def management_permissions():
    from django.contrib.auth.models import Permission

    return Permission.objects.filter(content_type__app_label__in=MANAGEMENT_APPS)


def admin_perms(user) -> frozenset[str]:
    """Management rights the user holds through management roles ("app.codename"); a
    superuser holds them all. Cached on the user object for the request."""
    if not (user.is_authenticated and user.is_active):
        return frozenset()
    cached = getattr(user, "_separation_admin_perms", None)
    if cached is None:
        from django.contrib.auth.models import Permission

        qs = management_permissions()
        if not user.is_superuser:
            qs = Permission.objects.filter(group__user=user, group__role__admin=True,
                                           content_type__app_label__in=MANAGEMENT_APPS)
        cached = frozenset(f"{a}.{c}" for a, c in qs.values_list("content_type__app_label", "codename"))
        user._separation_admin_perms = cached
    return cached


def has_admin_perm(user, perm: str) -> bool:
    return perm in admin_perms(user)


# --- accounts and roles ---------------------------------------------------------------------------------
def is_admin_role(group) -> bool:
    from accounts.models import Role

    return Role.objects.filter(group=group, admin=True).exists()


def is_protected(account) -> bool:
    """Accounts no screen may change: superusers and holders of a management role."""
    return bool(account.is_superuser) or account.groups.filter(role__admin=True).exists()


def assignable_roles(actor):
    """Groups ``actor`` may give or take away: in the allow-list of one of its roles (a
    superuser: every business role), not a management role, and holding no management right
    the actor does not hold through a management role."""
    from django.contrib.auth.models import Group

    from accounts import roles

    if not (actor.is_authenticated and actor.is_active):
        return Group.objects.none()
    qs = Group.objects.exclude(role__admin=True)
    if not actor.is_superuser:
        qs = qs.filter(role__code__in=allow_list(roles.codes_of(actor)))
    held = admin_perms(actor)
    refused = [g.pk for g in qs.prefetch_related("permissions__content_type")
               if any(is_management_perm(p) and f"{p.content_type.app_label}.{p.codename}" not in held
                      for p in g.permissions.all())]
    return qs.exclude(pk__in=refused).order_by("name")


def check_assignable(actor, group) -> None:
    """Raise RoleRefused unless ``actor`` may assign ``group``."""
    if is_admin_role(group):
        raise RoleRefused(f"角色“{group.name}”是三员管理角色，只能由部署时的 bootstrap_admins 命令分配")
    if not assignable_roles(actor).filter(pk=group.pk).exists():
        raise RoleRefused(f"您不能分配角色“{group.name}”（不在您可分配的角色范围内，或该角色含有您不具备的管理权限）")


def check_account_editable(actor, account) -> None:
    """Raise RoleRefused when ``actor`` may not change ``account`` through a screen."""
    if account.pk == actor.pk:
        raise RoleRefused("不能修改自己的账号、角色或权限")
    if is_protected(account) and not actor.is_superuser:
        raise RoleRefused("三员管理账号和超级用户不能在此修改")


def check_role_editable(actor, group) -> None:
    """Raise RoleRefused when ``actor`` may not change ``group``'s rights."""
    if is_admin_role(group):
        raise RoleRefused(f"“{group.name}”是三员管理角色，其权限固定（出厂值 metadata/roles.yaml），不能在界面修改")
    if actor.groups.filter(pk=group.pk).exists():
        raise RoleRefused("不能修改自己所属角色的权限")


# --- the roles file → the database -------------------------------------------------------------------
def resolve_permissions(specs: list[str]):
    """["app.codename" | "app.*", …] → Permission list (missing ones are skipped)."""
    from django.contrib.auth.models import Permission

    perms = []
    for spec in specs:
        if not isinstance(spec, str) or "." not in spec:
            continue  # malformed: validate_role refuses the file (and the load rolls back)
        app, codename = spec.split(".", 1)
        qs = Permission.objects.filter(content_type__app_label=app)
        perms += list(qs if codename == "*" else qs.filter(codename=codename))
    return perms


def sync_roles() -> tuple[dict, list[str]]:
    """The roles kind's apply policy. Loads metadata/roles.yaml through the one metadata loader
    (missing roles created with their group and rights; unedited roles follow the file; a
    business role's rights after creation are site data, an upgrade only adds rights the file
    newly lists), then sets the management roles' rights exactly as shipped and strips management
    rights from every other group (business roles never grant rights). Returns
    ({code: Group}, [report lines in Chinese])."""
    from django.contrib.auth.models import Group

    from accounts.models import Role
    from lowcode.serialization import load_metadata

    before = set(Role.objects.values_list("code", flat=True))
    load_metadata([ROLES_KIND])
    roles = list(Role.objects.select_related("group").order_by("code"))
    report = [f"新建角色：{r.name}" for r in roles if r.code not in before]
    for role in roles:
        if not role.admin:
            continue
        perms = resolve_permissions((role.shipped or {}).get("permissions", role.permissions) or [])
        if set(role.group.permissions.all()) != set(perms):
            role.group.permissions.set(perms)
            report.append(f"三员角色权限已按出厂值（metadata/roles.yaml）校正：{role.name}")
    for group in Group.objects.exclude(role__admin=True):
        stray = list(group.permissions.filter(content_type__app_label__in=MANAGEMENT_APPS)
                     .select_related("content_type"))
        if stray:
            group.permissions.remove(*stray)
            report.append(f"业务角色“{group.name}”不得持有管理权限，已移除："
                          + "、".join(f"{p.content_type.app_label}.{p.codename}" for p in stray))
    return {r.code: r.group for r in roles}, report
