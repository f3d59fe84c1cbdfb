"""Clue.address_standard: text → foreign key to addresses.StandardAddress (and the same link on
RawRecord, which serves aggregated cases). Existing links are kept: the id the ingest stored in
the clue's ``extra["address_standard_id"]`` (or the case's ``extra.aggregation``), else the
standard address with exactly that text."""
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("addresses", "0001_initial"),
        ("clues", "0003_lean_indexes"),
    ]

    operations = [
        migrations.RenameField("clue", "address_standard", "address_standard_text"),
        migrations.RenameField("historicalclue", "address_standard", "address_standard_text"),
        migrations.AddField(
            model_name="clue",
            name="address_standard",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="clues", to="addresses.standardaddress", verbose_name="标准地址"),
        ),
        migrations.AddField(
            model_name="historicalclue",
            name="address_standard",
            field=models.ForeignKey(blank=True, db_constraint=False, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.DO_NOTHING, related_name="+",
                                    to="addresses.standardaddress", verbose_name="标准地址"),
        ),
        migrations.AddField(
            model_name="rawrecord",
            name="address_standard",
            field=models.ForeignKey(blank=True, db_index=False, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL, related_name="+",
                                    to="addresses.standardaddress", verbose_name="标准地址"),
        ),
    ]
