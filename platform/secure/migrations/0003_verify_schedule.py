"""The nightly django-q2 check of the audit chain (secure.audit.verify_task), whose result is
itself an audit row. Idempotent: an existing schedule of that name is left as it is."""
from django.db import migrations
from django.utils import timezone

NAME = "安全审计日志完整性校验"
FUNC = "secure.audit.verify_task"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).get_or_create(name=NAME, defaults={
        "func": FUNC, "schedule_type": "D", "repeats": -1, "next_run": timezone.now()})


def remove_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(name=NAME, func=FUNC).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("secure", "0002_purge_schedule"),
    ]

    operations = [
        migrations.RunPython(create_schedule, remove_schedule),
    ]
