from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "重建调解案例检索索引（典型案例、已办结案件、基层减负问答）"

    def add_arguments(self, parser):
        parser.add_argument("--kind", action="append", choices=["typical", "case", "qa"],
                            help="只重建某一类（可重复）；默认全部")

    def handle(self, *args, **options):
        from library import search

        kinds = tuple(options["kind"] or ("typical", "case", "qa"))
        try:
            counts = search.rebuild(kinds)
        except Exception as exc:  # noqa: BLE001
            raise CommandError(f"重建索引失败：{exc}") from exc
        names = {"typical": "典型案例", "case": "已办结案件", "qa": "问答"}
        self.stdout.write("；".join(f"{names[k]} {n} 条" for k, n in counts.items()))
