"""Existing rows: party home addresses (and their history) SM4-encrypted in place; roles get the
referral rights listed in fixtures/roles.yaml, and 业务配置管理员 loses the case-reading rights
it no longer has there (least privilege: configuring needs no case data)."""
from django.db import migrations, models
from django.db.models.functions import Cast

from ops.migration_operations import grant_role_rights

BATCH = 1000
CONFIG_ROLE = "业务配置管理员"
CASE_READING = ["view_case", "view_party", "view_sensitive_party"]


def _rewrite(model, convert) -> None:
    """Read the column as stored (Cast: no decryption on the way out), write ``convert(value)``
    back through a plain text Value (no encryption on the way in), in batches."""
    from secure import crypto

    pk = model._meta.pk.attname
    rows = (model.objects.exclude(address="").annotate(raw=Cast("address", models.TextField()))
            .order_by(pk).values_list(pk, "raw"))
    last = None
    while True:
        page = list((rows.filter(**{f"{pk}__gt": last}) if last is not None else rows)[:BATCH])
        if not page:
            return
        for key, raw in page:
            new = convert(raw or "", crypto)
            if new is not None:
                model.objects.filter(**{pk: key}).update(address=models.Value(new, output_field=models.TextField()))
        last = page[-1][0]


def encrypt(apps, schema_editor):
    def forward(raw, crypto):
        return None if raw.startswith(crypto.PREFIX) else crypto.encrypt(raw)

    for name in ("Party", "HistoricalParty"):
        _rewrite(apps.get_model("cases", name), forward)


def decrypt(apps, schema_editor):
    def backward(raw, crypto):
        return crypto.decrypt(raw)[:255] if raw.startswith(crypto.PREFIX) else None

    for name in ("Party", "HistoricalParty"):
        _rewrite(apps.get_model("cases", name), backward)


def drop_config_case_rights(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name=CONFIG_ROLE).first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(content_type__app_label="cases",
                                                            codename__in=CASE_READING))


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_referrals_party_address"), ("auth", "0012_alter_user_first_name_max_length"),
                    ("contenttypes", "0002_remove_content_type_name")]
    operations = [
        migrations.RunPython(encrypt, decrypt),
        migrations.RunPython(grant_role_rights("cases"), migrations.RunPython.noop),
        migrations.RunPython(drop_config_case_rights, migrations.RunPython.noop),
    ]
