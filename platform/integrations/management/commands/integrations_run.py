"""Periodic work of the integrations: ``--sync`` the 政钉 organisations and users, ``--notices``
send the due 政钉 work notices (new and retries with backoff). ``--install-schedule`` creates
the django-q2 schedules (notices every minute, sync nightly)."""
from django.core.management.base import BaseCommand
from django.utils import timezone


def sync_all() -> str:
    from integrations import sync
    from integrations.models import ExternalSystem

    out = []
    for system in ExternalSystem.objects.filter(kind=ExternalSystem.ZZD, enabled=True):
        run = sync.run(system)
        out.append(f"{system.name}：" + (f"组织 {run.orgs}，新增 {run.users_new}，更新 {run.users_updated}，未变 {run.users_unchanged}"
                                        if run.ok else f"失败：{run.message}"))
    return "；".join(out) or "没有启用的政钉配置"


def notices_due() -> str:
    from integrations.notices import retry_due

    counts = retry_due()
    return f"送达 {counts.get('sent', 0)}，失败待重试 {counts.get('failed', 0)}，放弃 {counts.get('gave_up', 0)}"


class Command(BaseCommand):
    help = "政钉组织与人员同步、工作通知发送与重试"

    def add_arguments(self, parser):
        parser.add_argument("--sync", action="store_true", help="同步政钉组织与人员")
        parser.add_argument("--notices", action="store_true", help="发送到期的政钉工作通知（含重试）")
        parser.add_argument("--install-schedule", action="store_true", help="建立定时任务（django-q2）")

    def handle(self, *args, **opts):
        if opts["install_schedule"]:
            from django_q.models import Schedule

            Schedule.objects.get_or_create(name="政钉工作通知发送与重试", defaults={
                "func": "integrations.management.commands.integrations_run.notices_due",
                "schedule_type": Schedule.MINUTES, "minutes": 1, "repeats": -1, "next_run": timezone.now()})
            Schedule.objects.get_or_create(name="政钉组织与人员同步", defaults={
                "func": "integrations.management.commands.integrations_run.sync_all",
                "schedule_type": Schedule.DAILY, "repeats": -1, "next_run": timezone.now()})
            self.stdout.write("已建立定时任务")
        if opts["sync"]:
            self.stdout.write(sync_all())
        if opts["notices"]:
            self.stdout.write(notices_due())
