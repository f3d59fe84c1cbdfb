"""Entities the engine serves, and their compiled metadata.

A domain app registers an entity once (``register_entity``). ``get_meta(entity)`` returns an
immutable ``EntityMeta`` compiled from the metadata tables, cached per process and keyed by the
metadata version: no per-request rebuilding, and a change shows on the next request everywhere.
"""
from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from django.db import models

from lowcode import expressions, fieldtypes, sensitive as sensitive_values
from lowcode.fieldtypes import format_when  # noqa: F401 (domain apps import it from here)

EMPTY = (None, "", [])


@dataclass(frozen=True)
class EntityConfig:
    key: str                      # "case"
    model: type[models.Model]
    extra_field: str = "extra"    # JSON column for metadata-defined fields
    scope_field: str = ""         # FK/field whose dictionary code selects per-scope fields
    scope_dictionary: str = ""    # dictionary code of the scope (e.g. "case_type")


_entities: dict[str, EntityConfig] = {}


def register_entity(config: EntityConfig) -> None:
    _entities[config.key] = config
    sensitive_values.connect_entity(config.model)


def entity_config(key: str) -> EntityConfig:
    return _entities[key]


def entities() -> dict[str, EntityConfig]:
    return dict(_entities)


# --- metadata version: read once per request (middleware), else on every call ---------------
_request_version: contextvars.ContextVar[str | None] = contextvars.ContextVar("meta_version", default=None)


def read_version() -> str:
    from lowcode.models import MetaVersion

    return MetaVersion.objects.filter(pk=1).values_list("stamp", flat=True).first() or ""


def current_version() -> str:
    v = _request_version.get()
    return v if v is not None else read_version()


def pin_version_for_request():
    return _request_version.set(read_version())


def unpin_version(token) -> None:
    _request_version.reset(token)


# --- compiled metadata -------------------------------------------------------------------
@dataclass(frozen=True)
class DictEntry:
    code: str
    label: str
    parent: str | None
    path_label: str
    color: str
    is_active: bool
    attrs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class FieldSpec:
    code: str
    label: str
    fieldtype: str
    core: bool
    dictionary: str | None
    scope: tuple[str, ...]
    reqd: bool
    mandatory_depends_on: str
    depends_on: str
    hidden: bool
    read_only: bool
    default: str
    min_value: Any
    max_value: Any
    max_length: int | None
    precision: int | None
    pattern: str
    pattern_message: str
    description: str
    sensitive: bool
    in_list_view: bool
    in_standard_filter: bool
    query_mode: str
    search_index: bool
    in_import: bool
    idx: int

    @property
    def type(self) -> fieldtypes.FieldType:
        return fieldtypes.get(self.fieldtype)

    # -- what the FieldDef's properties mean: decided here, asked by forms, Excel import and
    # export, lists and the live form-rules endpoint alike --------------------------------
    @property
    def conditional(self) -> bool:
        """Shown or required depending on other values (depends_on / mandatory_depends_on)."""
        return bool(self.depends_on or self.mandatory_depends_on)

    @property
    def required_always(self) -> bool:
        """Required whatever else is entered (a field shown only under a condition is not)."""
        return self.reqd and not self.depends_on

    @property
    def conditionally_required(self) -> bool:
        return bool(self.mandatory_depends_on or (self.reqd and self.depends_on))

    def visible_when(self, values: dict[str, Any]) -> bool:
        """Whether the field applies to these values (expression values: by code and label)."""
        return expressions.holds(self.depends_on, values)

    def required_when(self, values: dict[str, Any]) -> bool:
        """Whether the field must be filled for these values: shown, and required outright or
        by its mandatory_depends_on."""
        return self.visible_when(values) and (self.reqd or bool(
            self.mandatory_depends_on and expressions.holds(self.mandatory_depends_on, values)))

    def missing_message(self) -> str:
        reason = f"（条件：{self.mandatory_depends_on}）" if self.mandatory_depends_on else ""
        return f"“{self.label}”为必填项{reason}"

    def condition_notes(self) -> list[str]:
        """The conditions in words (e.g. the Excel template's 填写要求)."""
        notes = []
        if self.mandatory_depends_on:
            notes.append(f"当 {self.mandatory_depends_on} 时必填")
        if self.depends_on:
            notes.append(f"仅当 {self.depends_on} 时填写")
        return notes

    @property
    def importable(self) -> bool:
        """Filled by users, hence a column of Excel imports (a choice without a dictionary also
        needs the domain's look-up, see lowcode.excel)."""
        return self.in_import and not self.hidden and not self.read_only and not self.type.upload

    # -- storage: the one path between a cleaned value and the entity's JSON column -------
    # A sensitive field's value is kept SM4-encrypted with a blind index (lowcode.sensitive);
    # reading reveals any protected value, so a field being switched on or off still reads.
    def to_stored(self, value: Any) -> Any:
        stored = self.type.to_json(value)
        return sensitive_values.protect(self.fieldtype, stored) if self.sensitive else stored

    def from_stored(self, raw: Any) -> Any:
        return self.type.from_json(self.stored_json(raw))

    def stored_json(self, raw: Any) -> Any:
        """The JSON value of a stored one (as lists, detail screens and expressions read it)."""
        return sensitive_values.reveal(raw)


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[str, ...]
    collapsed: bool = False


