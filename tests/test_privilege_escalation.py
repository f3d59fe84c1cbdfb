"""Privilege escalation (finding 1) and 三员分立 (three-role separation).

Finding 1, as the assessor did it: a 区级管理员 opened its own user at
/admin/accounts/user/<id>/change/, ticked 超级用户状态 and saved; it could also give any user any
permission or group and reset any password.

The probes (``test_no_role_can_raise_rights``), for one account of every role in
metadata/roles.yaml: POST to its own and others' user change pages, the add-user page, the
password-reset page, every role's change page, the third-party account screens, with
is_superuser=on, is_staff=on, user_permissions=every permission, groups=every group (and
groups=only the management roles). Afterwards: no superuser, no raw user permission, nobody
holds a management right they did not hold, the actor holds nothing new, and anybody else holds
nothing beyond the roles the actor may assign. The pages probed are found in the URL
configuration: a new page that changes users, roles or rights must be probed here (or exempted
with a reason), or ``test_every_rights_page_is_probed`` fails."""
from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts import separation
from accounts.models import User
from tests.test_permission_matrix import walk

PROBE_PASSWORD = "Probe#Escal8te-2026"

# one account per role (the demo accounts of fixtures/demo/users.yaml)
ACTORS = {
    "系统管理员": "demo_sysadmin", "安全管理员": "demo_secadmin", "审计管理员": "demo_auditor",
    "区级管理员": "demo_district", "业务配置管理员": "demo_config", "街道管理员": "demo_street",
    "社区调解员": "demo_mediator", "部门用户": "demo_dept", "第三方组织管理员": "demo_tp_admin",
    "第三方调解员": "demo_tp_mediator",
}

# URL patterns that may change users, roles or rights: found in the URL configuration by this
# net; each gets the escalation payload (``_generic_probes``), the known ones crafted probes too.
RIGHTS_NET = re.compile(r"^admin/(accounts|auth)/|account|mediator|role|permission|password", re.I)
CRAFTED = {
    "admin:accounts_user_change", "admin:accounts_user_add", "admin:auth_user_password_change",
    "admin:auth_group_change", "admin:auth_group_add", "admin:accounts_user_changelist",
    "admin:auth_group_changelist", "admin:dispatch_thirdpartyorg_accounts", "thirdparty:mediators",
}
NOT_RIGHTS = {
    "admin:password_change": "修改本人密码（只改本人密码；表单没有其他字段）",
    "admin:password_change_done": "修改本人密码完成页",
    "admin:app_list": "某个应用的模型列表页，只读",
}


def rights_patterns():
    return [p for p in walk() if RIGHTS_NET.search(p.route) and p.key not in NOT_RIGHTS]


def test_every_rights_page_is_probed(db):
    """Every page the net finds can be filled and posted to (a new one that cannot says so)."""
    keys = {p.key for p in rights_patterns()}
    assert CRAFTED <= keys, f"探测的页面已不在 URL 配置中：{CRAFTED - keys}"
    unfilled = [p.route for p in rights_patterns() if _fill(p, None) is None]
    assert not unfilled, "这些可能修改权限的页面无法生成探测 URL（在 _fill 中补上参数）：\n" + "\n".join(unfilled)


# parameters that are not object ids: a value the URL accepts
PROBE_VALUES = {"dimension": "mediator"}  # assessment/<dimension>/: 调解员 rankings


def _fill(p, actor):
    """The URL of pattern ``p`` with its ids filled (the actor's own user for user pages; else
    the first row of the admin model), or None."""
    from django.apps import apps

    values = []
    for name in p.params:
        if name in PROBE_VALUES:
            values.append(PROBE_VALUES[name])
            continue
        if name not in ("object_id", "id", "pk"):
            return None
        m = re.match(r"admin/(\w+)/(\w+)/", p.route)
        if not m:
            return None
        try:
            model = apps.get_model(m.group(1), m.group(2))
        except LookupError:
            return None
        if model is User and actor is not None:
            values.append(str(actor.pk))
        else:
            first = model.objects.order_by("pk").first()
            values.append(str(first.pk) if first else "999999")
    if p.name is not None:
        return reverse(p.name, args=values) if values else reverse(p.name)
    text = p.route
    for v in values:
        text = re.sub(r"<(?:\w+:)?\w+>", v, text, count=1)
    return "/" + text


