from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [("clues", "0005_address_standard_link")]

    operations = [
        migrations.RemoveField("clue", "address_standard_text"),
        migrations.RemoveField("historicalclue", "address_standard_text"),
    ]
