"""The registry of metadata kinds: every kind of record a business admin may change at runtime
(dictionaries, fields, layouts, lists, workflows, cleaning rules, channels, warning levels…,
dedup settings, roles, later indicators and views) is declared here once, and ONE
implementation (``lowcode.serialization``) loads, dumps, diffs and logs all of them.

Adding a kind is one ``register(...)`` call (in the owner's ``AppConfig.ready``) plus its YAML
file under the metadata root (``settings.METADATA_DIR``, default ``<project>/metadata``)::

    from lowcode import metakinds

    metakinds.register(
        "warning_rules",                     # stable name (``load_metadata --kind``, messages)
        model="escalation.WarningRule",      # "app_label.Model": the engine imports no domain code
        file="escalation/rules.yaml",        # relative to the metadata root
        key=("code",),                       # natural key: how a shipped row finds its record
        after=("warning_levels",),           # kinds loaded first (rules name a level)
    )

The model must be a ``lowcode.models.MetaRecord`` (``origin``, ``shipped`` snapshot,
``META_FIELDS`` = the properties written to the file, in file order). What ``load_metadata``
does with each shipped row, for every kind alike:

- no record with that natural key → created (``origin = shipped``, snapshot = the row);
- record unchanged since the last load (values == snapshot) → upgraded to the row;
- record the site changed → kept as the site left it, only its snapshot moves (the admin shows
  the site's change against the new shipped value);
- records the site added (``origin = site``) are never touched.

Two file layouts:

- ``file="x.yaml"``: one YAML list, one mapping per record;
- ``file="cleaning/"`` (ends with ``/``): one file per record, ``<key>.yaml`` (the key field is the
  file name, not repeated inside); files whose name starts with ``_`` are not records.

Per-kind options (all optional) — each replaces code that used to be written per kind:

- ``codes={"dictionary": "code"}``: a foreign key written in the file by the target's natural
  key field (the target kind must load first: list it in ``after``);
- ``children=Children(model="lowcode.DictItem", parent_fk="dictionary", entry="items",
  tree_fk="parent")``: records owned by one parent record, written nested under it;
- ``base="cleaning/_common.yaml"``: a shared mapping merged under every record of a
  per-file kind (the record's keys win; mapping values are merged one level deep, a ``null``
  entry removes an inherited one); ``dump`` writes only what differs from it;
- ``dump_order=("entity", "idx", "code")``: record order in the file (default: the key);
- ``json_key_order=(...)``: canonical key order inside JSON values (PostgreSQL's jsonb does
  not keep key order, so files must not depend on it); other keys follow alphabetically;
- ``validate``: ``True`` (default) runs the model's ``clean()`` on every created or upgraded
  record once the whole load is done (a failure rolls the whole load back, with the model's
  Chinese message); a callable ``validate(obj)`` instead; ``False`` for none;
- ``label``: the Chinese name used in messages (default: the model's verbose name).

Comment lines at the top of a shipped file (its documentation) are kept by ``dump_metadata``.
Entry points (``lowcode.serialization``): ``load_metadata(names=None, root=None, using="default")``
→ ``LoadReport`` (created / updated / unchanged / kept_site_changes), ``dump_metadata(root=None,
names=None)`` → written paths; ``manage.py load_metadata [--kind NAME…] [--dir ROOT]`` and
``manage.py dump_metadata`` run them over every registered kind. ``names`` pulls in the kinds
listed in ``after`` too.

The change log (元数据变更记录), the shipped-vs-site diff in the admin (``MetaRecordAdmin``),
``load_metadata`` / ``dump_metadata`` and the metadata version (``lowcode.signals``: every save
of a kind's records bumps it, so caches keyed by it recompile) all read this registry; nothing
else needs wiring.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings


@dataclass(frozen=True)
class Children:
    """Records owned by a parent record and written nested under it (dictionary items)."""

    model: str                               # "lowcode.DictItem"
    parent_fk: str                           # FK to the parent record ("dictionary")
    entry: str = "items"                     # key of the nested list in the parent's mapping
    key: str = "code"                        # natural key within one parent
    tree_fk: str = ""                        # FK to a sibling, written by its key ("parent")
    order: tuple[str, ...] = ("sort", "code")

    @property
    def model_class(self):
        return apps.get_model(self.model)


@dataclass(frozen=True)
class MetaKind:
    name: str
    model: str
    file: str
    key: tuple[str, ...]
    label: str = ""
    after: tuple[str, ...] = ()
    codes: dict[str, str] = field(default_factory=dict)
    children: Children | None = None
    base: str = ""
    dump_order: tuple[str, ...] = ()
    json_key_order: tuple[str, ...] = ()
    validate: bool | Callable[[Any], None] = True

    @property
    def model_class(self):
        return apps.get_model(self.model)

    @property
    def per_file(self) -> bool:
        return self.file.endswith("/")

    @property
    def title(self) -> str:
        return self.label or str(self.model_class._meta.verbose_name)

    def path(self, root: Path | None = None) -> Path:
        return (root or metadata_root()) / self.file

    def models(self) -> list:
        """The kind's model and its children's, in that order."""
        return [self.model_class] + ([self.children.model_class] if self.children else [])


_kinds: dict[str, MetaKind] = {}


def register(name: str, **options) -> MetaKind:
    """Declare a metadata kind (idempotent for identical declarations; see the module docstring)."""
    kind = MetaKind(name=name, **options)
    if kind.per_file and len(kind.key) != 1:
        raise ValueError(f"{name}: a one-file-per-record kind needs a single key field (the file name)")
    existing = _kinds.get(name)
    if existing is not None and existing != kind:
        raise ValueError(f"metadata kind {name!r} is already registered differently")
    _kinds[name] = kind
    from lowcode.signals import watch

    for model in kind.models():
        watch(model)  # its saves bump the metadata version (caches keyed by it recompile)
    return kind


def unregister(name: str) -> None:
    """Forget a kind (tests that register one of their own)."""
    _kinds.pop(name, None)


def get(name: str) -> MetaKind:
    try:
        return _kinds[name]
    except KeyError:
        raise KeyError(f"未登记的元数据类别：{name}（可用：{'、'.join(_kinds)}）") from None


def kinds(names: Iterable[str] | None = None) -> list[MetaKind]:
    """The kinds named (all if None) plus the kinds they depend on, dependencies first."""
    wanted = list(names) if names is not None else list(_kinds)
    ordered: list[MetaKind] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        kind = get(name)
        if kind in ordered:
            return
        if name in visiting:
            raise ValueError(f"元数据类别的依赖成环：{name}")
        visiting.add(name)
        for dep in kind.after:
            visit(dep)
        visiting.discard(name)
        ordered.append(kind)

    for name in wanted:
        visit(name)
    return ordered


def kind_of(model) -> MetaKind | None:
    """The kind whose records (or children) are rows of ``model``."""
    for kind in _kinds.values():
        if model in kind.models():
            return kind
    return None


def metadata_models() -> list:
    """Every model holding metadata records, in registration order (change log, version stamp)."""
    out = []
    for kind in _kinds.values():
        out += [m for m in kind.models() if m not in out]
    return out


def metadata_root() -> Path:
    return Path(getattr(settings, "METADATA_DIR", settings.BASE_DIR / "metadata"))