# --- finding 1, exactly as reported ------------------------------------------------------------------------
def _user_post(target: User, **extra) -> dict:
    """The old user change form, filled in: every field of Django's UserAdmin plus ours."""
    data = {
        "username": target.username, "display_name": target.display_name or "x", "email": "",
        "first_name": "", "last_name": "", "mobile": "", "is_active": "on",
        "region": target.region_id or "", "organization": target.organization_id or "",
        "date_joined_0": "2026-01-01", "date_joined_1": "08:00:00", "initial-date_joined_0": "2026-01-01",
        "initial-date_joined_1": "08:00:00", "last_login_0": "", "last_login_1": "", "_save": "保存",
    }
    data.update(extra)
    return data


def test_finding1_district_admin_cannot_make_itself_superuser(client_for):
    """区级管理员 opens its own user, ticks 超级用户状态 and saves: refused, nothing changes."""
    c = client_for("demo_district")
    me = User.objects.get(username="demo_district")
    url = reverse("admin:accounts_user_change", args=[me.pk])
    c.get(url)
    resp = c.post(url, _user_post(me, is_superuser="on", is_staff="on"))
    me.refresh_from_db()
    assert not me.is_superuser, "区级管理员把自己设成了超级用户"
    assert resp.status_code in (403, 404)


def test_finding1_district_admin_cannot_give_rights_or_reset_passwords(client_for):
    c = client_for("demo_district")
    mediator = User.objects.get(username="demo_mediator")
    before = set(mediator.get_all_permissions())
    resp = c.post(reverse("admin:accounts_user_change", args=[mediator.pk]), _user_post(
        mediator, groups=[g.pk for g in Group.objects.all()],
        user_permissions=list(Permission.objects.values_list("pk", flat=True))))
    assert resp.status_code in (403, 404)
    mediator = User.objects.get(pk=mediator.pk)
    assert set(mediator.get_all_permissions()) == before and not mediator.user_permissions.exists()
    resp = c.post(reverse("admin:auth_user_password_change", args=[mediator.pk]),
                  {"password1": PROBE_PASSWORD, "password2": PROBE_PASSWORD, "usable_password": "true"})
    assert resp.status_code in (403, 404)
    assert not User.objects.get(pk=mediator.pk).check_password(PROBE_PASSWORD)
    # and the district admin's role itself carries no management right any more
    assert not any(separation.is_management_perm(p) for p in User.objects.get(username="demo_district")
                   .get_all_permissions())


# --- the probes ---------------------------------------------------------------------------------------------
def _snapshot():
    perms = {u.username: frozenset(User.objects.get(pk=u.pk).get_all_permissions()) for u in User.objects.all()}
    groups = {g.name: frozenset(f"{a}.{c}" for a, c in g.permissions.values_list("content_type__app_label", "codename"))
              for g in Group.objects.all()}
    passwords = {u.username: u.password for u in User.objects.all()}
    return perms, groups, passwords


