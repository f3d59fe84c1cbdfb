"""Metadata ⇄ YAML files under metadata/. Load then dump reproduces the files byte for byte:
records are written in a canonical order, with default values left out.

Shipped defaults stay apart from site changes: ``load`` updates a record only when the site has
not changed it since the last load (its values still equal its ``shipped`` snapshot); a
customised record keeps its values and only its snapshot moves, so the admin can show what the
site changed against the new shipped default.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.db import models, transaction
from simple_history.utils import update_change_reason

from lowcode.models import Dictionary, DictItem, FieldDef, FormLayout, ListView, MetaRecord, Workflow

# file name → (model, natural key fields, sort key)
FILES: dict[str, tuple[type[MetaRecord], tuple[str, ...]]] = {
    "dictionaries.yaml": (Dictionary, ("code",)),
    "fields.yaml": (FieldDef, ("entity", "code")),
    "layouts.yaml": (FormLayout, ("entity", "screen", "scope_value", "role")),
    "lists.yaml": (ListView, ("entity", "role")),
    "workflows.yaml": (Workflow, ("entity", "scope_value")),
}
ITEM_KEY = ("code",)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def record_values(obj: MetaRecord) -> dict:
    """The record's META_FIELDS as plain, comparable values (FKs by code)."""
    out = {}
    for name in obj.META_FIELDS:
        f = obj._meta.get_field(name)
        if isinstance(f, models.ForeignKey):
            related = getattr(obj, name)
            out[name] = related.code if related is not None else None
        else:
            out[name] = _plain(getattr(obj, name))
    return out


def _default(f: models.Field) -> Any:
    if isinstance(f, models.ForeignKey) or not f.has_default():
        return None if f.null or isinstance(f, models.ForeignKey) else ("" if isinstance(f, (models.CharField, models.TextField)) else None)
    return f.get_default()


def differs_from_shipped(current: dict, shipped: dict) -> bool:
    """A site change is a difference on a property the snapshot knows. Properties added to the
    metadata model after the snapshot was taken are new, not edits (so upgrades still apply)."""
    return any(current.get(k) != v for k, v in shipped.items())


def _complete(model: type[MetaRecord], data: dict) -> dict:
    """YAML mapping → full values dict (defaults filled in), unknown keys refused."""
    unknown = set(data) - set(model.META_FIELDS) - {"items"}
    if unknown:
        raise ValueError(f"{model._meta.verbose_name}：未知属性 {', '.join(sorted(unknown))}")
    return {name: _plain(data[name]) if name in data else _default(model._meta.get_field(name))
            for name in model.META_FIELDS}


# Key order inside JSON values (layout sections, workflow transitions). PostgreSQL's jsonb does
# not keep key order, so the files use this canonical order whatever the database returns.
JSON_KEY_ORDER = ("name", "title", "fields", "collapsed", "review", "closed", "action", "from", "to",
                  "roles", "condition", "form", "decision", "opinion", "effects", "state",
                  "remind_after_hours", "escalate_after_hours", "stale_after_days")


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        rank = {k: i for i, k in enumerate(JSON_KEY_ORDER)}
        keys = sorted(value, key=lambda k: (rank.get(k, len(rank)), k))
        return {k: _canonical(value[k]) for k in keys}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _compact(model: type[MetaRecord], values: dict) -> dict:
    return {k: _canonical(v) for k, v in values.items()
            if v != _default(model._meta.get_field(k)) or k in ("code",)}


# --- dump ------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _repr_list(dumper, data):
    flow = all(isinstance(x, (str, int, float, bool)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _repr_list)


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)


def _sort_key(values: dict, key: tuple[str, ...]):
    return tuple(str(values.get(k) or "") for k in key)


