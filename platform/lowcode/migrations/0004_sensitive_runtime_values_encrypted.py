"""Values of sensitive runtime fields (FieldDef 敏感, kept in an entity's JSON column) were stored
in plaintext: encrypt them (SM4-GCM + blind index, lowcode.sensitive), 1,000 rows per chunk by
primary key. Idempotent; the reverse decrypts (for code that cannot read them)."""
from django.db import migrations


def encrypt(apps, schema_editor):
    from lowcode import sensitive

    sensitive.encrypt_existing(apps)


def decrypt(apps, schema_editor):
    from lowcode import sensitive

    sensitive.decrypt_existing(apps)


class Migration(migrations.Migration):
    dependencies = [("lowcode", "0003_dictitem_attrs_workflow_timers")]

    operations = [migrations.RunPython(encrypt, decrypt, elidable=True)]