def _probes(actor: User):
    """(label, url, data) POSTs an attacker logged in as ``actor`` would try."""
    all_groups = [g.pk for g in Group.objects.all()]
    admin_groups = [g.pk for g in Group.objects.filter(role__code__in=separation.admin_role_codes())]
    all_perms = list(Permission.objects.values_list("pk", flat=True))
    escalate = {"is_superuser": "on", "is_staff": "on", "user_permissions": all_perms}
    targets = [actor] + [User.objects.get(username=n) for n in
                         ("demo_mediator", "demo_district", "demo_sysadmin", "demo_secadmin", "demo_auditor",
                          "demo_tp_mediator") if n != actor.username]
    for t in targets:
        url = reverse("admin:accounts_user_change", args=[t.pk])
        yield f"改用户 {t.username}：超级用户+全部权限", url, _user_post(t, **escalate)
        yield f"改用户 {t.username}：全部角色", url, _user_post(t, groups=all_groups, **escalate)
        yield f"改用户 {t.username}：三员角色", url, _user_post(t, groups=admin_groups)
        yield f"重置 {t.username} 的密码", reverse("admin:auth_user_password_change", args=[t.pk]), \
            {"password1": PROBE_PASSWORD, "password2": PROBE_PASSWORD, "usable_password": "true"}
    add = reverse("admin:accounts_user_add")
    new = {"username": f"probe_{actor.pk}", "password1": PROBE_PASSWORD, "password2": PROBE_PASSWORD,
           "usable_password": "true", "display_name": "探测", "is_active": "on", "_save": "保存"}
    yield "新增用户：超级用户+全部权限", add, {**new, **escalate}
    yield "新增用户：全部角色", add, {**new, "groups": all_groups, **escalate}
    yield "新增用户：三员角色", add, {**new, "username": f"probe2_{actor.pk}", "groups": admin_groups}
    for g in Group.objects.all():
        url = reverse("admin:auth_group_change", args=[g.pk])
        yield f"改角色 {g.name}：全部权限", url, {"name": g.name, "permissions": all_perms}
        yield f"改角色 {g.name}：改名", url, {"name": f"{g.name}X", "permissions": list(g.permissions.values_list("pk", flat=True))}
    yield "新增角色：全部权限", reverse("admin:auth_group_add"), {"name": "探测角色", "permissions": all_perms}
    yield "用户列表批量操作", reverse("admin:accounts_user_changelist"), \
        {"action": "delete_selected", "_selected_action": [u.pk for u in targets], "post": "yes"}
    yield "角色列表批量操作", reverse("admin:auth_group_changelist"), \
        {"action": "delete_selected", "_selected_action": all_groups, "post": "yes"}
    # every page the net finds: the plain escalation payload
    for p in rights_patterns():
        url = _fill(p, actor)
        yield f"{p.key}：提权字段", url, {"username": actor.username, "name": "探测", "groups": all_groups,
                                      "permissions": all_perms, "user": actor.pk, "account": actor.pk,
                                      "role": "sysadmin", "op": "role", **escalate}
    # third-party accounts: district screens and the org admin's mediators page
    from orgs.models import Organization

    org = Organization.objects.get(name="和合商事调解中心")
    accounts = reverse("admin:dispatch_thirdpartyorg_accounts", args=[org.pk])
    for role in sorted(separation.admin_role_codes()) + ["district_admin", "tp_admin"]:
        yield f"第三方账号：新建 {role}", accounts, {"op": "create", "username": f"probe_tp_{actor.pk}",
                                                 "display_name": "探测", "role": role, "password": PROBE_PASSWORD}
        for t in ("demo_tp_mediator", "demo_sysadmin", actor.username):
            target = User.objects.get(username=t)
            yield f"第三方账号：{t} 改为 {role}", accounts, {"op": "role", "account": target.pk, "role": role}
    yield "调解员管理：新增（带角色与超级用户）", reverse("thirdparty:mediators"), {
        "op": "add", "username": f"probe_m_{actor.pk}", "display_name": "探测", "mobile": "13800138000",
        "password": PROBE_PASSWORD, "active": "on", "role": "sysadmin", "groups": all_groups, **escalate}


