"""python manage.py dedup_report [--format jsonl|table] [--status …]: every pair the model holds
(not rejected), one JSON object a line: {"a", "b", "verdict", "score", "reasons"}."""
import json

from django.core.management.base import BaseCommand, CommandError

from extensions.dedup.models import Pair


class Command(BaseCommand):
    help = "输出重复案件研判结果（每行一个 JSON：a、b、verdict、score、reasons）"

    def add_arguments(self, parser):
        parser.add_argument("--format", default="jsonl", help="jsonl（默认）或 table")
        parser.add_argument("--include-rejected", action="store_true", help="也输出已否决的结果")

    def handle(self, *args, **opts):
        fmt = opts["format"]
        if fmt not in ("jsonl", "table"):
            raise CommandError(f"不支持的格式“{fmt}”，可用：jsonl、table")
        qs = Pair.objects.order_by("a_key", "b_key")
        if not opts["include_rejected"]:
            qs = qs.exclude(status="rejected")
        write = self.stdout.write
        for p in qs.values("a_key", "b_key", "verdict", "score", "reasons", "status").iterator(chunk_size=5000):
            if fmt == "jsonl":
                row = {"a": p["a_key"], "b": p["b_key"], "verdict": p["verdict"], "score": round(p["score"], 3),
                       "reasons": p["reasons"]}
                if p["status"] != "proposed":
                    row["status"] = p["status"]
                write(json.dumps(row, ensure_ascii=False))
            else:
                write(f"{p['a_key']}\t{p['b_key']}\t{p['verdict']}\t{p['score']:.3f}\t{'、'.join(p['reasons'])}")
