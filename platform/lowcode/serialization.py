"""Metadata ⇄ YAML files, for every registered kind (``lowcode.metakinds``). Load then dump
reproduces the files byte for byte: records are written in a canonical order, with default
(or inherited) values left out, and a file's leading comment lines are kept.

Shipped defaults stay apart from site changes: ``load_metadata`` updates a record only when the
site has not changed it since the last load (its values still equal its ``shipped`` snapshot); a
customised record keeps its values and only its snapshot moves, so the admin can show what the
site changed against the new shipped default. Records the site added are never touched.
"""
from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from django.core.exceptions import ValidationError
from django.db import models, transaction

from lowcode import metakinds
from lowcode.metakinds import MetaKind

# Key order inside JSON values of the engine's kinds (layout sections, workflow transitions).
JSON_KEY_ORDER = ("name", "title", "fields", "collapsed", "review", "closed", "action", "from", "to",
                  "roles", "condition", "form", "decision", "opinion", "effects", "state",
                  "remind_after_hours", "escalate_after_hours", "stale_after_days")


class MetadataError(ValueError):
    """A shipped file that cannot be loaded; the message is Chinese and names file and record."""


# --- values ----------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _code_attr(model, name: str) -> str:
    kind = metakinds.kind_of(model)
    if kind is not None and name in kind.codes:
        return kind.codes[name]
    if kind is not None and kind.children and kind.children.model_class is model and name == kind.children.tree_fk:
        return kind.children.key
    return "code"


def record_values(obj) -> dict:
    """The record's META_FIELDS as plain, comparable values (foreign keys by natural key)."""
    out = {}
    for name in obj.META_FIELDS:
        f = obj._meta.get_field(name)
        if isinstance(f, models.ForeignKey):
            related = getattr(obj, name)
            out[name] = getattr(related, _code_attr(type(obj), name)) if related is not None else None
        else:
            out[name] = _plain(getattr(obj, name))
    return out


def differs_from_shipped(current: dict, shipped: dict) -> bool:
    """A site change is a difference on a property the snapshot knows. Properties added to the
    metadata model after the snapshot was taken are new, not edits (so upgrades still apply)."""
    return any(current.get(k) != v for k, v in shipped.items())


def _default(f: models.Field) -> Any:
    if isinstance(f, models.ForeignKey) or not f.has_default():
        return None if f.null or isinstance(f, models.ForeignKey) else (
            "" if isinstance(f, (models.CharField, models.TextField)) else None)
    return f.get_default()


def _complete(model, data: dict, where: str, extra: tuple[str, ...] = ()) -> dict:
    """YAML mapping → full values dict (defaults filled in), unknown keys refused."""
    if not isinstance(data, dict):
        raise MetadataError(f"{where}：每条记录应是“属性: 值”的映射")
    unknown = set(data) - set(model.META_FIELDS) - set(extra)
    if unknown:
        raise MetadataError(f"{where}：{model._meta.verbose_name}有未知属性 {', '.join(sorted(map(str, unknown)))}")
    return {name: _plain(data[name]) if name in data else _default(model._meta.get_field(name))
            for name in model.META_FIELDS}


def _canonical(value: Any, order: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        rank = {k: i for i, k in enumerate(order)}
        keys = sorted(value, key=lambda k: (rank.get(k, len(rank)), str(k)))
        return {k: _canonical(value[k], order) for k in keys}
    if isinstance(value, list):
        return [_canonical(v, order) for v in value]
    return value


# --- files -----------------------------------------------------------------------------------
class _Dumper(yaml.SafeDumper):
    pass


def _repr_list(dumper, data):
    flow = all(isinstance(x, (str, int, float, bool)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _repr_list)


def to_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=120)


# libyaml's parser when PyYAML was built with it (10× faster than the pure-Python one)
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=128)
def _parse_yaml(path: str, mtime_ns: int, size: int) -> Any:
    """One parse per file version: previews, role checks and loads read the same shipped files
    many times in one process (keyed on mtime and size, so an edited file is read again)."""
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_SafeLoader)  # noqa: S506 (safe loader)