@dataclass(frozen=True)
class ListSpec:
    columns: tuple[str, ...]
    filters: tuple[str, ...]
    search_fields: tuple[str, ...]
    ordering: tuple[str, ...]
    page_size: int


@dataclass
class EntityMeta:
    entity: str
    version: str
    fields: dict[str, FieldSpec]                        # by code, in idx order
    dictionaries: dict[str, dict[str, DictEntry]]        # dict code → item code → entry
    layouts: dict[tuple[str, str, str], tuple[Section, ...]]  # (screen, scope, role) → sections
    lists: dict[str, ListSpec]                           # role ('' = default) → spec
    workflows: dict[str, dict] = field(default_factory=dict)  # scope ('' = default) → workflow

    # -- scopes (e.g. case types): a field for 劳动争议 also applies to its child 欠薪 --------
    def scope_chain(self, scope_value: str | None) -> list[str]:
        config = _entities.get(self.entity)
        items = self.dictionaries.get(config.scope_dictionary, {}) if config else {}
        chain, code = [], scope_value
        while code and code in items and code not in chain:
            chain.append(code)
            code = items[code].parent
        return chain

    def fields_for(self, scope_value: str | None) -> list[FieldSpec]:
        chain = set(self.scope_chain(scope_value))
        return [f for f in self.fields.values() if not f.scope or chain.intersection(f.scope)]

    def extra_fields(self) -> list[FieldSpec]:
        return [f for f in self.fields.values() if not f.core]

    def label_to_code(self) -> dict[str, str]:
        return {f.label: f.code for f in self.fields.values()}

    def choices(self, spec: FieldSpec) -> list[tuple[str, str]]:
        items = self.dictionaries.get(spec.dictionary or "", {})
        return [(e.code, e.path_label) for e in items.values() if e.is_active]

    def display_value(self, spec: FieldSpec, value: Any) -> str:
        if value in (None, "", []):
            return ""
        if spec.dictionary:
            items = self.dictionaries.get(spec.dictionary, {})
            if isinstance(value, list):
                return "、".join(items[v].label if v in items else str(v) for v in value)
            return items[value].label if value in items else str(value)
        return spec.type.display(value)

    def layout(self, screen: str, scope_value: str | None = None, roles: tuple[str, ...] = ()) -> tuple[Section, ...]:
        """Most specific layout: (scope, role) > (scope) > (role) > generic; 'detail'/'review'/'h5'
        fall back to 'edit'. Without any layout: one section with every field in idx order."""
        chain = self.scope_chain(scope_value) + [""]
        for scr in (screen, "edit") if screen != "edit" else ("edit",):
            for scope in chain:
                for role in tuple(roles) + ("",):
                    found = self.layouts.get((scr, scope, role))
                    if found:
                        return found
        return (Section("基本信息", tuple(self.fields)),)

    def list_spec(self, roles: tuple[str, ...] = ()) -> ListSpec:
        for role in tuple(roles) + ("",):
            if role in self.lists:
                return self.lists[role]
        return ListSpec(tuple(list(self.fields)[:6]), (), (), (), 20)

    @cached_property
    def expression_names(self) -> set[str]:
        return set(self.fields) | set(self.label_to_code())

    def expression_values(self, data: dict[str, Any]) -> dict[str, Any]:
        """Values by code and by label, as expressions see them (each type coerces its own)."""
        values = {}
        for code, spec in self.fields.items():
            values[code] = values[spec.label] = spec.type.to_expression(data.get(code))
        return values

    def check_conditions(self, cleaned: dict[str, Any], codes) -> tuple[list[str], dict[str, str]]:
        """depends_on / required-if over cleaned values, for the fields ``codes``: the codes not
        shown under these values (whatever was entered is not kept) and code → message for those
        required but empty. The form and the Excel import both apply exactly this."""
        values = self.expression_values(cleaned)
        hidden, missing = [], {}
        for code in codes:
            spec = self.fields.get(code)
            if spec is None or not spec.conditional:
                continue
            if not spec.visible_when(values):
                hidden.append(code)
            elif spec.required_when(values) and cleaned.get(code) in EMPTY:
                missing[code] = spec.missing_message()
        return hidden, missing


_cache: dict[str, EntityMeta] = {}
_lock = threading.Lock()


def get_meta(entity: str) -> EntityMeta:
    version = current_version()
    cached = _cache.get(entity)
    if cached is not None and cached.version == version:
        return cached
    with _lock:
        meta = compile_meta(entity, version)
        _cache[entity] = meta
        return meta


def clear_cache() -> None:
    _cache.clear()
    _dict_cache.clear()


_dict_cache: dict[str, tuple[str, dict[str, DictEntry]]] = {}


