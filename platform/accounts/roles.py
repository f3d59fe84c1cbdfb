"""Roles by their stable code: the one place code asks "does this user hold role X" or "which
group is role X".

A role is a Django group (its ``name`` is display text the security admin may change) with an
``accounts.Role`` record holding its ``code`` (metadata kind "roles", metadata/roles.yaml). Code and metadata
(workflow transitions' ``roles``, per-role layouts and lists, the security policy's second-factor
roles) name roles by code, so renaming a group in the admin changes only what people read.
"""
from __future__ import annotations

from django.db.models import Q

# The shipped roles' codes (metadata/roles.yaml). Only roles the code itself must recognise are
# named here; every other role is data.
SYSADMIN = "sysadmin"              # 系统管理员 (三员)
SECADMIN = "secadmin"              # 安全管理员 (三员)
AUDITOR = "auditor"                # 审计管理员 (三员)
DISTRICT_ADMIN = "district_admin"  # 区级管理员
CONFIG_ADMIN = "config_admin"      # 业务配置管理员
STREET_ADMIN = "street_admin"      # 街道管理员
MEDIATOR = "mediator"              # 社区调解员
DEPT_USER = "dept_user"            # 部门用户
TP_ADMIN = "tp_admin"              # 第三方组织管理员
TP_MEDIATOR = "tp_mediator"        # 第三方调解员

THIRD_PARTY = (TP_ADMIN, TP_MEDIATOR)
# Roles that never handle a case at its level (they are not asked to act on one).
NON_HANDLING = (TP_ADMIN, TP_MEDIATOR, CONFIG_ADMIN, DEPT_USER)


def codes_of(user) -> tuple[str, ...]:
    """The codes of ``user``'s roles (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return ()
    cached = getattr(user, "_role_codes", None)
    if cached is None:
        cached = tuple(user.groups.filter(role__isnull=False).order_by("role__code")
                       .values_list("role__code", flat=True))
        user._role_codes = cached
    return cached


def has_role(user, *codes: str) -> bool:
    """Whether ``user`` holds one of the roles ``codes``."""
    return bool(set(codes_of(user)) & set(codes))


def holders(*codes: str) -> Q:
    """A filter on users: holds one of the roles ``codes`` (use ``.distinct()`` when joining)."""
    return Q(groups__role__code__in=codes)


def groups(*codes: str):
    """The groups of the roles ``codes``."""
    from django.contrib.auth.models import Group

    return Group.objects.filter(role__code__in=codes)


def group(code: str):
    """The group of role ``code``; Group.DoesNotExist when the role is not installed."""
    from django.contrib.auth.models import Group

    return Group.objects.get(role__code=code)


def names(codes) -> dict[str, str]:
    """{code: display name} of the installed roles among ``codes``."""
    from accounts.models import Role

    return dict(Role.objects.filter(code__in=list(codes)).values_list("code", "group__name"))


def choices(*codes: str) -> list[tuple[str, str]]:
    """(code, display name) for screens that pick roles: of ``codes`` in that order (installed
    ones only), or of every role with a code, by name."""
    from accounts.models import Role

    if codes:
        installed = names(codes)
        return [(code, installed[code]) for code in codes if code in installed]
    return list(Role.objects.order_by("group__name").values_list("code", "group__name"))
