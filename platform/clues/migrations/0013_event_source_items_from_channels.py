"""The 事件来源 dictionary's items are the channels now (clues.apps: provide_dictionary): the
copies loaded earlier into lowcode.DictItem are dropped so no second list lingers (the admin
and dump_metadata would show it)."""
from django.db import migrations


def drop_copied_items(apps, schema_editor):
    DictItem = apps.get_model("lowcode", "DictItem")
    DictItem.objects.filter(dictionary__code="event_source").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("clues", "0012_channel_history"),
        ("lowcode", "0004_sensitive_runtime_values_encrypted"),
    ]

    operations = [migrations.RunPython(drop_copied_items, migrations.RunPython.noop)]