def _read_yaml(path: Path) -> Any:
    try:
        stat = path.stat()
        # a deep copy: callers complete and pop the parsed records in place
        return copy.deepcopy(_parse_yaml(str(path), stat.st_mtime_ns, stat.st_size))
    except yaml.YAMLError as exc:
        raise MetadataError(f"{path.name}：不是合法的 YAML（{exc}）") from exc


def _header(path: Path) -> str:
    """The file's leading comment lines (its documentation), kept by dump."""
    if not path.exists():
        return ""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        if not line.startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def _base(kind: MetaKind, root: Path) -> dict:
    if not kind.base:
        return {}
    path = root / kind.base
    data = _read_yaml(path) if path.exists() else {}
    if data is not None and not isinstance(data, dict):
        raise MetadataError(f"{kind.base}：应是“属性: 值”的映射")
    return data or {}


def _merge(base: dict, row: dict) -> dict:
    """The row over the kind's base: mapping values merged one level (null removes an entry)."""
    out = {**base, **row}
    for name, value in row.items():
        if isinstance(value, dict) and isinstance(base.get(name), dict):
            merged = {**base[name], **value}
            out[name] = {k: v for k, v in merged.items() if not (v is None and k in base[name])}
    return out


@dataclass
class _Row:
    label: str
    values: dict
    children: list[dict]


def _rows(kind: MetaKind, root: Path) -> list[_Row]:
    """The kind's shipped records, completed, in file order."""
    model = kind.model_class
    entry = kind.children.entry if kind.children else None
    extra = (entry,) if entry else ()
    path = kind.path(root)
    rows = []
    if kind.per_file:
        base = _base(kind, root)
        for file in sorted(path.glob("*.yaml")):
            if file.name.startswith("_"):
                continue
            where = f"{kind.file}{file.name}"
            data = _read_yaml(file) or {}
            if not isinstance(data, dict):
                raise MetadataError(f"{where}：应是“属性: 值”的映射")
            data = _merge(base, {**data, kind.key[0]: file.stem})
            children = data.pop(entry, []) if entry else []
            rows.append(_Row(where, _complete(model, data, where, extra), children or []))
        return rows
    data = _read_yaml(path) or []
    if not isinstance(data, list):
        raise MetadataError(f"{kind.file}：应是记录的列表")
    for i, item in enumerate(data, 1):
        values = _complete(model, item, f"{kind.file} 第 {i} 条", extra)
        label = f"{kind.file}:{'/'.join(str(values[k]) for k in kind.key)}"
        rows.append(_Row(label, values, (item.get(entry) or []) if entry else []))
    return rows


def shipped_values(name: str, root: Path | None = None) -> dict[tuple, dict]:
    """natural key → the shipped values of kind ``name`` (for previews against the defaults)."""
    kind = metakinds.get(name)
    return {tuple(r.values[k] for k in kind.key): r.values for r in _rows(kind, root or metakinds.metadata_root())}


# --- load ------------------------------------------------------------------------------------
@dataclass
class LoadReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    kept_site_changes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"新增 {self.created}，更新 {self.updated}，未变 {self.unchanged}，"
                f"保留本地修改 {len(self.kept_site_changes)}")


