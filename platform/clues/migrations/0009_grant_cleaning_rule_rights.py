"""Business admins edit the cleaning rules in the admin (清洗规则): give existing roles the
clues function rights listed for them in fixtures/roles.yaml (adds only)."""
from django.db import migrations

from ops.migration_operations import grant_role_rights


class Migration(migrations.Migration):
    dependencies = [("clues", "0008_pull_claim"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [migrations.RunPython(grant_role_rights("clues"), migrations.RunPython.noop)]