@pytest.mark.parametrize("role", list(ACTORS), ids=list(ACTORS.values()))
def test_no_role_can_raise_rights(role, client_for):
    username = ACTORS[role]
    actor = User.objects.get(username=username)
    assert actor.groups.filter(name=role).exists()
    delegable = set()
    for g in separation.assignable_roles(actor):
        delegable |= {f"{a}.{c}" for a, c in g.permissions.values_list("content_type__app_label", "codename")}
    perms0, groups0, passwords0 = _snapshot()
    users0 = set(User.objects.values_list("username", flat=True))
    c = client_for(username)
    errors = []
    for label, url, data in _probes(actor):
        resp = c.post(url, data)
        if resp.status_code >= 500:
            errors.append(f"{label}：服务器错误 {resp.status_code}")
    perms1, groups1, passwords1 = _snapshot()

    if User.objects.filter(is_superuser=True).exists():
        errors.append("出现了超级用户：" + "、".join(User.objects.filter(is_superuser=True).values_list("username", flat=True)))
    if User.user_permissions.through.objects.exists():
        errors.append("出现了直接授予用户的权限（user_permissions）")
    if User.objects.filter(is_staff=False, username__startswith="probe").exists():
        pass  # is_staff is not a right here; new accounts are always staff
    for name, after in perms1.items():
        before = perms0.get(name, frozenset())
        gained = after - before
        if not gained:
            continue
        if name == username:
            errors.append(f"{role} 提升了自己的权限：{sorted(gained)[:5]}")
        elif any(separation.is_management_perm(p) for p in gained):
            errors.append(f"{role} 让 {name} 获得了管理权限：{sorted(p for p in gained if separation.is_management_perm(p))}")
        elif not gained <= delegable:
            errors.append(f"{role} 让 {name} 获得了超出其可分配角色的权限：{sorted(gained - delegable)[:5]}")
    for name, after in groups1.items():
        before = groups0.get(name)
        if before is None:
            errors.append(f"{role} 新建了角色 {name}")
        elif after != before:
            errors.append(f"{role} 修改了角色“{name}”的权限")  # the probes only try illegal changes
    for name in set(groups0) - set(groups1):
        errors.append(f"{role} 删除或改名了角色 {name}")
    for name, pw in passwords0.items():
        if passwords1.get(name) != pw:
            target = User.objects.get(username=name)
            ok = role == "系统管理员" and not separation.is_protected(target) and target.must_change_password
            if not ok:
                errors.append(f"{role} 重置了 {name} 的密码")
    for name in set(User.objects.values_list("username", flat=True)) - users0:
        new = User.objects.get(username=name)
        if separation.is_protected(new) or set(new.get_all_permissions()) - delegable:
            errors.append(f"{role} 建了一个超出其可分配范围的账号 {name}")
    assert not errors, f"{role}（{username}）：\n" + "\n".join(errors)


# --- what each admin may still do (the controls above are not just "nobody can do anything") -------------
def test_sysadmin_manages_business_users_from_the_allow_list(client_for):
    from secure.models import SecurityEvent

    c = client_for("demo_sysadmin")
    mediator_role = Group.objects.get(name="社区调解员")
    street = User.objects.get(username="demo_street")
    page = c.get(reverse("admin:accounts_user_change", args=[street.pk])).content.decode()
    assert "超级用户" not in page and "用户权限" not in page and 'name="user_permissions"' not in page
    assert 'name="is_superuser"' not in page and 'name="is_staff"' not in page
    # the role choices are the allow-list: business roles only
    offered = re.search(r'<select name="groups".*?</select>', page, re.S).group(0)
    assert "社区调解员" in offered and "区级管理员" in offered
    assert not any(g.name in offered for g in Group.objects.filter(role__code__in=separation.admin_role_codes()))

    resp = c.post(reverse("admin:accounts_user_add"), {
        "username": "new_mediator", "password1": PROBE_PASSWORD, "password2": PROBE_PASSWORD,
        "usable_password": "true", "display_name": "新调解员", "is_active": "on", "groups": [mediator_role.pk],
        "is_superuser": "on", "user_permissions": list(Permission.objects.values_list("pk", flat=True))})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    new = User.objects.get(username="new_mediator")
    assert list(new.groups.values_list("name", flat=True)) == ["社区调解员"]
    assert not new.is_superuser and new.is_staff and not new.user_permissions.exists()
    assert new.must_change_password, "管理员建的账号首次登录须修改密码"
    ev = SecurityEvent.objects.filter(event="user_change", object_repr__contains="新调解员").latest("pk")
    assert ev.outcome == "success" and ev.username == "demo_sysadmin" and "社区调解员" in str(ev.detail)

    # reset a business user's password: the owner must change it at the next login; audited
    resp = c.post(reverse("admin:auth_user_password_change", args=[street.pk]),
                  {"password1": PROBE_PASSWORD, "password2": PROBE_PASSWORD, "usable_password": "true"})
    assert resp.status_code == 302
    street.refresh_from_db()
    assert street.check_password(PROBE_PASSWORD) and street.must_change_password
    assert SecurityEvent.objects.filter(event="password_reset", outcome="success", username="demo_sysadmin").exists()

    # roles the account holds outside the actor's allow-list are kept by a save
    odd = Group.objects.create(name="临时业务角色")
    street.groups.add(odd)
    resp = c.post(reverse("admin:accounts_user_change", args=[street.pk]),
                  _user_post(street, groups=[mediator_role.pk]))
    assert resp.status_code == 302
    assert set(street.groups.values_list("name", flat=True)) == {"社区调解员", "临时业务角色"}


