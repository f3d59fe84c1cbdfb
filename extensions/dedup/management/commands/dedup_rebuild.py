"""python manage.py dedup_rebuild [--jobs N] [--chunk N]: recompute every signature and proposed
pair from the cases and clues (no worker needed; staff decisions are kept). ``--jobs`` worker
processes (default: the CPU count) share the feature and pair phases on PostgreSQL."""
from django.core.management.base import BaseCommand, CommandError

from extensions.dedup.rebuild import default_jobs, rebuild


class Command(BaseCommand):
    help = "从头重算重复案件研判（特征与待确认结果；已确认/已否决的结果保留）"

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=2000, help="每批处理的记录数")
        parser.add_argument("--jobs", type=int, default=default_jobs(),
                            help=f"并行进程数（默认为 CPU 核数，本机 {default_jobs()}；仅 PostgreSQL）")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, **opts):
        say = None if opts["quiet"] else (lambda msg: self.stderr.write(msg))
        from secure.crypto import DecryptionError

        try:
            out = rebuild(chunk=max(100, opts["chunk"]), progress=say, jobs=max(1, opts["jobs"]))
        except DecryptionError as exc:
            raise CommandError(f"无法解密当事人电话（{exc}）。请确认 SM4_KEY 与写入数据时使用的一致；"
                               "已确认/已否决的研判结果未受影响，修正后重新运行即可") from exc
        self.stdout.write(f"重复研判重算完成：{out['records']} 条记录，{out['pairs']} 对结果，"
                          f"用时 {out['seconds']} 秒（特征 {out['seconds_features']} 秒，索引 {out['seconds_indexes']} 秒，"
                          f"配对 {out['seconds_pairs']} 秒；{out['jobs']} 个进程）")
