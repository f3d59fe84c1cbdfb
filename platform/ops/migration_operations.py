"""Migration operations shared by several apps' migrations."""
from __future__ import annotations

from pathlib import Path

from django.db import migrations


def grant_role_rights(app_label: str):
    """A RunPython function giving existing roles the ``app_label`` function rights listed for
    them in metadata/roles.yaml. New databases get them when the roles are created
    (demo.seeding.ensure_roles only sets permissions on a role it creates), so without this an
    existing installation's users would be turned away from new screens. Adds only; never
    removes."""

    def grant(apps, schema_editor):
        import yaml
        from django.conf import settings
        from django.contrib.auth.management import create_permissions

        config = apps.get_app_config(app_label)
        config.models_module = True  # historical app configs have none; create_permissions needs it
        create_permissions(config, apps=apps, verbosity=0)
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
        path = Path(getattr(settings, "METADATA_DIR", settings.BASE_DIR / "metadata")) / "roles.yaml"
        if not path.exists():
            return
        try:  # roles are found by code once accounts.Role exists (a renamed role keeps its rights)
            apps.get_model("accounts", "Role")
            by_code = True
        except LookupError:
            by_code = False
        for role in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            found = Group.objects.filter(role__code=role["code"]) if by_code else Group.objects.filter(name=role["name"])
            group = found.first()
            codes = [p.split(".", 1)[1] for p in role.get("permissions", []) if p.startswith(app_label + ".")]
            if group is not None and codes:
                group.permissions.add(*Permission.objects.filter(content_type__app_label=app_label,
                                                                 codename__in=codes))
    return grant


class AlterFieldOnline(migrations.AlterField):
    """AlterField that drops indexes (their names are looked up in the live database). In an
    offline DDL script (``dameng_ddl``: SQL collected, no connection) the lookup is impossible;
    there the old index simply stays — it only costs write speed — and a comment says so."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not schema_editor.collect_sql:
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        try:
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        except Exception:  # noqa: BLE001 — only in offline SQL collection
            schema_editor.collected_sql.append(
                f"-- 离线脚本：{self.model_name}.{self.name} 的索引调整需在线执行（保留原索引不影响功能）")


class AlterColumnTypeOnline(migrations.AlterField):
    """AlterField that changes a column's type (e.g. JSON → text for a ciphertext column). dmDjango
    looks up the live column's constraints for that, impossible in the offline DDL script
    (``dameng_ddl``); there the script gets Dameng's plain ``ALTER TABLE … MODIFY`` instead — the
    schema it runs on is empty, so no data has to be converted."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if not schema_editor.collect_sql:
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        try:
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        except Exception:  # noqa: BLE001 — only in offline SQL collection
            model = to_state.apps.get_model(app_label, self.model_name)
            field = model._meta.get_field(self.name)
            definition, _params = schema_editor.column_sql(model, field, include_default=False)
            schema_editor.collected_sql.append(
                f"ALTER TABLE {schema_editor.quote_name(model._meta.db_table)} "
                f"MODIFY {schema_editor.quote_name(field.column)} {definition};")