class _Loader:
    def __init__(self, using: str):
        self.using = using
        self.report = LoadReport()
        self.touched: list[tuple[MetaKind, str, Any]] = []

    def resolve(self, model, values: dict, where: str, fixed: dict) -> dict:
        """Values dict → model kwargs (natural keys → objects)."""
        kwargs = dict(values)
        for name, v in values.items():
            f = model._meta.get_field(name)
            if isinstance(f, models.ForeignKey):
                if v is None:
                    continue
                attr = _code_attr(model, name)
                lookup = {attr: v}
                if f.related_model is model:  # a tree: the parent is a sibling under the same owner
                    lookup.update(fixed)
                target = f.related_model.objects.using(self.using).filter(**lookup).first()
                if target is None:
                    raise MetadataError(f"{where}：{f.verbose_name}“{v}”不存在")
                kwargs[name] = target
            elif isinstance(f, models.DecimalField) and v is not None:
                kwargs[name] = Decimal(str(v))
        return {**kwargs, **fixed}

    def apply(self, kind: MetaKind, model, lookup: dict, values: dict, label: str, fixed: dict | None = None):
        fixed = fixed or {}
        manager = model.objects.using(self.using)
        obj = manager.filter(**lookup, **fixed).first()
        if obj is None:
            obj = model(**self.resolve(model, values, label, fixed), origin="shipped", shipped=values)
            # the history row's reason, written with it (update_change_reason costs two more queries)
            obj._change_reason = "加载出厂元数据"
            obj.save(using=self.using)
            self.report.created += 1
            self.touched.append((kind, label, obj))
            return obj
        current = record_values(obj)
        customised = obj.shipped is None or differs_from_shipped(current, obj.shipped)
        if current == values:
            if obj.shipped != values or obj.origin != "shipped":
                manager.filter(pk=obj.pk).update(shipped=values, origin="shipped")
            self.report.unchanged += 1
        elif customised:
            manager.filter(pk=obj.pk).update(shipped=values, origin="shipped")
            self.report.kept_site_changes.append(label)
        else:
            for k, v in self.resolve(model, values, label, fixed).items():
                setattr(obj, k, v)
            obj.shipped, obj.origin = values, "shipped"
            obj._change_reason = "出厂元数据升级"
            obj.save(using=self.using)
            self.report.updated += 1
            self.touched.append((kind, label, obj))
        return obj

    def load_children(self, kind: MetaKind, owner, rows: list[dict], label: str):
        spec = kind.children
        model = spec.model_class
        pending = [_complete(model, r, f"{label}/{r.get(spec.key) if isinstance(r, dict) else r}") for r in rows]
        fixed = {spec.parent_fk: owner}
        # parents first (the file's sort order may list a child before its parent)
        while pending:
            ready = [v for v in pending if not spec.tree_fk or v[spec.tree_fk] is None
                     or model.objects.using(self.using).filter(**fixed, **{spec.key: v[spec.tree_fk]}).exists()]
            if not ready:
                missing = "、".join(str(v[spec.tree_fk]) for v in pending)
                raise MetadataError(f"{label}：上级编码不存在：{missing}")
            for values in ready:
                self.apply(kind, model, {spec.key: values[spec.key]}, values, f"{label}/{values[spec.key]}", fixed)
                pending.remove(values)

    def validate(self):
        for kind, label, obj in self.touched:
            if kind.validate is False:
                continue
            try:
                kind.validate(obj) if callable(kind.validate) else obj.clean()
            except ValidationError as exc:
                raise MetadataError(f"{kind.title} {label}：{'；'.join(exc.messages)}") from exc


def load_metadata(names=None, root: Path | None = None, using: str = "default") -> LoadReport:
    """Load the shipped files of the kinds ``names`` (all if None) from ``root`` (the metadata
    root if None): create, upgrade unedited records, keep site changes. All or nothing."""
    root = Path(root) if root else metakinds.metadata_root()
    loader = _Loader(using)
    with transaction.atomic(using=using):
        for kind in metakinds.kinds(names):
            if not kind.path(root).exists():
                continue
            model = kind.model_class
            seen = set()
            for row in _rows(kind, root):
                lookup = {k: row.values[k] for k in kind.key}
                if tuple(lookup.values()) in seen:  # the second row would silently win
                    raise MetadataError(f"{row.label}：同一{kind.title}在文件中出现了两次")
                seen.add(tuple(lookup.values()))
                obj = loader.apply(kind, model, lookup, row.values, row.label)
                if kind.children:
                    loader.load_children(kind, obj, row.children, row.label)
        loader.validate()
    return loader.report


