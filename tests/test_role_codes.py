"""Roles are referenced by their stable code (accounts.Role), never by the group's display name:
renaming every shipped role changes what people read and nothing else — the mediator still works
on H5 and the workbench, reviews still reach the street, per-role lists, the second factor,
third-party accounts and sync_roles all follow the code. Roles are a metadata kind ("roles",
metadata/roles.yaml): one loader, round trip, upgrades, validation."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from accounts import roles, separation
from accounts.models import SecurityPolicy, User
from cases import actions
from cases.models import Case
from notices.models import Notice

RENAMED = {"mediator": "网格调解员", "street_admin": "街道综治管理员", "district_admin": "区矛调中心管理员（角色）",
           "tp_admin": "合作机构管理员", "tp_mediator": "合作机构调解员"}


def user(name):
    return User.objects.get(username=name)


@pytest.fixture
def renamed(world):
    """Every role the tests use renamed the way a site would (display names are site data)."""
    for code, name in RENAMED.items():
        Group.objects.filter(role__code=code).update(name=name)
    assert not Group.objects.filter(name__in=["社区调解员", "街道管理员", "区级管理员"]).exists()
    return RENAMED


def test_the_mediator_keeps_h5_the_workbench_and_the_workflow_after_a_rename(renamed, client_for, make_case):
    case = make_case("湖滨社区", title="改名后的邻里纠纷", registrant=user("demo_mediator"))
    mediator = client_for("demo_mediator")
    assert mediator.get("/h5/").status_code == 200
    assert "开始调解" in mediator.get(f"/h5/cases/{case.pk}/").content.decode()
    mediator.post(f"/h5/cases/{case.pk}/transition/", {"action": "开始调解"})
    assert Case.objects.get(pk=case.pk).status == "mediating"
    assert mediator.get("/admin/").status_code == 200
    assert "网格调解员" in mediator.get("/h5/me/").content.decode()

    # the result review still reaches the (renamed) street admin, on its workbench and in its messages
    actions.submit_result(Case.objects.get(pk=case.pk), user("demo_mediator"), action="提交结果",
                          outcome="success", agreement="双方和解")
    assert Notice.objects.filter(recipient__username="demo_street", kind="review", case=case).exists()
    assert client_for("demo_street").get("/admin/").context["review_count"] == 1


def test_a_refusal_names_the_roles_by_their_current_display_names(renamed, make_case):
    case = make_case("湖滨社区")
    actions.do_transition(case, "开始调解", user("demo_mediator"))
    actions.submit_result(Case.objects.get(pk=case.pk), user("demo_mediator"), action="提交结果", outcome="success")
    reason = actions.refusal_reason(Case.objects.get(pk=case.pk), user("demo_mediator"), "审核通过")
    assert "街道综治管理员、区矛调中心管理员（角色）" in reason and "street_admin" not in reason


def test_a_per_role_list_follows_the_role_code(renamed, client_for, make_case):
    from lowcode.models import ListView

    make_case(title="按角色配置列表", address="湖滨路8号")
    ListView.objects.create(entity="case", role="mediator", columns=["title", "address"],
                            filters=["status"], ordering=["-registered_at"], page_size=10)
    assert "湖滨路8号" in client_for("demo_mediator").get("/admin/cases/case/").content.decode()
    assert "湖滨路8号" not in client_for("demo_district").get("/admin/cases/case/").content.decode()


def test_the_second_factor_policy_names_roles_by_code(renamed):
    from accounts import policy

    SecurityPolicy.objects.update_or_create(pk=1, defaults={"otp_roles": ["district_admin"]})
    policy.clear_cache()
    assert policy.otp_required(user("demo_district"), "/admin/")
    assert not policy.otp_required(user("demo_street"), "/admin/")


def test_the_policy_screen_offers_display_names_and_stores_codes(renamed, client_for):
    from accounts.admin_security import SecurityPolicyForm

    form = SecurityPolicyForm(instance=SecurityPolicy.objects.get_or_create(pk=1)[0])
    assert ("street_admin", "街道综治管理员") in form.fields["otp_roles"].choices


def test_third_party_roles_follow_the_code(renamed, client_for):
    from dispatch import accounts as tp
    from dispatch.scope import is_org_admin
    from orgs.models import Organization

    assert is_org_admin(user("demo_tp_admin"))
    org = Organization.objects.get(name="和合商事调解中心")
    account = tp.create_account(user("demo_district"), org=org, username="hehe_renamed", display_name="新调解员",
                                role=roles.TP_MEDIATOR, password="Mdtj@role-2026x")
    assert list(account.groups.values_list("name", flat=True)) == ["合作机构调解员"]
    page = client_for("demo_district").get(reverse("admin:dispatch_thirdpartyorg_accounts", args=[org.pk])).content.decode()
    assert '<option value="tp_admin">合作机构管理员</option>' in page


def test_sync_roles_finds_renamed_roles_by_code_and_creates_no_twin(renamed):
    before = Group.objects.count()
    groups, report = separation.sync_roles()
    assert Group.objects.count() == before and not any(line.startswith("新建角色") for line in report)
    assert groups["mediator"].name == "网格调解员"
    assert Group.objects.get(role__code="mediator").name == "网格调解员"  # a rename is not undone by loading
    # management roles are still recognised (and still fixed) after a rename
    Group.objects.filter(role__code="auditor").update(name="审计员")
    assert separation.is_protected(user("demo_auditor"))
    assert separation.is_admin_role(Group.objects.get(name="审计员"))


def test_the_upgrade_gives_existing_roles_codes_and_rewrites_name_references(metadata):
    """accounts 0003 on an installation from before codes: groups by their shipped names, workflow
    transitions, per-role lists and the second-factor policy naming roles by name."""
    import importlib

    from django.apps import apps

    from accounts.models import Role
    from lowcode.models import ListView, Workflow

    upgrade = importlib.import_module("accounts.migrations.0003_role_codes")
    Role.objects.all().delete()
    street = Group.objects.get_or_create(name="街道管理员")[0]
    renamed = Group.objects.get_or_create(name="审计管理员")[0]
    Group.objects.get_or_create(name="本地自建角色")
    wf = Workflow.objects.get(entity="case", scope_value="")
    wf.transitions = [{**t, "roles": ["街道管理员" if r == "street_admin" else r for r in t.get("roles", [])]}
                      for t in wf.transitions]
    wf.save()
    ListView.objects.create(entity="case", role="街道管理员", columns=["title"])
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"otp_roles": ["街道管理员", "本地自建角色"]})

    upgrade.forwards(apps, None)

    assert Role.objects.get(group=street).code == "street_admin" and not Role.objects.get(group=street).is_customised
    auditor = Role.objects.get(group=renamed)
    assert auditor.code == "auditor" and auditor.admin and auditor.permissions == ["secure.view_securityevent",
                                                                                 "admin.view_logentry"]
    assert not Role.objects.filter(group__name="本地自建角色").exists()
    roles_named = {r for t in Workflow.objects.get(pk=wf.pk).transitions for r in t.get("roles", [])}
    assert "street_admin" in roles_named and "街道管理员" not in roles_named
    assert ListView.objects.filter(role="street_admin").exists()
    assert SecurityPolicy.objects.get().otp_roles == ["street_admin", "本地自建角色"]


def test_code_asks_roles_by_code_only():
    """No role display name is written in the code that decides rights (messages may name them)."""
    import pathlib
    import re

    from django.conf import settings

    names = [r["name"] for r in separation.load_roles()]
    pattern = re.compile(r"""(groups__name|name__in|name=)\W*["'](%s)["']""" % "|".join(map(re.escape, names)))
    offenders = []
    for top in ("platform", "extensions"):
        for path in (settings.BASE_DIR / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            offenders += [f"{path.relative_to(settings.BASE_DIR)}: {m.group(0)}" for m in pattern.finditer(text)]
    assert not offenders, offenders


# --- the roles metadata kind ----------------------------------------------------------------------------
def _release(tmp_path, change):
    import shutil

    import yaml
    from django.conf import settings

    from lowcode.serialization import to_yaml

    root = tmp_path / "v2"
    shutil.copytree(settings.BASE_DIR / "metadata", root)
    path = root / "roles.yaml"
    path.write_text(to_yaml(change(yaml.safe_load(path.read_text(encoding="utf-8")))), encoding="utf-8")
    return root


def _with(rows, code, **changes):
    for row in rows:
        if row["code"] == code:
            row.update(changes)
    return rows


def test_roles_round_trip_byte_for_byte(db, tmp_path):
    from django.conf import settings

    from lowcode.serialization import dump_metadata, load_metadata

    load_metadata(["roles"])
    dump_metadata(tmp_path, ["roles"])
    shipped = settings.BASE_DIR / "metadata" / "roles.yaml"
    assert (tmp_path / "roles.yaml").read_bytes() == shipped.read_bytes()


def test_an_upgrade_brings_new_rights_to_a_renamed_role_and_a_new_role(world, tmp_path):
    """The next release lists one more right for 社区调解员 (whose group the site renamed) and a
    new role: both reach the installation; the rename and the site's own rights stay."""
    from django.contrib.auth.models import Permission

    from accounts.models import Role
    from lowcode.serialization import load_metadata

    Group.objects.filter(role__code="mediator").update(name="网格调解员")
    mediator_group = Group.objects.get(role__code="mediator")
    mediator_group.permissions.remove(Permission.objects.get(codename="delete_party"))  # the site's call
    root = _release(tmp_path, lambda rows: _with(rows, "mediator", permissions=[
        *next(r for r in rows if r["code"] == "mediator")["permissions"], "cases.view_casereferral"]) + [
        {"code": "grid_worker", "name": "网格员", "permissions": ["cases.view_case"]}])

    load_metadata(["roles"], root=root)

    rights = set(mediator_group.permissions.values_list("codename", flat=True))
    assert "view_casereferral" in rights and "delete_party" not in rights
    assert Group.objects.get(role__code="mediator").name == "网格调解员"
    assert Role.objects.get(code="mediator").shipped["permissions"][-1] == "cases.view_casereferral"
    new = Group.objects.get(role__code="grid_worker")
    assert new.name == "网格员" and list(new.permissions.values_list("codename", flat=True)) == ["view_case"]
    assert user("demo_mediator").has_perm("cases.view_casereferral")


def test_the_management_roles_rights_stay_exactly_the_shipped_ones(world):
    from django.contrib.auth.models import Permission

    auditor = Group.objects.get(role__code="auditor")
    auditor.permissions.add(Permission.objects.get(codename="view_case"))
    _, report = separation.sync_roles()
    assert set(auditor.permissions.values_list("codename", flat=True)) == {"view_securityevent", "view_logentry"}
    assert any("三员角色权限" in line for line in report)


@pytest.mark.parametrize("change, message", [
    (lambda rows: _with(rows, "mediator", permissions=["accounts.change_user"]), "业务角色不得持有管理权限"),
    (lambda rows: _with(rows, "district_admin", assigns=["sysadmin"]), "三员管理角色不能出现在可分配的角色中"),
    (lambda rows: _with(rows, "district_admin", assigns=["nobody"]), "可分配的角色不存在：nobody"),
    (lambda rows: _with(rows, "mediator", permissions=["查看案件"]), "功能权限应为列表"),
    (lambda rows: rows + [{"code": "网格员", "name": "网格员"}], "角色代码应为小写字母开头"),
])
def test_a_bad_roles_file_is_refused_in_chinese_and_changes_nothing(db, tmp_path, change, message):
    from accounts.models import Role
    from lowcode.serialization import MetadataError, load_metadata

    def state():
        return (sorted(Role.objects.values_list("code", "shipped")),
                sorted(Group.objects.values_list("name", "permissions__codename")))

    before = state()
    with pytest.raises(MetadataError, match=message):
        load_metadata(["roles"], root=_release(tmp_path, change))
    assert state() == before
