"""Shipped defaults (levels, rules, keywords, thresholds) ⇄ database, the same way the engine's
``load_metadata`` treats metadata: a record the site never changed follows the shipped file; a
record the site changed keeps its values (only its ``shipped`` snapshot moves); records the site
added are left alone."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.db import transaction
from simple_history.utils import update_change_reason

HERE = Path(__file__).resolve().parent


def files():
    from extensions.escalation.models import WarningKeyword, WarningLevel, WarningRule, WarningSetting

    # file → (model, natural key); levels before rules (rules name a level)
    return [("levels.yaml", WarningLevel, "key"), ("settings.yaml", WarningSetting, "key"),
            ("keywords.yaml", WarningKeyword, "word"), ("rules.yaml", WarningRule, "code")]


@dataclass
class Report:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_site_changes: list[str] = field(default_factory=list)


def _complete(model, data: dict) -> dict:
    unknown = set(data) - set(model.META_FIELDS)
    if unknown:
        raise ValueError(f"{model._meta.verbose_name}：未知属性 {', '.join(sorted(unknown))}")
    out = {}
    for name in model.META_FIELDS:
        f = model._meta.get_field(name)
        if name in data:
            out[name] = data[name]
        elif f.has_default():
            out[name] = f.get_default()
        else:
            out[name] = None if f.null else ""
    return out


def load_defaults(directory: Path | None = None, using: str = "default") -> Report:
    directory = directory or HERE
    report = Report()
    with transaction.atomic(using=using):
        for filename, model, key in files():
            for data in yaml.safe_load((directory / filename).read_text(encoding="utf-8")) or []:
                values = _complete(model, data)
                obj = model.objects.using(using).filter(**{key: values[key]}).first()
                if obj is None:
                    obj = model(**values, origin="shipped", shipped=values)
                    obj.save(using=using)
                    update_change_reason(obj, "加载出厂预警配置")
                    report.created += 1
                    continue
                current = obj.meta_values()
                if current == values:
                    if obj.shipped != values or obj.origin != "shipped":
                        model.objects.using(using).filter(pk=obj.pk).update(shipped=values, origin="shipped")
                    report.unchanged += 1
                elif obj.shipped is None or current != obj.shipped:
                    model.objects.using(using).filter(pk=obj.pk).update(shipped=values, origin="shipped")
                    report.kept_site_changes.append(f"{model._meta.verbose_name}:{values[key]}")
                else:
                    for k, v in values.items():
                        setattr(obj, k, v)
                    obj.shipped, obj.origin = values, "shipped"
                    obj.save(using=using)
                    update_change_reason(obj, "出厂预警配置升级")
                    report.updated += 1
    return report


def ensure_defaults() -> None:
    """Load the shipped defaults once if the tables are empty (a database migrated without the
    post_migrate signal, or a test that flushed it)."""
    from extensions.escalation.models import WarningLevel

    if not WarningLevel.objects.exists():
        load_defaults()
