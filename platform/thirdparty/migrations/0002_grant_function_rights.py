"""Give existing roles the third-party end's function rights listed for them in
fixtures/roles.yaml. New databases get them when the roles are created (demo.seeding.ensure_roles
only sets permissions on a role it creates), so without this an existing installation's
third-party accounts would be turned away from the new screens. Adds only; never removes."""
import yaml
from django.conf import settings
from django.db import migrations


def grant(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("thirdparty")
    config.models_module = True  # historical app configs have none; create_permissions needs it
    create_permissions(config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    path = settings.BASE_DIR / "fixtures" / "roles.yaml"
    if not path.exists():
        return
    for role in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
        group = Group.objects.filter(name=role["name"]).first()
        codes = [p.split(".", 1)[1] for p in role.get("permissions", []) if p.startswith("thirdparty.")]
        if group is not None and codes:
            group.permissions.add(*Permission.objects.filter(content_type__app_label="thirdparty", codename__in=codes))


class Migration(migrations.Migration):
    dependencies = [("thirdparty", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