def test_sysadmin_cannot_touch_admin_accounts_or_itself(client_for):
    from secure.models import SecurityEvent

    c = client_for("demo_sysadmin")
    me, sec = User.objects.get(username="demo_sysadmin"), User.objects.get(username="demo_secadmin")
    for target in (me, sec):
        url = reverse("admin:accounts_user_change", args=[target.pk])
        assert c.get(url).status_code == 200  # read-only view
        assert c.post(url, _user_post(target, display_name="改名")).status_code == 403
        assert User.objects.get(pk=target.pk).display_name != "改名"
        assert c.post(reverse("admin:auth_user_password_change", args=[target.pk]), {
            "password1": PROBE_PASSWORD, "password2": PROBE_PASSWORD, "usable_password": "true"}).status_code == 403
    denied = SecurityEvent.objects.filter(event__in=["user_change", "password_reset"], outcome="failure",
                                          username="demo_sysadmin")
    assert denied.count() >= 4 and "三员" in str(denied.filter(object_repr="安全管理员").first().detail)
    # a posted management role is an invalid choice, with a message, nothing saved
    street = User.objects.get(username="demo_street")
    resp = c.post(reverse("admin:accounts_user_change", args=[street.pk]), _user_post(
        street, groups=[Group.objects.get(name="系统管理员").pk]))
    assert resp.status_code == 200 and "不在可用的选项中" in resp.content.decode()
    assert not street.groups.filter(name="系统管理员").exists()


def test_secadmin_sets_business_rights_only(client_for):
    from secure.models import SecurityEvent

    c = client_for("demo_secadmin")
    role = Group.objects.get(name="社区调解员")
    business = list(role.permissions.values_list("pk", flat=True))
    extra = Permission.objects.get(content_type__app_label="cases", codename="delete_case")
    resp = c.post(reverse("admin:auth_group_change", args=[role.pk]), {"name": role.name,
                                                                       "permissions": business + [extra.pk]})
    assert resp.status_code == 302 and role.permissions.filter(pk=extra.pk).exists()
    ev = SecurityEvent.objects.filter(event="group_change", outcome="success").latest("pk")
    assert "cases.delete_case" in str(ev.detail) and ev.username == "demo_secadmin"
    # a management right is not on offer
    for perm in ("accounts.change_user", "auth.change_group", "secure.view_securityevent"):
        app, code = perm.split(".")
        p = Permission.objects.filter(content_type__app_label=app, codename=code).first()
        if p is None:
            continue
        resp = c.post(reverse("admin:auth_group_change", args=[role.pk]), {"name": role.name,
                                                                           "permissions": business + [p.pk]})
        assert resp.status_code == 200 and not role.permissions.filter(pk=p.pk).exists(), perm
    # its own role and the other management roles are read-only
    for name in ("安全管理员", "系统管理员", "审计管理员"):
        g = Group.objects.get(name=name)
        assert c.post(reverse("admin:auth_group_change", args=[g.pk]), {
            "name": name, "permissions": business}).status_code == 403
    # it manages no users
    street = User.objects.get(username="demo_street")
    assert c.post(reverse("admin:accounts_user_change", args=[street.pk]), _user_post(street)).status_code == 403