def restore_shipped(obj) -> bool:
    """Put a record the site changed back to its shipped values (validated like a load; history
    reason 恢复出厂值). False when there is nothing to restore."""
    from simple_history.utils import update_change_reason

    if not getattr(obj, "is_customised", False):
        return False
    model = type(obj)
    kind = metakinds.kind_of(model)
    spec = kind.children if kind and kind.children and kind.children.model_class is model else None
    fixed = {spec.parent_fk: getattr(obj, spec.parent_fk)} if spec else {}
    values = {k: v for k, v in obj.shipped.items() if k in model.META_FIELDS}
    for k, v in _Loader(obj._state.db or "default").resolve(model, values, str(obj), fixed).items():
        setattr(obj, k, v)
    if kind is None or kind.validate is True:
        obj.clean()
    elif callable(kind.validate):
        kind.validate(obj)
    obj.save()
    if hasattr(model, "history"):
        update_change_reason(obj, "恢复出厂值")
    return True


# --- dump ------------------------------------------------------------------------------------
def _sort_key(values: dict, fields: tuple[str, ...]):
    return tuple((values.get(k) is None, values.get(k) if values.get(k) is not None else "") for k in fields)


def _compact(kind: MetaKind, model, values: dict, inherited: dict, omit: tuple[str, ...] = ()) -> dict:
    """Only what differs from the default (or the inherited base), in canonical form."""
    out = {}
    for name, value in values.items():
        if name in omit:
            continue
        base = inherited.get(name, _default(model._meta.get_field(name)))
        if isinstance(value, dict) and isinstance(inherited.get(name), dict):
            value = {**{k: v for k, v in value.items() if base.get(k, object()) != v},
                     **{k: None for k in base if k not in value}}
            if value:
                out[name] = _canonical(value, kind.json_key_order)
        elif value != base or name == "code":
            out[name] = _canonical(value, kind.json_key_order)
    return out


def _entries(kind: MetaKind, inherited: dict) -> list[tuple[dict, dict]]:
    model = kind.model_class
    qs = model.objects.all()
    fks = [f.name for f in model._meta.concrete_fields if isinstance(f, models.ForeignKey) and f.name in model.META_FIELDS]
    if fks:
        qs = qs.select_related(*fks)
    omit = kind.key if kind.per_file else ()
    rows = []
    for obj in qs:
        values = record_values(obj)
        entry = _compact(kind, model, values, inherited, omit)
        if kind.children:
            spec = kind.children
            child_model = spec.model_class
            children = [record_values(c) for c in child_model.objects.filter(**{spec.parent_fk: obj})]
            children.sort(key=lambda v: _sort_key(v, spec.order))
            entry[spec.entry] = [_compact(kind, child_model, c, {}) for c in children]
        rows.append((values, entry))
    rows.sort(key=lambda r: _sort_key(r[0], kind.dump_order or kind.key))
    return rows


def _write(path: Path, header_from: Path, data: Any) -> Path:
    header = _header(path if path.exists() else header_from)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + to_yaml(data), encoding="utf-8")
    return path


def dump_metadata(root: Path | None = None, names=None) -> list[Path]:
    """Write the database's metadata of the kinds ``names`` (all if None) under ``root`` (the
    metadata root if None), laid out like the shipped files."""
    shipped_root = metakinds.metadata_root()
    root = Path(root) if root else shipped_root
    written = []
    for kind in metakinds.kinds() if names is None else [metakinds.get(n) for n in names]:
        if not kind.per_file:
            rows = [entry for _, entry in _entries(kind, {})]
            written.append(_write(kind.path(root), kind.path(shipped_root), rows))
            continue
        directory = kind.path(root)
        directory.mkdir(parents=True, exist_ok=True)
        if kind.base and not (root / kind.base).exists() and (shipped_root / kind.base).exists():
            (root / kind.base).write_bytes((shipped_root / kind.base).read_bytes())
        names_written = set()
        for values, entry in _entries(kind, _base(kind, root)):
            filename = f"{values[kind.key[0]]}.yaml"
            written.append(_write(directory / filename, kind.path(shipped_root) / filename, entry))
            names_written.add(filename)
        for stale in directory.glob("*.yaml"):  # a record deleted on the site leaves no file behind
            if not stale.name.startswith("_") and stale.name not in names_written:
                stale.unlink()
    return written
