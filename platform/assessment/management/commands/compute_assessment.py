import json

from django.core.management.base import BaseCommand, CommandError

from assessment import compute, periods


class Command(BaseCommand):
    help = "计算考核快照：compute_assessment 2026-11 [--dimension mediator …] [--recompute --reason 原因]"

    def add_arguments(self, parser):
        parser.add_argument("period", nargs="?", help="期间：2026-11 / 2026-Q4 / 2026（默认上月）")
        parser.add_argument("--dimension", action="append", choices=["mediator", "community", "street", "dept", "third"])
        parser.add_argument("--recompute", action="store_true", help="重算已关闭的期间（须 --reason）")
        parser.add_argument("--reason", default="")
        parser.add_argument("--install-schedule", action="store_true", help="建立每日计算的计划任务")

    def handle(self, *args, **opts):
        if opts["install_schedule"]:
            from assessment.tasks import ensure_schedule

            self.stdout.write("计划任务已建立" if ensure_schedule() else "计划任务已存在")
        try:
            period = periods.parse(opts["period"]) if opts["period"] else periods.last_month()
            snaps = compute.compute_period(period, opts["dimension"], recompute=opts["recompute"], reason=opts["reason"])
        except (periods.PeriodError, compute.SnapshotClosed) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(json.dumps({s.dimension: {"units": s.unit_count, "seconds": s.seconds, "status": s.status}
                                      for s in snaps}, ensure_ascii=False))
