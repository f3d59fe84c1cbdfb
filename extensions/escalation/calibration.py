"""Calibration report: how the warning colours fall by region, case type and source, with the
rules that decide them most often — and, for a rule change, the same table after it, decided
over the stored facts of every evaluated case (history included, like the preview before
saving, which covers open cases only). Nothing is written.

    report(user=None, replace=[WarningRule(...)]) → Report
"""
from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

DIMENSIONS = (("region", "区域"), ("case_type", "案件类型"), ("source", "案件来源"))
TOP_REASONS = 3


@dataclass
class Group:
    key: str
    label: str
    before: Counter = field(default_factory=Counter)
    after: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)        # deciding rule (after) → cases

    @property
    def total(self) -> int:
        return sum(self.after.values())


@dataclass
class Report:
    levels: list
    tables: dict = field(default_factory=dict)    # dimension → [Group], largest first
    overall: Group | None = None
    changed: int = 0
    skipped: int = 0                              # cases without stored facts for a rule's window
    rule_names: dict = field(default_factory=dict)


def _region_labels() -> dict[str, str]:
    from orgs.models import Region

    return dict(Region.objects.values_list("path", "name"))


def _labels(dimension: str) -> dict[str, str]:
    from lowcode import registry

    if dimension == "case_type":
        return {c: e.label for c, e in registry.get_dictionary("case_type").items()}
    if dimension == "source":
        return {c: e.label for c, e in registry.get_dictionary("event_source").items()}
    return {}


def report(user=None, replace=(), region_depth: int | None = None) -> Report:
    """The colour distribution now (stored colours) and after ``replace`` (unsaved rule / setting
    records standing in for their saved versions) over every evaluated case in the user's scope."""
    from accounts.scope import scope_q
    from cases.models import Case
    from extensions.escalation.evaluate import decide
    from extensions.escalation.models import CaseWarning

    replace = list(replace)
    after_cfg = config_with(replace)
    qs = CaseWarning.objects.all()
    if user is not None:
        q = scope_q(user, "region_path", CaseWarning)
        qs = qs if q is None else qs.filter(q)
    windows = after_cfg.windows("case")
    levels = sorted(after_cfg.levels.values(), key=lambda lv: lv.order)
    out = Report(levels=levels, rule_names={r.code: r.name for r in after_cfg.rules})
    regions = _region_labels()
    labels = {d: _labels(d) for d, _ in DIMENSIONS}
    groups: dict[str, dict[str, Group]] = {d: {} for d, _ in DIMENSIONS}
    overall = Group("", "全部")
    rows = qs.values_list("case_id", "level", "rule", "facts_by_window", "region_path")
    for _, chunk in _chunks(rows.iterator(chunk_size=2000), 2000):
        ids = [r[0] for r in chunk]
        case_attrs = {pk: (t, src) for pk, t, src in Case.objects.filter(pk__in=ids).values_list("pk", "case_type", "source")}
        for case_id, level, rule, by_window, path in chunk:
            facts = {int(w): f for w, f in (by_window or {}).items() if f}
            if replace:
                if not all(w in facts for w in windows):
                    out.skipped += 1
                    new_level, new_rule = level, rule
                else:
                    v = decide(after_cfg, "case", {w: facts[w] for w in windows})
                    new_level, new_rule = v.level, (v.rule.code if v.rule else "")
            else:
                new_level, new_rule = level, rule
            out.changed += new_level != level
            ctype, source = case_attrs.get(case_id, ("", ""))
            depth = region_depth or 9
            region = path[:depth] if path else ""
            for dim, key, label in (("region", region, regions.get(region, region or "（无）")),
                                    ("case_type", ctype, labels["case_type"].get(ctype, ctype or "（无）")),
                                    ("source", source, labels["source"].get(source, source or "（无）"))):
                g = groups[dim].setdefault(key, Group(key, label))
                for target in (g, overall) if dim == "region" else (g,):
                    target.before[level] += 1
                    target.after[new_level] += 1
                    if new_rule:
                        target.rules[new_rule] += 1
    out.overall = overall
    out.tables = {d: sorted(g.values(), key=lambda x: (-x.total, x.key)) for d, g in groups.items()}
    return out


