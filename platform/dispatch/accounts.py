"""Third-party accounts (M-1.9): district admins create third-party organisations, their accounts
and roles, open/close accounts; an org admin manages its own organisation's mediators. Roles
are the groups of ``metadata/roles.yaml`` (function rights are data: 用户与角色 › 组).

三员分立 (accounts.separation): a role is given only if it is on the actor's allow-list
(``assigns`` in roles.yaml: district_admin → both third-party roles, tp_admin → tp_mediator) and holds
no management right; a superuser or management-role account is never changed here. Every
change is in the security audit log."""
from __future__ import annotations

import re

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts import roles, separation
from accounts.scope import regions_for
from cases.actions import ActionRefused
from dispatch.scope import is_org_admin, is_third_party, third_party_org
from orgs.models import Organization

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.@+-]{3,150}$")


def _is_district_admin(user) -> bool:
    # a business delegation (M-1.9), not user management: needs the third-party organisation right
    return not is_third_party(user) and user.has_perm("orgs.add_organization") and \
        user.has_perm("dispatch.change_thirdpartyorg")


def manageable_orgs(user):
    """Third-party organisations the user may manage: district admins — those registered in their
    region subtree; an org admin — their own."""
    qs = Organization.objects.filter(kind=Organization.Kind.THIRD_PARTY)
    if is_third_party(user):
        return qs.filter(pk=user.organization_id) if is_org_admin(user) else qs.none()
    if not _is_district_admin(user):
        return qs.none()
    return qs.filter(region__in=regions_for(user))


def _require_org(user, org) -> None:
    if not manageable_orgs(user).filter(pk=org.pk).exists():
        raise ActionRefused("您不能管理该组织")


def create_org(user, *, name: str, region, contact: str = "") -> Organization:
    if not _is_district_admin(user):
        raise ActionRefused("只有区级管理员可以新增第三方调解组织")
    name = (name or "").strip()
    if not name:
        raise ActionRefused("请填写组织名称")
    if region is None or not regions_for(user).filter(pk=region.pk).exists():
        raise ActionRefused("请选择您管辖范围内的所属区域")
    if Organization.objects.filter(name=name).exists():
        raise ActionRefused(f"组织“{name}”已存在")
    return Organization.objects.create(name=name[:128], kind=Organization.Kind.THIRD_PARTY, region=region,
                                       contact=(contact or "").strip()[:32])


def update_org(user, org, *, contact: str | None = None, name: str | None = None) -> Organization:
    """Own organisation info (org admin: contact only; district admin: name too)."""
    _require_org(user, org)
    if name is not None and not is_third_party(user):
        name = name.strip()
        if not name:
            raise ActionRefused("请填写组织名称")
        if Organization.objects.filter(name=name).exclude(pk=org.pk).exists():
            raise ActionRefused(f"组织“{name}”已存在")
        org.name = name[:128]
    if contact is not None:
        org.contact = contact.strip()[:32]
    org.save()
    return org


def set_org_active(user, org, active: bool) -> Organization:
    if not _is_district_admin(user):
        raise ActionRefused("只有区级管理员可以启用或停用组织")
    _require_org(user, org)
    with transaction.atomic():
        org.is_active = bool(active)
        org.save(update_fields=["is_active"])
        if not active:  # a closed organisation's accounts close with it
            for account in org.users.filter(is_active=True):
                account.is_active = False
                account.save(update_fields=["is_active"])
                _audit(None, user, account, action="change", fields=["is_active"], is_active=False,
                       reason="组织停用")
    return org


def _role(user, role: str) -> Group:
    """``role``: a third-party role's code (roles.THIRD_PARTY)."""
    if role not in roles.THIRD_PARTY:
        raise ActionRefused("请选择第三方组织管理员或第三方调解员角色")
    if is_third_party(user) and role != roles.TP_MEDIATOR:
        raise ActionRefused("组织管理员只能添加调解员")
    group = roles.groups(role).first()
    if group is None:
        raise ActionRefused("该角色尚未创建，请先运行 bootstrap_admins 或 seed_demo 建立角色")
    try:
        separation.check_assignable(user, group)
    except separation.RoleRefused as e:
        raise ActionRefused(str(e)) from None
    return group


def _audit(request, user, account, **detail) -> None:
    from secure import audit

    audit.record("user_change", request=request, user=user, obj=account, **detail)


def create_account(user, *, org, username: str, display_name: str, role: str, password: str,
                   mobile: str = "", request=None):
    from accounts.models import User

    _require_org(user, org)
    group = _role(user, role)
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise ActionRefused("账号只能由 3–150 位字母、数字和 _ . @ + - 组成")
    if User.objects.filter(username__iexact=username).exists():
        raise ActionRefused(f"账号“{username}”已存在")
    if not (display_name or "").strip():
        raise ActionRefused("请填写姓名")
    account = User(username=username, display_name=display_name.strip()[:32], organization=org,
                   mobile=(mobile or "").strip()[:20], is_staff=True, is_active=org.is_active,
                   must_change_password=True)  # the creator knows the initial password
    try:
        validate_password(password, account)
    except ValidationError as e:
        raise ActionRefused("密码不符合要求：" + "；".join(e.messages))
    with transaction.atomic():
        account.set_password(password)
        account.save()
        account.groups.add(group)
        _audit(request, user, account, action="add", organization=org.name, roles_added=[group.name])
    return account


def _require_account(user, account) -> None:
    if account.organization_id is None or not manageable_orgs(user).filter(pk=account.organization_id).exists():
        raise ActionRefused("您不能管理该账号")
    if account.pk == user.pk:
        raise ActionRefused("不能修改自己的账号状态或角色")
    if separation.is_protected(account):
        raise ActionRefused("三员管理账号和超级用户不能在此修改")
    if is_third_party(user) and roles.has_role(account, roles.TP_ADMIN):
        raise ActionRefused("组织管理员只能管理本组织的调解员")


def set_account_active(user, account, active: bool, request=None):
    _require_account(user, account)
    if active and not account.organization.is_active:
        raise ActionRefused("所属组织已停用，不能启用账号")
    account.is_active = bool(active)
    account.save(update_fields=["is_active"])
    _audit(request, user, account, action="change", fields=["is_active"], is_active=account.is_active)
    return account


def set_account_role(user, account, role: str, request=None):
    _require_account(user, account)
    group = _role(user, role)
    with transaction.atomic():
        before = set(account.groups.values_list("name", flat=True))
        account.groups.remove(*roles.groups(*roles.THIRD_PARTY))
        account.groups.add(group)
        after = set(account.groups.values_list("name", flat=True))
        _audit(request, user, account, action="change", roles_added=sorted(after - before),
               roles_removed=sorted(before - after))
    return account


def org_accounts(user, org):
    from accounts.models import User

    if not manageable_orgs(user).filter(pk=org.pk).exists():
        return User.objects.none()
    return User.objects.filter(organization=org).order_by("username")


__all__ = ["create_org", "update_org", "set_org_active", "create_account", "set_account_active", "set_account_role",
           "manageable_orgs", "org_accounts", "third_party_org"]
