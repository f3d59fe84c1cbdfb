"""python manage.py dedup_rebuild: recompute every signature and proposed pair from the cases
and clues (no worker needed; staff decisions are kept)."""
from django.core.management.base import BaseCommand, CommandError

from extensions.dedup.rebuild import rebuild


class Command(BaseCommand):
    help = "从头重算重复案件研判（特征与待确认结果；已确认/已否决的结果保留）"

    def add_arguments(self, parser):
        parser.add_argument("--chunk", type=int, default=2000, help="每批处理的记录数")
        parser.add_argument("--quiet", action="store_true")

    def handle(self, *args, **opts):
        say = None if opts["quiet"] else (lambda msg: self.stderr.write(msg))
        from secure.crypto import DecryptionError

        try:
            out = rebuild(chunk=max(100, opts["chunk"]), progress=say)
        except DecryptionError as exc:
            raise CommandError(f"无法解密当事人电话（{exc}）。请确认 SM4_KEY 与写入数据时使用的一致；"
                               "已确认/已否决的研判结果未受影响，修正后重新运行即可") from exc
        self.stdout.write(f"重复研判重算完成：{out['records']} 条记录，{out['pairs']} 对结果，"
                          f"用时 {out['seconds']} 秒（特征 {out['seconds_signatures']} 秒）")