def config_with(replace=()):
    """The saved configuration with unsaved records (rules by code, settings by key, levels by
    key, keywords by word) standing in for their saved versions or added."""
    from extensions.escalation import config as config_mod
    from extensions.escalation.models import WarningKeyword, WarningLevel, WarningRule, WarningSetting

    config_mod.load()  # loads the shipped metadata into an empty database
    rows = {WarningLevel: list(WarningLevel.objects.all()), WarningRule: list(WarningRule.objects.all()),
            WarningKeyword: list(WarningKeyword.objects.all()), WarningSetting: list(WarningSetting.objects.all())}
    ident = {WarningLevel: "key", WarningRule: "code", WarningKeyword: "word", WarningSetting: "key"}
    for r in replace:
        group, key = rows[type(r)], ident[type(r)]
        group[:] = [x for x in group if getattr(x, key) != getattr(r, key)] + [r]
    return config_mod.build(rows[WarningLevel], rows[WarningRule], rows[WarningKeyword], rows[WarningSetting])


def _chunks(iterator, size: int):
    buf, start = [], 0
    for row in iterator:
        buf.append(row)
        if len(buf) == size:
            yield start, buf
            start += size
            buf = []
    if buf:
        yield start, buf


def top_reasons(g: Group, names: dict[str, str], n: int = TOP_REASONS) -> str:
    total = g.total or 1
    return "；".join(f"{names.get(code, code)} {count}（{count / total:.0%}）" for code, count in g.rules.most_common(n))


def rules_from_yaml(text: str) -> list:
    """Unsaved WarningRule / WarningSetting records from a YAML list (the shipped files' format):
    a rule by its ``code``, a setting by its ``key``. Raises ValueError with a Chinese message."""
    import yaml

    from extensions.escalation.models import WarningRule, WarningSetting

    try:
        data = yaml.safe_load(text) or []
    except yaml.YAMLError as exc:
        raise ValueError(f"YAML 格式错误：{exc}") from exc
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
        raise ValueError("应为规则或参数的列表（与 metadata/escalation/rules.yaml 相同格式）")
    out = []
    saved_rules = {r.code: r for r in WarningRule.objects.all()}
    saved_settings = {s.key: s for s in WarningSetting.objects.all()}
    for item in data:
        if "code" in item:
            base = saved_rules.get(item["code"])
            values = {f: getattr(base, f) for f in WarningRule.META_FIELDS} if base else {"target": "case", "enabled": True,
                                                                                          "window_days": 30, "message": ""}
            unknown = set(item) - set(WarningRule.META_FIELDS)
            if unknown:
                raise ValueError("规则不认识的字段：" + "、".join(sorted(unknown)))
            values.update(item)
            missing = [f for f in ("name", "condition", "level", "priority") if values.get(f) in (None, "")]
            if missing:
                raise ValueError(f"规则 {item['code']} 缺少：" + "、".join(missing))
            try:
                rule = WarningRule(**values)
                rule.priority, rule.window_days = int(rule.priority), int(rule.window_days or 30)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"规则 {item['code']} 的优先级或统计天数应为整数") from exc
            if base is not None:
                rule.pk = base.pk
            _validate(rule)
            out.append(rule)
        elif "key" in item:
            base = saved_settings.get(item["key"])
            if base is None or "value" not in item:
                raise ValueError(f"参数 {item.get('key')} 不存在或缺少 value")
            setting = WarningSetting(key=base.key, name=base.name, value=item["value"], description=base.description)
            setting.pk = base.pk
            out.append(setting)
        else:
            raise ValueError("每一项应有 code（规则）或 key（参数）")
    return out


def _validate(rule) -> None:
    from django.core.exceptions import ValidationError

    from extensions.escalation.validation import validate_rule

    try:
        validate_rule(rule)
    except ValidationError as exc:
        msgs = [m for ms in exc.message_dict.values() for m in ms]
        raise ValueError(f"规则 {rule.code}：" + "；".join(msgs)) from exc


def table_rows(rep: Report, dimension: str, changed: bool) -> list[dict]:
    """Rows for the admin page: label, total, one cell per level, top reasons."""
    def cells(g):
        out = []
        for lv in rep.levels:
            b, a = g.before.get(lv.key, 0), g.after.get(lv.key, 0)
            out.append({"before": b, "after": a, "share": f"{a / g.total:.0%}" if g.total else "-", "moved": changed and a != b})
        return out
    groups = rep.tables.get(dimension, []) if dimension else [rep.overall]
    return [{"label": g.label, "total": g.total, "cells": cells(g), "reasons": top_reasons(g, rep.rule_names)}
            for g in groups if g is not None]
