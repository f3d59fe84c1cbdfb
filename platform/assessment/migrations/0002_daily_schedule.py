"""The daily django-q2 schedule 考核评价每日计算 (assessment.tasks.compute_daily). Idempotent: an
existing schedule of that name (perhaps edited by an admin) is left as it is."""
from django.db import migrations
from django.utils import timezone

NAME = "考核评价每日计算"
FUNC = "assessment.tasks.compute_daily"


def create_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).get_or_create(name=NAME, defaults={
        "func": FUNC, "schedule_type": "D", "repeats": -1, "next_run": timezone.now()})


def remove_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.using(schema_editor.connection.alias).filter(name=NAME, func=FUNC).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("assessment", "0001_initial"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(create_schedule, remove_schedule),
    ]