def test_auditor_reads_the_audit_only(client_for):
    c = client_for("demo_auditor")
    auditor = User.objects.get(username="demo_auditor")
    assert auditor.get_all_permissions() == {"secure.view_securityevent", "admin.view_logentry"} & \
        set(f"{a}.{c}" for a, c in Permission.objects.values_list("content_type__app_label", "codename"))
    for url in (reverse("admin:accounts_user_changelist"), reverse("admin:auth_group_changelist"),
                reverse("admin:cases_case_changelist")):
        assert c.get(url).status_code in (302, 403)


def test_business_roles_hold_no_management_rights_and_admin_roles_are_disjoint():
    roles = {r["code"]: r for r in separation.load_roles()}
    admin_codes = {c for c, r in roles.items() if r["admin"]}
    assert {roles[c]["name"] for c in admin_codes} == {"系统管理员", "安全管理员", "审计管理员"}
    for code, r in roles.items():
        mgmt = [p for p in r["permissions"] if separation.is_management_perm(p)]
        if code not in admin_codes:
            assert not mgmt, f"业务角色“{r['name']}”含有管理权限 {mgmt}"
        for assigned in r.get("assigns") or []:
            assert assigned in roles and assigned not in admin_codes, f"{r['name']} 可分配 {assigned}"
    perms = {roles[c]["name"]: set(roles[c]["permissions"]) for c in admin_codes}
    # the auditor's rights are nobody else's; the system and security admins cannot touch the audit log
    assert perms["审计管理员"] == {"secure.view_securityevent", "admin.view_logentry"}
    assert not perms["审计管理员"] & (perms["系统管理员"] | perms["安全管理员"])
    assert not any(p.startswith(("secure.", "admin.")) for p in perms["系统管理员"] | perms["安全管理员"])
    # only the security admin changes a role's rights; only the system admin manages users
    assert "auth.change_group" in perms["安全管理员"] and "auth.change_group" not in perms["系统管理员"]
    assert "accounts.change_user" in perms["系统管理员"] and "accounts.change_user" not in perms["安全管理员"]


def test_a_business_role_with_a_stale_management_right_grants_nothing(client_for):
    """An installation upgraded from before 三员分立: 区级管理员 still holds accounts.change_user in
    the database until bootstrap_admins strips it — the right does not count meanwhile."""
    role = Group.objects.get(name="区级管理员")
    role.permissions.add(*Permission.objects.filter(content_type__app_label="accounts",
                                                    codename__in=["view_user", "add_user", "change_user"]))
    c = client_for("demo_district")
    me, mediator = User.objects.get(username="demo_district"), User.objects.get(username="demo_mediator")
    assert c.post(reverse("admin:accounts_user_change", args=[me.pk]),
                  _user_post(me, is_superuser="on")).status_code in (403, 404)
    assert not User.objects.get(pk=me.pk).is_superuser
    assert c.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert c.post(reverse("admin:accounts_user_change", args=[mediator.pk]),
                  _user_post(mediator, display_name="被改名")).status_code in (403, 404)
    assert User.objects.get(pk=mediator.pk).display_name != "被改名"
    _, report = separation.sync_roles()
    assert any("区级管理员" in line and "accounts.change_user" in line for line in report)
    assert not role.permissions.filter(content_type__app_label="accounts").exists()