def dump_documents() -> dict[str, list]:
    docs: dict[str, list] = {}
    for filename, (model, key) in FILES.items():
        rows = []
        qs = model.objects.all()
        if model is FieldDef:
            qs = qs.select_related("dictionary")
        for obj in qs:
            values = record_values(obj)
            entry = _compact(model, values)
            if model is Dictionary:
                items = [record_values(i) for i in obj.items.select_related("parent", "dictionary")]
                items.sort(key=lambda v: (v["sort"], v["code"]))
                entry["items"] = [_compact(DictItem, i) for i in items]
            rows.append((values, entry))
        if model is FieldDef:
            rows.sort(key=lambda r: (r[0]["entity"], r[0]["idx"], r[0]["code"]))
        else:
            rows.sort(key=lambda r: _sort_key(r[0], key))
        docs[filename] = [entry for _, entry in rows]
    return docs


def dump(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for filename, rows in dump_documents().items():
        path = directory / filename
        path.write_text(to_yaml(rows), encoding="utf-8")
        written.append(path)
    return written


# --- load ------------------------------------------------------------------------------
@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_site_changes: list[str] = field(default_factory=list)


def _resolve(model: type[MetaRecord], values: dict, dictionary: Dictionary | None = None) -> dict:
    """Values dict → model kwargs (codes → objects)."""
    kwargs = dict(values)
    if model is FieldDef:
        code = kwargs.pop("dictionary")
        kwargs["dictionary"] = Dictionary.objects.get(code=code) if code else None
    if model is DictItem:
        code = kwargs.pop("parent")
        kwargs["parent"] = DictItem.objects.get(dictionary=dictionary, code=code) if code else None
    for name, v in list(kwargs.items()):
        f = model._meta.get_field(name)
        if isinstance(f, models.DecimalField) and v is not None:
            kwargs[name] = Decimal(str(v))
    return kwargs


def _apply(model, lookup: dict, values: dict, report: LoadReport, label: str, dictionary=None):
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model(**_resolve(model, values, dictionary), origin="shipped", shipped=values)
        if dictionary is not None:
            obj.dictionary = dictionary
        obj.save()
        update_change_reason(obj, "加载出厂元数据")
        report.created += 1
        return obj
    current = record_values(obj)
    customised = obj.shipped is None or differs_from_shipped(current, obj.shipped)
    if current == values:
        if obj.shipped != values or obj.origin != "shipped":
            model.objects.filter(pk=obj.pk).update(shipped=values, origin="shipped")
        report.unchanged += 1
    elif customised:
        model.objects.filter(pk=obj.pk).update(shipped=values, origin="shipped")
        report.kept_site_changes.append(label)
    else:
        for k, v in _resolve(model, values, dictionary).items():
            setattr(obj, k, v)
        obj.shipped = values
        obj.origin = "shipped"
        obj.save()
        update_change_reason(obj, "出厂元数据升级")
        report.updated += 1
    return obj


def load(directory: Path) -> LoadReport:
    report = LoadReport()
    with transaction.atomic():
        for filename, (model, key) in FILES.items():
            path = directory / filename
            if not path.exists():
                continue
            rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
            for row in rows:
                items = row.get("items", []) if model is Dictionary else []
                values = _complete(model, row)
                lookup = {k: values[k] for k in key}
                obj = _apply(model, lookup, values, report, f"{filename}:{'/'.join(map(str, lookup.values()))}")
                # items in dependency order: parents first (sort order may put a child earlier)
                pending = [_complete(DictItem, i) for i in items]
                done: set[str] = set()
                while pending:
                    progressed = False
                    for values_i in list(pending):
                        if values_i["parent"] and values_i["parent"] not in done and \
                                not DictItem.objects.filter(dictionary=obj, code=values_i["parent"]).exists():
                            continue
                        _apply(DictItem, {"dictionary": obj, "code": values_i["code"]}, values_i, report,
                               f"{filename}:{obj.code}/{values_i['code']}", dictionary=obj)
                        done.add(values_i["code"])
                        pending.remove(values_i)
                        progressed = True
                    if not progressed:
                        raise ValueError(f"字典 {obj.code} 的上级编码不存在：{[p['parent'] for p in pending]}")
    return report
