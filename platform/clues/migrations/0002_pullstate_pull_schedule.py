"""PullState (where the scheduled HTTP pull of each channel stands) and the django-q2 schedule
"拉取外部渠道数据" → clues.tasks.pull_all every 15 minutes. Idempotent: an existing schedule of
that name (perhaps edited by an admin) is left as it is."""
import django.db.models.deletion
from django.db import migrations, models
from django.utils import timezone

NAME = "拉取外部渠道数据"
FUNC = "clues.tasks.pull_all"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).get_or_create(name=NAME, defaults={
        "func": FUNC, "schedule_type": "I", "minutes": 15, "repeats": -1, "next_run": timezone.now()})


def remove_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(name=NAME, func=FUNC).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("clues", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.CreateModel(
            name="PullState",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("since", models.DateTimeField(blank=True, help_text="最近一次完整拉取的开始时间；下次从此时间起拉取（since 参数）", null=True, verbose_name="已拉取至")),
                ("last_run_at", models.DateTimeField(blank=True, null=True, verbose_name="最近拉取")),
                ("last_ok_at", models.DateTimeField(blank=True, null=True, verbose_name="最近成功")),
                ("last_status", models.CharField(blank=True, choices=[("ok", "成功"), ("partial", "部分成功"), ("failed", "失败")], max_length=8, verbose_name="最近结果")),
                ("last_error", models.CharField(blank=True, max_length=500, verbose_name="最近问题")),
                ("channel", models.OneToOneField(db_column="source", on_delete=django.db.models.deletion.CASCADE, related_name="pull_state", to="clues.channel", to_field="key", verbose_name="来源")),
                ("last_batch", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to="clues.ingestbatch", verbose_name="最近批次")),
            ],
            options={"verbose_name": "拉取状态", "verbose_name_plural": "拉取状态"},
        ),
        migrations.RunPython(create_schedule, remove_schedule),
    ]
