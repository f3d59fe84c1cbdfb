"""python manage.py dedup_feedback [--since 2026-01-01] [--format table|json] [--labels-out FILE]

The duplicate model's precision on the district's own data: the pairs staff confirmed or
rejected, per verdict kind (同一案件 / 同人不同案 / 同案不同人) and channel pair.
``--labels-out`` writes the decided pairs as labels (JSON lines: a, b, kind, confirmed)."""
import json

from django.core.management.base import BaseCommand, CommandError

from extensions.dedup import feedback


class Command(BaseCommand):
    help = "按研判类型与渠道组合统计重复案件模型在人工确认/否决结果上的准确率"

    def add_arguments(self, parser):
        parser.add_argument("--since", help="只统计此时间之后确认/否决的结果（例：2026-01-01）")
        parser.add_argument("--format", default="table", help="table（默认）或 json")
        parser.add_argument("--labels-out", help="把已确认/否决的结果作为标注写入此文件（每行一个 JSON）")

    def handle(self, *args, **opts):
        from cases.tasks import parse_moment

        if opts["format"] not in ("table", "json"):
            raise CommandError(f"不支持的格式“{opts['format']}”，可用：table、json")
        since = None
        if opts["since"]:
            try:
                since = parse_moment(opts["since"])
            except ValueError as exc:
                raise CommandError(f"时间格式不对：{opts['since']}（例：2026-01-01）") from exc
        if opts["labels_out"]:
            try:
                with open(opts["labels_out"], "w", encoding="utf-8") as fh:
                    for a, b, kind, ok in feedback.labels(since):
                        fh.write(json.dumps({"a": a, "b": b, "kind": kind, "confirmed": ok}, ensure_ascii=False) + "\n")
            except OSError as exc:
                raise CommandError(f"无法写入文件：{opts['labels_out']}（{exc.strerror}）") from exc
        rows = feedback.precision_table(since)
        write = self.stdout.write
        if opts["format"] == "json":
            for r in rows:
                write(json.dumps({"kind": feedback.KIND_LABELS.get(r.kind, r.kind), "channels": r.channels,
                                  "confirmed": r.confirmed, "rejected": r.rejected,
                                  "precision": None if r.precision is None else round(r.precision, 3)},
                                 ensure_ascii=False))
            return
        if not rows:
            write("还没有人工确认或否决的研判结果")
            return
        write("研判类型\t渠道组合\t确认\t否决\t准确率")
        for r in rows:
            write(f"{feedback.KIND_LABELS.get(r.kind, r.kind)}\t{r.channels}\t{r.confirmed}\t{r.rejected}\t"
                  f"{'-' if r.precision is None else f'{r.precision:.1%}'}")
