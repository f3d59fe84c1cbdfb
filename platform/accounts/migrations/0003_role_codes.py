"""Roles get a stable code (accounts.Role) and everything that named a role by its group name —
workflow transitions, per-role layouts and lists, the second-factor roles of the security policy
— names it by code from now on, so renaming a group in the admin breaks nothing.

The names → codes table is frozen here (the roles shipped in fixtures/roles.yaml at this point);
a group with another name gets no code and keeps working for rights, as before."""
from django.db import migrations, models
import django.db.models.deletion

CODES = {"系统管理员": "sysadmin", "安全管理员": "secadmin", "审计管理员": "auditor",
         "区级管理员": "district_admin", "业务配置管理员": "config_admin", "街道管理员": "street_admin",
         "社区调解员": "mediator", "部门用户": "dept_user", "第三方组织管理员": "tp_admin",
         "第三方调解员": "tp_mediator"}


def _codes(roles, table):
    return [table.get(r, r) for r in roles or []]


def _workflow_roles(transitions, table):
    out = []
    for t in transitions or []:
        if isinstance(t, dict) and isinstance(t.get("roles"), list):
            t = {**t, "roles": _codes(t["roles"], table)}
        out.append(t)
    return out


def rename_references(apps, table):
    Group = apps.get_model("auth", "Group")
    Role = apps.get_model("accounts", "Role")
    if table is CODES:
        for group in Group.objects.filter(name__in=list(CODES)):
            Role.objects.get_or_create(group=group, defaults={"code": CODES[group.name]})
    Workflow = apps.get_model("lowcode", "Workflow")
    for wf in Workflow.objects.all():
        wf.transitions = _workflow_roles(wf.transitions, table)
        if isinstance(wf.shipped, dict) and "transitions" in wf.shipped:
            wf.shipped = {**wf.shipped, "transitions": _workflow_roles(wf.shipped["transitions"], table)}
        wf.save(update_fields=["transitions", "shipped"])
    for model in ("FormLayout", "ListView"):
        Model = apps.get_model("lowcode", model)
        for row in Model.objects.exclude(role=""):
            row.role = table.get(row.role, row.role)
            if isinstance(row.shipped, dict) and row.shipped.get("role"):
                row.shipped = {**row.shipped, "role": table.get(row.shipped["role"], row.shipped["role"])}
            row.save(update_fields=["role", "shipped"])
    SecurityPolicy = apps.get_model("accounts", "SecurityPolicy")
    for policy in SecurityPolicy.objects.all():
        policy.otp_roles = _codes(policy.otp_roles, table)
        policy.save(update_fields=["otp_roles"])


def forwards(apps, schema_editor):
    rename_references(apps, CODES)


def backwards(apps, schema_editor):
    rename_references(apps, {code: name for name, code in CODES.items()})


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0002_login_security"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("lowcode", "0003_dictitem_attrs_workflow_timers"),
    ]

    operations = [
        migrations.CreateModel(
            name="Role",
            fields=[
                ("group", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                               related_name="role", serialize=False, to="auth.group",
                                               verbose_name="角色")),
                ("code", models.SlugField(help_text="程序与元数据（流程、布局、列表）引用角色用的代码；改角色名称不影响它。",
                                          max_length=64, unique=True, verbose_name="角色代码")),
            ],
            options={"verbose_name": "角色代码", "verbose_name_plural": "角色代码"},
        ),
        migrations.RunPython(forwards, backwards),
    ]
