"""Roles become a metadata kind with a stable code (accounts.Role, one per group; shipped in
metadata/roles.yaml) and everything that named a role by its group name — workflow transitions,
per-role layouts and lists, the second-factor roles of the security policy — names it by code from
now on, so renaming a role breaks nothing.

Existing groups of the shipped names get their Role (values from metadata/roles.yaml, recorded as
shipped and unedited); the names → codes table is frozen here. A group of another name gets no
code and keeps working for rights, as before."""
import django.db.models.deletion
import simple_history.models
from django.conf import settings
from django.db import migrations, models

CODES = {"系统管理员": "sysadmin", "安全管理员": "secadmin", "审计管理员": "auditor",
         "区级管理员": "district_admin", "业务配置管理员": "config_admin", "街道管理员": "street_admin",
         "社区调解员": "mediator", "部门用户": "dept_user", "第三方组织管理员": "tp_admin",
         "第三方调解员": "tp_mediator"}


def _shipped_rows() -> dict:
    import yaml
    from pathlib import Path

    root = Path(getattr(settings, "METADATA_DIR", settings.BASE_DIR / "metadata"))
    path = root / "roles.yaml"
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else []
    return {r["code"]: r for r in rows or [] if isinstance(r, dict) and "code" in r}


def _codes(roles, table):
    return [table.get(r, r) for r in roles or []] if isinstance(roles, list) else roles


def _workflow_roles(transitions, table):
    if not isinstance(transitions, list):
        return transitions
    return [{**t, "roles": _codes(t["roles"], table)} if isinstance(t, dict) and isinstance(t.get("roles"), list)
            else t for t in transitions]


def rename_references(apps, table):
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
    Group = apps.get_model("auth", "Group")
    Role = apps.get_model("accounts", "Role")
    shipped, made = _shipped_rows(), []
    for group in Group.objects.filter(name__in=list(CODES)):
        code = CODES[group.name]
        row = shipped.get(code, {})
        values = {"code": code, "name": group.name, "admin": bool(row.get("admin", False)),
                  "permissions": list(row.get("permissions") or []), "assigns": list(row.get("assigns") or [])}
        unedited = row.get("name") == group.name
        made.append(Role(group=group, origin="shipped", shipped=values if unedited else None, **values))
    Role.objects.bulk_create(made)
    rename_references(apps, CODES)


def backwards(apps, schema_editor):
    rename_references(apps, {code: name for name, code in CODES.items()})


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_login_security'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('lowcode', '0003_dictitem_attrs_workflow_timers'),
    ]

    operations = [
        migrations.CreateModel(
            name='HistoricalRole',
            fields=[
                ('id', models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name='ID')),
                ('origin', models.CharField(choices=[('shipped', '出厂'), ('site', '本地新增')], default='site', editable=False, max_length=8, verbose_name='来源')),
                ('shipped', models.JSONField(blank=True, editable=False, null=True, verbose_name='出厂值')),
                ('code', models.SlugField(help_text='程序与元数据（流程、布局、列表）引用角色用的代码；改角色名称不影响它。', max_length=64, verbose_name='角色代码')),
                ('name', models.CharField(max_length=150, verbose_name='角色名称')),
                ('admin', models.BooleanField(default=False, help_text='系统/安全/审计管理员：权限固定为出厂值，不能在界面分配或修改', verbose_name='三员管理角色')),
                ('permissions', models.JSONField(blank=True, default=list, help_text='app.codename 或 app.*（该应用全部权限）；业务角色建立后的权限在“组”中修改', verbose_name='出厂功能权限')),
                ('assigns', models.JSONField(blank=True, default=list, help_text='持有本角色者可分配的角色代码', verbose_name='可分配的角色')),
                ('history_id', models.AutoField(primary_key=True, serialize=False)),
                ('history_date', models.DateTimeField(db_index=True)),
                ('history_change_reason', models.CharField(max_length=100, null=True)),
                ('history_type', models.CharField(choices=[('+', 'Created'), ('~', 'Changed'), ('-', 'Deleted')], max_length=1)),
                ('group', models.ForeignKey(blank=True, db_constraint=False, editable=False, null=True, on_delete=django.db.models.deletion.DO_NOTHING, related_name='+', to='auth.group', verbose_name='角色组')),
                ('history_user', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'historical 角色',
                'verbose_name_plural': 'historical 角色',
                'ordering': ('-history_date', '-history_id'),
                'get_latest_by': ('history_date', 'history_id'),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name='Role',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('origin', models.CharField(choices=[('shipped', '出厂'), ('site', '本地新增')], default='site', editable=False, max_length=8, verbose_name='来源')),
                ('shipped', models.JSONField(blank=True, editable=False, null=True, verbose_name='出厂值')),
                ('updated_at', models.DateTimeField(auto_now=True, verbose_name='更新时间')),
                ('code', models.SlugField(help_text='程序与元数据（流程、布局、列表）引用角色用的代码；改角色名称不影响它。', max_length=64, unique=True, verbose_name='角色代码')),
                ('name', models.CharField(max_length=150, verbose_name='角色名称')),
                ('admin', models.BooleanField(default=False, help_text='系统/安全/审计管理员：权限固定为出厂值，不能在界面分配或修改', verbose_name='三员管理角色')),
                ('permissions', models.JSONField(blank=True, default=list, help_text='app.codename 或 app.*（该应用全部权限）；业务角色建立后的权限在“组”中修改', verbose_name='出厂功能权限')),
                ('assigns', models.JSONField(blank=True, default=list, help_text='持有本角色者可分配的角色代码', verbose_name='可分配的角色')),
                ('group', models.OneToOneField(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='role', to='auth.group', verbose_name='角色组')),
            ],
            options={
                'verbose_name': '角色',
                'verbose_name_plural': '角色',
                'ordering': ['code'],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