def get_dictionary(code: str) -> dict[str, DictEntry]:
    """One dictionary's items (code → entry), cached per metadata version like get_meta."""
    version = current_version()
    cached = _dict_cache.get(code)
    if cached is not None and cached[0] == version:
        return cached[1]
    entries = compile_dictionaries({code}).get(code, {})
    _dict_cache[code] = (version, entries)
    return entries


# --- dictionaries whose items another registry owns -------------------------------------------
@dataclass(frozen=True)
class DictionaryProvider:
    items: Callable[[], Iterable[tuple[str, str]]]   # () -> [(code, label), …] in display order
    model: str                                       # "app_label.Model" whose rows are the items


_providers: dict[str, DictionaryProvider] = {}


def provide_dictionary(code: str, items: Callable[[], Iterable[tuple[str, str]]], *, model: str) -> None:
    """Let the rows of ``model`` be the items of dictionary ``code`` (e.g. the channels are the
    items of ``event_source``): the list lives in one place, and every screen that reads the
    dictionary (forms, list filters, display, Excel) sees a rename at once. A save or delete of
    ``model`` bumps the metadata version like any metadata edit; the dictionary's own DictItem
    rows, if any, are ignored. Called from the owner's ``AppConfig.ready``."""
    from django.apps import apps

    from lowcode.signals import watch

    _providers[code] = DictionaryProvider(items, model)
    watch(apps.get_model(model))


def dictionary_provider(code: str) -> DictionaryProvider | None:
    return _providers.get(code)


def _provided(provider: DictionaryProvider) -> dict[str, DictEntry]:
    return {code: DictEntry(code, label, None, label, "", True) for code, label in provider.items()}


def compile_dictionaries(codes: set[str]) -> dict[str, dict[str, DictEntry]]:
    from lowcode.models import DictItem

    dictionaries: dict[str, dict[str, DictEntry]] = {code: {} for code in codes}
    for code in codes & _providers.keys():
        dictionaries[code] = _provided(_providers[code])
    codes = codes - _providers.keys()
    items = list(DictItem.objects.filter(dictionary__code__in=codes).select_related("dictionary")
                 .order_by("dictionary_id", "sort", "id"))
    by_pk = {i.pk: i for i in items}

    def path_label(item) -> str:
        parts, node, seen = [], item, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            parts.append(node.label)
            node = by_pk.get(node.parent_id)
        return " › ".join(reversed(parts))

    for i in items:
        parent = by_pk.get(i.parent_id)
        dictionaries[i.dictionary.code][i.code] = DictEntry(
            i.code, i.label, parent.code if parent else None, path_label(i), i.color, i.is_active,
            dict(i.attrs or {}))
    return dictionaries


def compile_meta(entity: str, version: str) -> EntityMeta:
    from lowcode.models import FieldDef, FormLayout, ListView, Workflow

    # only the dictionaries this entity's fields (and its scope) use: compile cost stays bounded
    config = _entities.get(entity)
    used = set(FieldDef.objects.filter(entity=entity, dictionary__isnull=False)
               .values_list("dictionary__code", flat=True))
    if config and config.scope_dictionary:
        used.add(config.scope_dictionary)
    dictionaries = compile_dictionaries(used)

    fields: dict[str, FieldSpec] = {}
    for f in FieldDef.objects.filter(entity=entity).select_related("dictionary").order_by("idx", "id"):
        fields[f.code] = FieldSpec(
            code=f.code, label=f.label, fieldtype=f.fieldtype, core=f.core,
            dictionary=f.dictionary.code if f.dictionary_id else None, scope=tuple(f.scope or ()),
            reqd=f.reqd, mandatory_depends_on=f.mandatory_depends_on, depends_on=f.depends_on,
            hidden=f.hidden, read_only=f.read_only, default=f.default, min_value=f.min_value,
            max_value=f.max_value, max_length=f.max_length, precision=f.precision,
            pattern=f.pattern, pattern_message=f.pattern_message, description=f.description,
            sensitive=f.sensitive, in_list_view=f.in_list_view,
            in_standard_filter=f.in_standard_filter, query_mode=f.query_mode,
            search_index=f.search_index, in_import=f.in_import, idx=f.idx)

    layouts = {
        (lay.screen, lay.scope_value, lay.role): tuple(
            Section(s.get("title", ""), tuple(c for c in s.get("fields", []) if c in fields),
                    bool(s.get("collapsed"))) for s in lay.sections)
        for lay in FormLayout.objects.filter(entity=entity)
    }
    lists = {
        lv.role: ListSpec(tuple(lv.columns), tuple(lv.filters), tuple(lv.search_fields),
                          tuple(lv.ordering), lv.page_size)
        for lv in ListView.objects.filter(entity=entity)
    }
    workflows = {
        wf.scope_value: {"state_field": wf.state_field, "states": wf.states, "transitions": wf.transitions,
                         "timers": wf.timers}
        for wf in Workflow.objects.filter(entity=entity)
    }
    return EntityMeta(entity, version, fields, dictionaries, layouts, lists, workflows)
