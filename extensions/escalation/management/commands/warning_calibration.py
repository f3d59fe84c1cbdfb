"""python manage.py warning_calibration [--rules FILE.yaml] [--by region|case_type|source]
                                       [--region-depth N] [--format table|json]

The warning colours of every evaluated case by region, case type and source, with the rules that
decide them most often. ``--rules``: a YAML list of changed or new rules (by ``code``) and
settings (by ``key``), in the format of metadata/escalation/rules.yaml / settings.yaml — the table
then shows each colour before → after the change, decided over the stored facts (history
included). Nothing is written."""
import json

from django.core.management.base import BaseCommand, CommandError

from extensions.escalation import calibration


class Command(BaseCommand):
    help = "预警校准报告：按区域、案件类型、来源统计各颜色分布与主要原因，可对比规则修改前后"

    def add_arguments(self, parser):
        parser.add_argument("--rules", help="修改后的规则/参数（YAML 文件），用于对比修改前后")
        parser.add_argument("--by", nargs="*", default=[d for d, _ in calibration.DIMENSIONS],
                            help="统计维度：region、case_type、source（默认全部）")
        parser.add_argument("--region-depth", type=int, help="区域按路径前几位汇总（默认按案件所属区域）")
        parser.add_argument("--format", default="table", help="table（默认）或 json")

    def handle(self, *args, **opts):
        dims = dict(calibration.DIMENSIONS)
        unknown = [d for d in opts["by"] if d not in dims]
        if unknown:
            raise CommandError("不认识的统计维度：" + "、".join(unknown) + "（可用：region、case_type、source）")
        if opts["format"] not in ("table", "json"):
            raise CommandError(f"不支持的格式“{opts['format']}”，可用：table、json")
        replace = []
        if opts["rules"]:
            try:
                with open(opts["rules"], encoding="utf-8") as fh:
                    text = fh.read()
            except OSError as exc:
                raise CommandError(f"无法读取文件：{opts['rules']}（{exc.strerror}）") from exc
            try:
                replace = calibration.rules_from_yaml(text)
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
        rep = calibration.report(replace=replace, region_depth=opts["region_depth"])
        keys = [lv.key for lv in rep.levels]
        names = {lv.key: lv.label for lv in rep.levels}
        if opts["format"] == "json":
            for dim in opts["by"]:
                for g in rep.tables[dim]:
                    self.stdout.write(json.dumps({
                        "by": dim, "key": g.key, "label": g.label, "total": g.total,
                        "before": {k: g.before.get(k, 0) for k in keys}, "after": {k: g.after.get(k, 0) for k in keys},
                        "top_rules": g.rules.most_common(calibration.TOP_REASONS)}, ensure_ascii=False))
            return
        w = self.stdout.write
        change = bool(replace)

        def cells(g):
            out = []
            for k in keys:
                b, a = g.before.get(k, 0), g.after.get(k, 0)
                share = f"{a / g.total:.0%}" if g.total else "-"
                out.append(f"{b}→{a}（{share}）" if change else f"{a}（{share}）")
            return "\t".join(out)

        head = "\t".join(names[k] for k in keys)
        if rep.overall is not None:
            w(f"全部 {rep.overall.total} 件：{cells(rep.overall)}")
            w("主要原因：" + (calibration.top_reasons(rep.overall, rep.rule_names) or "（无）"))
        if change:
            w(f"规则修改后变色 {rep.changed} 件" + (f"；{rep.skipped} 件缺少所需统计窗口的事实，按原颜色计" if rep.skipped else ""))
        for dim in opts["by"]:
            w("")
            w(f"按{dims[dim]}\t件数\t{head}\t主要原因")
            for g in rep.tables[dim]:
                w(f"{g.label}\t{g.total}\t{cells(g)}\t{calibration.top_reasons(g, rep.rule_names)}")
