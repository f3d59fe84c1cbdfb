from django.core.management.base import BaseCommand

from analysis import rollup


class Command(BaseCommand):
    help = "重建研判分析的汇总表（案件/标签/当事人日汇总及月汇总、求助日汇总、当事人盲索引）；--derive 先补齐批量写入未派生的当事人年龄性别与案件坐标"

    def add_arguments(self, parser):
        parser.add_argument("--derive", action="store_true",
                            help="补齐 Party.birth_year/sex 与 Case 坐标（批量导入、迁移前的存量数据）")

    def handle(self, *args, derive=False, **options):
        if derive:
            done = rollup.derive_missing()
            self.stdout.write(f"派生：当事人 {done['parties']} 条，案件坐标 {done['cases']} 件")

        def progress(month, counts):
            self.stdout.write(f"  {month:%Y-%m} 累计 {counts}")

        counts = rollup.rebuild(progress if options.get("verbosity", 1) > 1 else None)
        self.stdout.write(self.style.SUCCESS(
            f"汇总表已重建：案件 {counts['case_rows']} 行，标签 {counts['tag_rows']} 行，当事人 {counts['party_rows']} 行"))
