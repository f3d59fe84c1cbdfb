"""List screens from metadata: column callables and list filters for core and extra fields."""
from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db import models
from django.db.models import Q

from lowcode import fieldtypes, registry
from lowcode import sensitive as sensitive_values
from lowcode.registry import EntityMeta, FieldSpec

COLUMN_PREFIX = "x__"


def field_path(entity: str, spec: FieldSpec) -> str:
    """ORM path of a field: its column, or a key of the JSON column."""
    if spec.core:
        return spec.code
    return f"{registry.entity_config(entity).extra_field}__{spec.code}"


def raw_value(entity: str, obj: Any, spec: FieldSpec) -> Any:
    if spec.core:
        return getattr(obj, spec.code, None)
    extra = getattr(obj, registry.entity_config(entity).extra_field, None) or {}
    return spec.stored_json(extra.get(spec.code))


def make_column(entity: str, code: str, display):
    """An admin list/detail callable for one field; ``display(spec, obj, value)`` formats it."""
    meta = registry.get_meta(entity)
    spec = meta.fields[code]

    def column(obj):
        m = registry.get_meta(entity)
        s = m.fields.get(code, spec)
        return display(s, obj, raw_value(entity, obj, s))

    column.short_description = spec.label
    if spec.type.sortable and not spec.sensitive:  # no order in ciphertext
        column.admin_order_field = field_path(entity, spec)
    column.__name__ = COLUMN_PREFIX + code
    return column


def descendants(meta: EntityMeta, dictionary: str, code: str) -> list[str]:
    items = meta.dictionaries.get(dictionary, {})
    out, frontier = [code], [code]
    while frontier:
        frontier = [c for c, e in items.items() if e.parent in frontier and c not in out]
        out.extend(frontier)
    return out


class ChoiceFieldFilter(admin.SimpleListFilter):
    """Dictionary-bound field; choosing a tree node also matches its descendants."""

    entity = ""
    code = ""

    def lookups(self, request, model_admin):
        meta = registry.get_meta(self.entity)
        spec = meta.fields[self.code]
        if spec.type.filter_kind == "bool":
            return [("1", "是"), ("0", "否")]
        return meta.choices(spec)

    def queryset(self, request, queryset):
        value = self.value()
        if value in (None, ""):
            return queryset
        meta = registry.get_meta(self.entity)
        spec = meta.fields[self.code]
        path = field_path(self.entity, spec)
        if spec.type.filter_kind == "bool":
            if spec.sensitive and not spec.core:
                return queryset.filter(**sensitive_values.exact_lookup(path, spec.fieldtype, value == "1"))
            return queryset.filter(**{path: value == "1"})
        codes = descendants(meta, spec.dictionary, value) if spec.dictionary else [value]
        if spec.sensitive and not spec.core:  # encrypted: matched by the blind index of each code
            return queryset.filter(**{f"{path}__{sensitive_values.INDEX_KEY}__in": [
                sensitive_values.blind_index(spec.fieldtype, c) for c in codes]})
        if spec.type.choice == "many":
            q = Q()
            for c in codes:
                q |= Q(**{f"{path}__icontains": f'"{c}"'})
            return queryset.filter(q)
        return queryset.filter(**{f"{path}__in": codes})


class BoundedDateFieldListFilter(admin.DateFieldListFilter):
    """Django's date filter (今天/过去 7 天/本月…), except that a bound typed into the URL which is
    not a date within the accepted range (0001-01-01 overflows converting to UTC) is ignored.
    Registered for every date column named in a list_filter; name it in (field, filter) pairs."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        for key in (self.lookup_kwarg_since, self.lookup_kwarg_until):
            if key in self.used_parameters:
                value = self.used_parameters[key]
                raw = value[-1] if isinstance(value, (list, tuple)) else value
                if fieldtypes.parse_filter_date(str(raw)) is None:
                    del self.used_parameters[key]


admin.FieldListFilter.register(lambda f: isinstance(f, models.DateField), BoundedDateFieldListFilter,
                               take_priority=True)


class RangeFieldFilter(admin.ListFilter):
    """JeecgBoot's "group" (range) query: two inputs, from and to."""

    template = "lowcode/range_filter.html"
    entity = ""
    code = ""

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        self.spec = registry.get_meta(self.entity).fields[self.code]
        self.param_from = f"{self.code}__gte"
        self.param_to = f"{self.code}__lte"
        self.values = {}
        self.errors = []
        for p in (self.param_from, self.param_to):
            if p in params:
                raw = params.pop(p)
                raw = raw[-1] if isinstance(raw, list) else raw
                if raw != "":
                    parsed = self._parse(raw)
                    if parsed is None:
                        self.errors.append(f"“{self.spec.label}”的筛选值“{raw[:40]}”格式不正确或超出范围，已忽略")
                    else:
                        self.values[p] = parsed
                self.used_parameters[p] = raw

    def _parse(self, raw: str):
        """A finite number, or a date within the accepted range (never one the database cannot
        convert): the field type's parse_filter."""
        value = self.spec.type.parse_filter(raw)
        return value.isoformat() if hasattr(value, "isoformat") else value

    def has_output(self):
        return True

    def expected_parameters(self):
        return [self.param_from, self.param_to]

    def queryset(self, request, queryset):
        path = field_path(self.entity, self.spec)
        lookups = {}
        if self.param_from in self.values:
            lookups[f"{path}__gte"] = self.values[self.param_from]
        if self.param_to in self.values:
            op, v = self.spec.type.filter_until(self.values[self.param_to])
            lookups[f"{path}__{op}"] = v
        return queryset.filter(**lookups) if lookups else queryset

    def choices(self, changelist):
        # jazzmin's filter tag reads choices; the template renders the two inputs itself.
        yield {
            "selected": bool(self.values),
            "query_string": changelist.get_query_string(remove=self.expected_parameters()),
            "display": "全部",
        }

    @property
    def value_from(self) -> str:
        return self.used_parameters.get(self.param_from, "")

    @property
    def value_to(self) -> str:
        return self.used_parameters.get(self.param_to, "")

    @property
    def input_type(self):
        return self.spec.type.filter_input


_filter_cache: dict[tuple, type] = {}


def make_filter(entity: str, code: str) -> type | None:
    meta = registry.get_meta(entity)
    spec = meta.fields.get(code)
    if spec is None or not spec.type.filter_kind:
        return None
    if spec.sensitive and not spec.core and (
            spec.type.choice == "many" or spec.type.filter_kind == "range" or spec.query_mode == "range"):
        return None  # ciphertext has no order and a list no single index: exact values only
    key = (entity, code, meta.version)
    if key in _filter_cache:
        return _filter_cache[key]
    if spec.type.filter_kind == "range" or spec.query_mode == "range":
        cls = type(f"Range_{code}", (RangeFieldFilter,), {"entity": entity, "code": code, "title": spec.label})
    else:
        cls = type(f"Choice_{code}", (ChoiceFieldFilter,), {
            "entity": entity, "code": code, "title": spec.label, "parameter_name": code})
    _filter_cache[key] = cls
    return cls
