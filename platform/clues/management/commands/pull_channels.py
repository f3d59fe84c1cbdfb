"""python manage.py pull_channels [来源编码 …]

Pulls now what the 15-minute schedule pulls (clues.pull; endpoint contract there): the named
channels, or every enabled channel with a pull address. Prints one line per channel and, as the
last line, the totals as JSON like ``manage.py ingest``. Exit status 1 when a channel failed."""
import json

from django.core.management.base import BaseCommand, CommandError

from clues.management.commands.ingest import LABELS, summary_line

STATUS = {"ok": "成功", "partial": "部分成功", "failed": "失败"}


class Command(BaseCommand):
    help = "立即从已配置拉取地址的外部渠道拉取数据：python manage.py pull_channels [来源编码 …]。最后一行输出 JSON 汇总。"

    def add_arguments(self, parser):
        parser.add_argument("sources", nargs="*", help="来源编码（默认：所有已启用且设置了拉取地址的来源）")
        parser.add_argument("--timeout", type=float, default=None, help="每次请求的超时秒数（默认 PULL_TIMEOUT 或 30）")

    def handle(self, *args, sources, timeout, **options):
        from clues import pull
        from clues.models import Channel

        if sources:
            found = {c.key: c for c in Channel.objects.filter(key__in=sources)}
            missing = [s for s in sources if s not in found]
            if missing:
                known = "、".join(Channel.objects.values_list("key", flat=True))
                raise CommandError(f"未知的来源编码：{'、'.join(missing)}（可用：{known}）")
            channels = [found[s] for s in sources]
        else:
            channels = pull.pullable()
            if not channels:
                self.stdout.write("没有已启用且设置了拉取地址的来源。")
        total = {key: 0 for key, _ in LABELS}
        failed = []
        for channel in channels:
            result = pull.pull_channel(channel, timeout=timeout)
            for key in total:
                total[key] += result.counts[key]
            self.stdout.write(f"【{channel.name}】{STATUS[result.status]}，{result.pages} 页：{summary_line(result.counts)}")
            if result.error:
                self.stdout.write(f"  问题：{result.error}")
            if result.status == "failed":
                failed.append(channel.key)
        if len(channels) > 1:
            self.stdout.write(f"合计：{summary_line(total)}")
        self.stdout.write(json.dumps(total, ensure_ascii=False))
        if failed:
            raise CommandError(f"拉取失败：{'、'.join(failed)}")
