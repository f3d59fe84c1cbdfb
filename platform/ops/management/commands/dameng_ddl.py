from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops import dameng


class Command(BaseCommand):
    help = ("离线生成达梦（DM8）数据库建表 DDL：重放全部迁移，输出 migrate 在空库上会执行的 "
            "CREATE TABLE / CREATE INDEX / 约束语句，不连接任何数据库。供 DBA 审阅或手工建库。")

    def add_arguments(self, parser):
        parser.add_argument("--output", metavar="FILE", help="写入文件（UTF-8），不指定则输出到标准输出")

    def handle(self, *args, output=None, **options):
        ddl = "\n".join(dameng.generate_ddl()) + "\n"
        count = len(dameng.statements(ddl))
        if output:
            Path(output).write_text(ddl, encoding="utf-8")
            self.stderr.write(f"已写入 {output}：{count} 条 SQL 语句")
        else:
            self.stdout.write(ddl, ending="")
        problems = dameng.find_problems(ddl)
        if problems:
            raise CommandError("DDL 中有达梦不支持的写法：\n" + "\n".join(problems))
