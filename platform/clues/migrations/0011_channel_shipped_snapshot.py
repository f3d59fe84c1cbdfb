"""Channels become metadata records (lowcode.metakinds, metadata/channels.yaml): origin, the
shipped snapshot and updated_at. Existing rows start as site records without a snapshot; the next
``load_metadata`` recognises a channel equal to its shipped row as shipped and unedited, and keeps
one the site renamed (it only records the snapshot)."""
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("clues", "0010_encrypt_raw_payloads"),
    ]

    operations = [
        migrations.AddField(
            model_name="channel",
            name="origin",
            field=models.CharField(choices=[("shipped", "出厂"), ("site", "本地新增")], default="site",
                                   editable=False, max_length=8, verbose_name="来源"),
        ),
        migrations.AddField(
            model_name="channel",
            name="shipped",
            field=models.JSONField(blank=True, editable=False, null=True, verbose_name="出厂值"),
        ),
        migrations.AddField(
            model_name="channel",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now, verbose_name="更新时间"),
            preserve_default=False,
        ),
    ]
