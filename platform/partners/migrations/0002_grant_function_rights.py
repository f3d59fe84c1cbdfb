"""Give existing roles the third-party end's function rights listed for them in
fixtures/roles.yaml (see ops.migration_operations.grant_role_rights)."""
from django.db import migrations

from ops.migration_operations import grant_role_rights


class Migration(migrations.Migration):
    dependencies = [("thirdparty", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant_role_rights("thirdparty"), migrations.RunPython.noop)]