def test_org_admin_cannot_create_anything_but_mediators(client_for):
    from orgs.models import Organization

    c = client_for("demo_tp_admin")
    resp = c.post(reverse("thirdparty:mediators"), {
        "op": "add", "username": "tp_new_one", "display_name": "新调解员", "mobile": "13800138000",
        "password": PROBE_PASSWORD, "active": "on", "role": "sysadmin", "is_superuser": "on"})
    assert resp.status_code in (200, 302)
    new = User.objects.get(username="tp_new_one")
    assert set(new.groups.values_list("name", flat=True)) == {"第三方调解员"}
    assert not new.is_superuser and new.must_change_password
    org = Organization.objects.get(name="和合商事调解中心")
    assert new.organization == org

    from cases.actions import ActionRefused
    from dispatch import accounts as tp

    district = User.objects.get(username="demo_district")
    for role in ("sysadmin", "secadmin", "auditor", "district_admin", "mediator"):
        with pytest.raises(ActionRefused):
            tp.create_account(district, org=org, username=f"x_{len(role)}", display_name="x", role=role,
                              password=PROBE_PASSWORD)
    # an admin account placed in a third-party organisation is not managed from these screens
    sec = User.objects.get(username="demo_secadmin")
    sec.organization = org
    sec.save()
    with pytest.raises(ActionRefused, match="三员"):
        tp.set_account_active(district, sec, False)


# --- bootstrap: the three admins instead of createsuperuser ---------------------------------------------------
def test_bootstrap_admins_creates_the_three_admins_with_forced_change(world):
    from io import StringIO

    from django.conf import settings
    from django.core.management import CommandError, call_command

    boss = User.objects.create_superuser("old_root", "r@example.com", "Old#Root-2026x")
    out, err = StringIO(), StringIO()
    call_command("bootstrap_admins", sysadmin="sa_li", secadmin="sec_wang", auditor="aud_zhao", region="339901",
                 demote_superusers=True, stdout=out, stderr=err)
    text = out.getvalue()
    made = {}
    for username, role in (("sa_li", "系统管理员"), ("sec_wang", "安全管理员"), ("aud_zhao", "审计管理员")):
        u = User.objects.get(username=username)
        assert list(u.groups.values_list("name", flat=True)) == [role]
        assert u.is_staff and not u.is_superuser and u.must_change_password
        password = re.search(rf"{role}\s+{username}\s+(\S+)", text).group(1)
        assert u.check_password(password) and len(password) >= 12
        made[username] = password
    assert len(set(made.values())) == 3
    assert User.objects.get(username="sa_li").region.code == "339901"
    assert not User.objects.get(pk=boss.pk).is_superuser and not User.objects.filter(is_superuser=True).exists()
    assert "old_root" in text
    # idempotent: a second run changes nobody's password and prints none
    out2 = StringIO()
    call_command("bootstrap_admins", sysadmin="sa_li", secadmin="sec_wang", auditor="aud_zhao", stdout=out2)
    assert "未改动" in out2.getvalue() and not any(p in out2.getvalue() for p in made.values())
    assert User.objects.get(username="sa_li").check_password(made["sa_li"])
    # one person cannot be two of the three; a business account is not taken over
    with pytest.raises(CommandError, match="三个不同"):
        call_command("bootstrap_admins", sysadmin="x1", secadmin="x1", auditor="x2", stdout=StringIO())
    with pytest.raises(CommandError, match="已存在"):
        call_command("bootstrap_admins", sysadmin="demo_mediator", secadmin="s2", auditor="a2", stdout=StringIO())
    # the deployment guide uses it, not createsuperuser
    guide = (settings.BASE_DIR / "deploy" / "README.md").read_text(encoding="utf-8")
    assert "bootstrap_admins" in guide and not re.search(r"manage\.py\s+createsuperuser", guide)


def test_bootstrap_admins_replaces_an_admin_who_left(world):
    from io import StringIO

    from django.core.management import call_command

    call_command("bootstrap_admins", sysadmin="sa_li", secadmin="sec_wang", auditor="aud_zhao", stdout=StringIO())
    out = StringIO()
    call_command("bootstrap_admins", sysadmin="sa_chen", secadmin="sec_wang", auditor="aud_zhao", close=["sa_li"],
                 stdout=out)
    assert not User.objects.get(username="sa_li").is_active
    new = User.objects.get(username="sa_chen")
    assert new.is_active and new.groups.filter(name="系统管理员").exists() and "sa_chen" in out.getvalue()
