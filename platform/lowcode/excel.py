"""Bulk Excel for metadata-driven entities: import templates, validated imports with a preview,
and exports of what the user may see.

Everything comes from the compiled metadata (``registry.get_meta``) at call time, so a field a
business admin adds shows at once in templates, imports and exports. A django-import-export
``ModelResource`` is built per call: one ``MetaField`` per importable FieldSpec, each cell
validated by the very form field the edit screen uses (``forms.formfield_for``), so the messages
are the screens' messages. A domain adds what metadata does not describe (e.g. party columns,
region look-ups) through a small ``ExcelHooks`` subclass registered with ``register_hooks``.

Imports never half-import: the preview validates every row without saving; the confirm step
validates again and saves the accepted rows in one transaction, or nothing at all.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

import tablib
from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from import_export import exceptions as ie_exceptions
from import_export import fields as ie_fields
from import_export import resources, widgets
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from lowcode import lists, registry
from lowcode.fieldtypes import BLANK_CHOICE, NUMERIC_ID_MESSAGE  # noqa: F401 (domain hooks use the message)
from lowcode.forms import formfield_for
from lowcode.registry import EntityMeta, FieldSpec
from secure import audit
from secure.masking import mask
from secure.spreadsheet import FORMULA_PREFIXES, max_export_rows, neutralise  # noqa: F401 (re-exported for domain exports)

logger = logging.getLogger(__name__)

DATA_SHEET = "导入数据"
HELP_SHEET = "填写说明"
LIST_SHEET = "下拉选项"
REQUIRED_MARK = "*"
MULTI_JOIN = "、"
XLSX_TYPES = {".xlsx", ".xlsm"}
EMPTY = (None, "", [])
_MISSING = object()


class ImportFileError(Exception):
    """The uploaded file cannot be read as a table; the message is Chinese, ready to show."""


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", 20000))


def max_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_BYTES", 20 * 1024 * 1024))


# --- what a domain may add -------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    """A column the metadata does not describe, added by a domain's hooks (e.g. 申请人姓名)."""

    key: str
    label: str
    required: bool = False
    kind: str = "文本"             # type shown in 填写说明
    note: str = ""                 # 填写要求
    mask_kind: str = ""            # "id_number" / "phone": masked on export and preview unless allowed
    text: bool = True              # format the template column as text (keeps leading zeros)
    choices: tuple[str, ...] = ()  # drop-down values in the template
    export: bool = True


class Lookup:
    """The values a choice column accepts: ``(value, label, aliases)`` entries. ``labels`` feed
    the template's drop-down; a cell may hold the label or any alias (e.g. a code)."""

    def __init__(self, entries: Iterable[tuple[Any, str, Iterable[str]]], invalid_message: str = ""):
        self.labels: list[str] = []
        self._by_text: dict[str, Any] = {}
        self._label_of: dict[str, str] = {}
        self._value_of: dict[str, Any] = {}
        ambiguous: set[str] = set()
        for value, label, aliases in entries:
            self.labels.append(label)
            self._label_of[str(value)] = label
            self._value_of[str(value)] = value
            for text in (label, str(value), *aliases):
                text = str(text).strip()
                if not text:
                    continue
                if text in self._by_text and self._by_text[text] != value:
                    ambiguous.add(text)
                self._by_text.setdefault(text, value)
        for text in ambiguous - set(self._label_of):
            self._by_text.pop(text, None)
        self.invalid_message = invalid_message

    def resolve(self, text: str) -> Any:
        return self._by_text.get(str(text).strip(), _MISSING)

    def label(self, value: Any) -> str:
        return self._label_of.get(str(value), "" if value in EMPTY else str(value))

    def value(self, key: str) -> Any:
        return self._value_of.get(str(key), key)

    @property
    def choices(self) -> list[tuple[str, str]]:
        return list(self._label_of.items())


@dataclass
class ImportRow:
    """One data row while it is imported; hooks read ``raw``/``values`` and keep what they
    parsed in ``data`` for ``after_save``."""

    number: int                              # row number as Excel shows it
    raw: dict[str, Any]                      # column label → cell value as read
    values: dict[str, Any] = field(default_factory=dict)   # field code → cleaned value
    scope: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def cell(self, label: str) -> str:
        return cell_text(self.raw.get(label))


class ExcelHooks:
    """What a domain adds to the generic Excel import/export of one entity. Every method has a
    harmless default; one instance serves one request."""

    #: metadata fields exported (read-only) although they are not imported, e.g. 案件编号
    export_also: tuple[str, ...] = ()

    def __init__(self, user=None, can_see_sensitive: bool = False):
        self.user = user
        self.can_see_sensitive = can_see_sensitive

    def extra_columns(self) -> list[Column]:
        return []

    def lookup(self, spec: FieldSpec) -> Lookup | None:
        """Accepted values of a choice field without a dictionary (fieldtype region / user)."""
        return None

    def row_defaults(self) -> dict[str, Any]:
        """Field code → value used when the cell is empty (already typed, e.g. a region pk)."""
        return {}

    def validate_row(self, row: ImportRow) -> dict[str, str | list[str]]:
        """Column label (or "" for the row) → error message(s)."""
        return {}

    def before_save(self, obj, row: ImportRow) -> None:
        pass

    def after_save(self, obj, row: ImportRow) -> None:
        pass

    def export_queryset(self, queryset):
        return queryset

    def export_values(self, obj) -> dict[str, Any]:
        """Column key → value for ``extra_columns`` with ``export=True`` (unmasked)."""
        return {}


_hooks: dict[str, type[ExcelHooks]] = {}
_discovered = False


def register_hooks(entity: str, hooks: type[ExcelHooks]) -> None:
    _hooks[entity] = hooks


def hooks_class(entity: str) -> type[ExcelHooks]:
    """Registered hooks; ``<app>.excel`` modules are imported once to let them register."""
    global _discovered
    if entity not in _hooks and not _discovered:
        from django.utils.module_loading import autodiscover_modules

        _discovered = True
        autodiscover_modules("excel")
    return _hooks.get(entity, ExcelHooks)


# --- cells ----------------------------------------------------------------------------
def cell_text(value: Any) -> str:
    """A cell as text: numbers without a spurious ``.0``, dates ISO, booleans 是/否."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour, value.minute, value.second) != (0, 0, 0) \
            else value.strftime("%Y-%m-%d")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    text = str(value).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_PREFIXES:
        text = text[1:]  # undo our own export neutralisation
    return text


def _messages(exc: ValidationError) -> str:
    return "；".join(str(m) for m in exc.messages)


# --- columns from metadata -------------------------------------------------------------
def _dictionary_lookup(meta: EntityMeta, spec: FieldSpec, only: set[str] | None = None) -> Lookup:
    items = [e for e in meta.dictionaries.get(spec.dictionary or "", {}).values()
             if e.is_active and (only is None or e.code in only)]
    counts: dict[str, int] = {}
    for e in items:
        counts[e.label] = counts.get(e.label, 0) + 1
    return Lookup((e.code, e.label if counts[e.label] == 1 else e.path_label,
                   (e.label, e.path_label, e.path_label.replace(" › ", "/"))) for e in items)


def _applies(spec: FieldSpec, chain: set[str] | None) -> bool:
    """Whether a field applies to a scope chain; ``None`` means every scope."""
    return not spec.scope or chain is None or bool(chain.intersection(spec.scope))


class MetaWidget(widgets.Widget):
    """Converts one cell of one metadata field: the field type reads the cell (FieldType.parse_cell:
    是/否 → bool, several values → a list …), labels become codes, then the field's form field
    cleans it (same rules and messages as the edit screen)."""

    def __init__(self, meta: EntityMeta, spec: FieldSpec, lookup: Lookup | None, default: Any = _MISSING):
        super().__init__(coerce_to_string=False)
        self.meta, self.spec, self.lookup, self.default = meta, spec, lookup, default
        self.formfield = formfield_for(meta, spec)
        self.formfield.disabled = False  # read-only fields are not imported at all
        if lookup is not None and not spec.dictionary and isinstance(self.formfield, forms.ChoiceField):
            self.formfield.choices = [BLANK_CHOICE] + lookup.choices

    def __deepcopy__(self, memo):  # shared, read-only; Resource() deep-copies its fields
        return self

    def clean(self, value, row=None, **kwargs):
        spec = self.spec
        text = cell_text(value)
        if text in EMPTY:
            if self.default is not _MISSING:
                return self.default
            value = text = spec.default if spec.default else ""
        try:
            return self._clean(spec.type.parse_cell(value, text, spec))
        except ValidationError as exc:
            raise ValueError(_messages(exc)) from None

    def _clean(self, text: Any) -> Any:
        spec, ff = self.spec, self.formfield
        if isinstance(text, list):  # several values in one cell
            return ff.clean([self._resolve(p) for p in text])
        if self.lookup is not None and text not in EMPTY:
            resolved = self.lookup.resolve(text)
            if resolved is _MISSING:
                if self.lookup.invalid_message:
                    raise ValidationError(self.lookup.invalid_message.format(value=text, label=spec.label))
                return ff.clean(text)
            cleaned = ff.clean(str(resolved))
            return self.lookup.value(cleaned) if not spec.dictionary else cleaned
        return ff.clean(text)

    def _resolve(self, text: str) -> str:
        if self.lookup is None:
            return text
        resolved = self.lookup.resolve(text)
        return text if resolved is _MISSING else str(resolved)

    def render(self, value, obj=None, **kwargs):
        if value in EMPTY:
            return None
        if isinstance(value, models.Model):
            return str(value)
        cell = self.spec.type.format_cell(value) if self.spec.type.format_cell else None
        return cell if cell is not None else self.meta.display_value(self.spec, value)


class MetaField(ie_fields.Field):
    """A metadata field: a model attribute (core) or a key of the entity's JSON column."""

    def __init__(self, spec: FieldSpec, widget: MetaWidget, model: type[models.Model], extra_field: str):
        super().__init__(attribute=spec.code, column_name=spec.label, widget=widget)
        self.spec = spec
        self.extra_field = None if spec.core else extra_field
        self.attname = spec.code
        if spec.core:
            try:
                self.model_field = model._meta.get_field(spec.code)
                self.attname = getattr(self.model_field, "attname", spec.code)
            except Exception:  # a core FieldSpec without a column (computed): export only
                self.model_field = None

    def get_value(self, instance):
        if self.extra_field is None:
            return getattr(instance, self.spec.code, None)  # a relation gives its object (str() exported)
        extra = getattr(instance, self.extra_field, None) or {}
        return self.spec.from_stored(extra.get(self.spec.code))

    def assign(self, instance, value) -> None:
        if value in EMPTY:
            return  # a new instance keeps its model default; extra keys are left out
        if self.extra_field is None:
            setattr(instance, self.attname, value)
        else:
            extra = dict(getattr(instance, self.extra_field, None) or {})
            extra[self.spec.code] = self.spec.to_stored(value)
            setattr(instance, self.extra_field, extra)

    def save(self, instance, row, is_m2m=False, **kwargs):
        self.assign(instance, self.clean(row, **kwargs))


class HookField(ie_fields.Field):
    """A domain column (``Column``); its cells are validated and saved by the hooks."""

    def __init__(self, column: Column):
        super().__init__(attribute=None, column_name=column.label, readonly=True)
        self.column = column


class MetaResource(resources.ModelResource):
    """Base of the resources ``build_resource`` makes; import always creates new rows."""

    class Meta:
        force_init_instance = True
        import_id_fields: list[str] = []
        skip_diff = True
        skip_html_diff = True
        use_transactions = True
        clean_model_instances = False
        report_skipped = False

    def __init__(self, *, entity: str, meta: EntityMeta, hooks: ExcelHooks, row_numbers=None, **kwargs):
        super().__init__(**kwargs)
        self.entity, self.meta, self.hooks = entity, meta, hooks
        self.config = registry.entity_config(entity)
        self.row_numbers = list(row_numbers or [])
        self.current: ImportRow | None = None

    # -- import ------------------------------------------------------------------------
    def meta_fields(self) -> list[MetaField]:
        return [f for f in self.get_import_fields() if isinstance(f, MetaField)]

    def before_import_row(self, row, **kwargs):
        index = kwargs.get("row_number") or 1
        number = self.row_numbers[index - 1] if index - 1 < len(self.row_numbers) else index + 1
        self.current = ImportRow(number=number, raw=dict(row))

    def import_instance(self, instance, row, **kwargs):
        ctx = self.current or ImportRow(number=0, raw=dict(row))
        meta, scope_code = self.meta, self.config.scope_field
        errors: dict[str, list[str]] = {}
        fields = self.meta_fields()
        by_code = {f.spec.code: f for f in fields}

        def add(label: str, message: str) -> None:
            errors.setdefault(label, []).append(message)

        # 1. the scope (e.g. case type) decides which fields apply to this row
        chain: set[str] | None = None
        scope_ok = True
        if scope_code and scope_code in by_code:
            f = by_code[scope_code]
            try:
                ctx.values[scope_code] = f.clean(row) if f.column_name in row else f.widget.clean("")
            except ValueError as exc:
                add(f.column_name, str(exc))
                scope_ok = False
            ctx.scope = ctx.values.get(scope_code) or None
            chain = set(meta.scope_chain(ctx.scope))
        scope_label = meta.display_value(meta.fields[scope_code], ctx.scope) if scope_code in meta.fields else ""

        # 2. every cell, cleaned by the field's form field
        applicable = {f.column_name for f in fields if _applies(f.spec, chain)}
        for f in fields:
            spec = f.spec
            if spec.code == scope_code:
                continue
            present = f.column_name in row
            if spec.scope and not scope_ok:
                continue  # unknown scope: which fields apply is unknowable; the scope cell says why
            if not _applies(spec, chain):
                # (two scopes may each have a field with this label: then the cell is the other's)
                if present and cell_text(row[f.column_name]) != "" and f.column_name not in applicable:
                    add(f.column_name, f"“{spec.label}”不适用于{meta.fields[scope_code].label}“{scope_label}”，请清空该单元格")
                continue
            try:
                ctx.values[spec.code] = f.clean(row) if present else f.widget.clean("")
            except ValueError as exc:
                if present:
                    add(f.column_name, str(exc))
                else:
                    add(f.column_name, f"“{spec.label}”为必填项，但文件中没有这一列（请下载“{scope_label or '对应'}”的导入模板）")

        # 3. conditional visibility / required-if: the very check of MetaFormMixin.clean
        hidden, missing = meta.check_conditions(ctx.values, [c for c, f in by_code.items() if _applies(f.spec, chain)])
        for code in hidden:
            ctx.values[code] = None
            errors.pop(by_code[code].column_name, None)
        for code, message in missing.items():
            if by_code[code].column_name not in errors:
                add(by_code[code].column_name, message)

        # 4. the domain's own checks (its columns, cross-field rules, permissions)
        for label, msgs in (self.hooks.validate_row(ctx) or {}).items():
            for m in [msgs] if isinstance(msgs, str) else msgs:
                add(label or NON_FIELD_ERRORS, str(m))

        for f in fields:
            if f.spec.code in ctx.values and f.column_name not in errors:
                f.assign(instance, ctx.values[f.spec.code])
        if errors:
            raise ValidationError(errors)

    def save_instance(self, instance, is_create, row, **kwargs):
        if kwargs.get("dry_run"):
            return  # the preview validates only: no numbers drawn, no history, no side effects
        super().save_instance(instance, is_create, row, **kwargs)

    def before_save_instance(self, instance, row, **kwargs):
        instance._change_reason = "Excel 批量导入"
        self.hooks.before_save(instance, self.current)

    def do_instance_save(self, instance, is_create):
        instance.save()  # a normal save: signals fire and simple-history writes a record

    def after_save_instance(self, instance, row, **kwargs):
        self.hooks.after_save(instance, self.current)

    def after_import(self, dataset, result, **kwargs):
        pass  # no sequence reset: rows are created with database-assigned keys

    # -- export ------------------------------------------------------------------------
    def export_resource(self, instance, selected_fields=None, **kwargs):
        hook_values = self.hooks.export_values(instance) if any(
            isinstance(f, HookField) for f in self.fields.values()) else {}
        see = self.hooks.can_see_sensitive
        out = []
        for f in self.get_export_fields(selected_fields):
            if isinstance(f, HookField):
                value = hook_values.get(f.column.key)
                if f.column.mask_kind and not see and value not in EMPTY:
                    value = mask(str(value), f.column.mask_kind)
            else:
                raw = f.get_value(instance)
                if f.spec.sensitive and not see and raw not in EMPTY:
                    value = mask(str(raw), f.spec.fieldtype)
                else:
                    value = f.widget.render(raw)
            out.append(neutralise(value))
        return out


def importable(spec: FieldSpec, lookup: Lookup | None = None) -> bool:
    """A column of imports: filled by users (FieldSpec.importable), and a choice's values known
    (a dictionary, or the domain's look-up, e.g. regions)."""
    return spec.importable and not (spec.type.choice and not spec.dictionary and lookup is None)


class _Plan:
    """Columns of one entity for one purpose, computed once per request from the metadata."""

    def __init__(self, entity: str, hooks: ExcelHooks, scope: str | None, purpose: str):
        self.entity, self.hooks, self.scope, self.purpose = entity, hooks, scope, purpose
        self.meta = registry.get_meta(entity)
        self.config = registry.entity_config(entity)
        self.lookups: dict[str, Lookup | None] = {}
        for spec in self.meta.fields.values():
            if spec.type.choice and spec.dictionary:
                self.lookups[spec.code] = _dictionary_lookup(self.meta, spec)
            elif spec.type.choice == "one":
                self.lookups[spec.code] = hooks.lookup(spec) if purpose != "export" else None
        defaults = hooks.row_defaults() if purpose != "export" else {}
        self.defaults = {k: v for k, v in defaults.items() if v not in EMPTY}
        self.hook_columns = [c for c in hooks.extra_columns() if purpose != "export" or c.export]
        meta = self.meta
        if purpose == "export":
            related: set[str] | None = None
            if scope:
                related = set(meta.scope_chain(scope)) | set(
                    lists.descendants(meta, self.config.scope_dictionary, scope))
            self.specs = [f for f in meta.fields.values()
                          if not f.hidden and not f.type.upload
                          and (f.in_import or f.code in hooks.export_also) and _applies(f, related)]
        else:
            specs = meta.fields_for(scope) if purpose == "template" else list(meta.fields.values())
            self.specs = [f for f in specs if importable(f, self.lookups.get(f.code))]

    def widget(self, spec: FieldSpec) -> MetaWidget:
        return MetaWidget(self.meta, spec, self.lookups.get(spec.code), self.defaults.get(spec.code, _MISSING))

    def required(self, spec: FieldSpec) -> bool:
        """Must the user fill this column (no default would fill it)?"""
        return spec.required_always and not spec.default and spec.code not in self.defaults

    def resource(self, row_numbers=None) -> MetaResource:
        attrs: dict[str, Any] = {}
        order = []
        for spec in self.specs:
            attrs[spec.code] = MetaField(spec, self.widget(spec), self.config.model, self.config.extra_field)
            order.append(spec.code)
        for col in self.hook_columns:
            name = ":" + col.key
            attrs[name] = HookField(col)
            order.append(name)
        options = {"model": self.config.model, "fields": tuple(order),
                   "import_order": tuple(order), "export_order": tuple(order)}
        meta_cls = type("Meta", (MetaResource.Meta,), options)
        cls = type(f"{self.entity.title()}ExcelResource", (MetaResource,), {**attrs, "Meta": meta_cls})
        return cls(entity=self.entity, meta=self.meta, hooks=self.hooks, row_numbers=row_numbers)


def build_resource(entity: str, *, hooks: ExcelHooks | None = None, scope: str | None = None,
                   purpose: str = "import") -> MetaResource:
    """A django-import-export resource for ``entity`` built from its current metadata.
    ``purpose``: "import" (every importable field; rows pick theirs by scope), "template"
    (the fields of ``scope``) or "export" (also ``hooks.export_also``; every scope's fields
    unless ``scope`` narrows them to that scope, its parents and its children)."""
    hooks = hooks or hooks_class(entity)()
    return _Plan(entity, hooks, scope, purpose).resource()


# --- reading files ---------------------------------------------------------------------
@dataclass
class Table:
    headers: list[str]                           # column labels, required marks removed
    rows: list[tuple[int, list[Any]]]            # (row number as in Excel, cells)
    filename: str = ""

    def dataset(self, numbers: Iterable[int] | None = None) -> tuple[tablib.Dataset, list[int]]:
        wanted = set(numbers) if numbers is not None else None
        data = tablib.Dataset(headers=list(self.headers))
        kept = []
        for number, cells in self.rows:
            if wanted is None or number in wanted:
                data.append(list(cells))
                kept.append(number)
        return data, kept


def header_label(value: Any) -> str:
    text = cell_text(value).replace("\n", "").replace("\r", "").strip()
    return text.strip(REQUIRED_MARK + "＊").strip()


def read_table(source: str | Path | bytes, filename: str = "") -> Table:
    """Read an uploaded .xlsx (or .csv) into a Table; ImportFileError with a Chinese message
    for anything that is not a readable, reasonably sized table."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        size = path.stat().st_size if path.exists() else 0
        with open(path, "rb") as fh:
            head = fh.read(8)
    else:
        path, size, head = None, len(source), source[:8]
    name = (filename or (path.name if path else "")).lower()
    ext = os.path.splitext(name)[1]
    if size == 0:
        raise ImportFileError("上传的文件是空的，请选择填写好的导入模板。")
    if size > max_bytes():
        raise ImportFileError(f"文件太大（{size / 1048576:.1f} MB），单个文件不能超过 {max_bytes() / 1048576:.0f} MB，请拆分后分批导入。")
    if ext == ".xls" or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ImportFileError("不支持旧版 .xls 格式，请在 Excel 中“另存为” .xlsx 格式后再上传。")
    if ext == ".csv":
        raw = path.read_bytes() if path else source
        return _read_csv(raw, filename)
    if ext not in XLSX_TYPES and not head.startswith(b"PK"):
        raise ImportFileError("文件格式不支持，请上传用导入模板填写的 Excel 文件（.xlsx）。")
    try:
        if path is None:
            return _read_xlsx(io.BytesIO(source), filename)
        with open(path, "rb") as fh:  # a handle, not a name: openpyxl judges names by extension
            return _read_xlsx(fh, filename)
    except ImportFileError:
        raise
    except Exception as exc:  # truncated zip, not an xlsx inside, broken XML…
        logger.info("unreadable import file %s: %r", filename, exc)
        raise ImportFileError("文件无法读取：不是有效的 Excel（.xlsx）文件，或文件已损坏。请用导入模板重新填写后上传。") from None


def _trim_headers(values: list[Any]) -> list[str]:
    headers = [header_label(v) for v in values]
    while headers and not headers[-1]:
        headers.pop()
    return headers


def _blank_row_limit() -> int:
    return 3 * max_rows() + 1000


def _check_rows(count: int) -> None:
    if count > max_rows():
        raise ImportFileError(f"数据行数超过上限：单个文件最多 {max_rows()} 行，请拆分后分批导入。")


def _read_xlsx(source, filename: str) -> Table:
    with zipfile.ZipFile(source) as zf:  # a truncated or non-zip file fails here, cheaply
        if sum(i.file_size for i in zf.infolist()) > 40 * max_bytes():
            raise ImportFileError("文件内容过大，无法导入，请拆分后分批导入。")
    source.seek(0)
    wb = load_workbook(source, read_only=True, data_only=False)
    try:
        ws = wb[DATA_SHEET] if DATA_SHEET in wb.sheetnames else wb.worksheets[0]
        rows_iter = ws.iter_rows(values_only=True)
        first = next(rows_iter, None)
        headers = _trim_headers(list(first or []))
        if not any(headers):
            raise ImportFileError("第一行没有表头。请使用系统下载的导入模板，不要删除或移动表头行。")
        width = len(headers)
        rows = []
        for number, values in enumerate(rows_iter, start=2):
            cells = list(values[:width]) + [None] * (width - len(values))
            if all(cell_text(c) == "" for c in cells):
                if number > _blank_row_limit():
                    raise ImportFileError("文件中的空行过多，请删除数据下方多余的行后再上传。")
                continue
            rows.append((number, [str(c) if not isinstance(c, (str, int, float, bool, dt.date, dt.time, Decimal,
                                                                type(None))) else c for c in cells]))
            _check_rows(len(rows))
        return Table(headers, rows, filename)
    finally:
        wb.close()


def _read_csv(raw: bytes, filename: str) -> Table:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError("CSV 文件编码无法识别，请保存为 UTF-8 编码或直接使用 .xlsx 模板。")
    if "\x00" in text:
        raise ImportFileError("文件格式不支持，请上传用导入模板填写的 Excel 文件（.xlsx）。")
    reader = csv.reader(io.StringIO(text))
    try:
        headers = _trim_headers(next(reader, []))
    except csv.Error:
        raise ImportFileError("CSV 文件格式错误，无法读取。") from None
    if not any(headers):
        raise ImportFileError("第一行没有表头。请使用系统下载的导入模板，不要删除或移动表头行。")
    width, rows = len(headers), []
    try:
        for number, values in enumerate(reader, start=2):
            cells = (values[:width] + [""] * width)[:width]
            if all(c.strip() == "" for c in cells):
                continue
            rows.append((number, cells))
            _check_rows(len(rows))
    except csv.Error:
        raise ImportFileError("CSV 文件格式错误，无法读取。") from None
    return Table(headers, rows, filename)


# --- preview and import ----------------------------------------------------------------
@dataclass
class PreviewRow:
    number: int                           # row number as in Excel
    cells: list[str]                      # cell texts in header order
    errors: dict[str, list[str]]          # column label ("" = the row) → reasons

    @property
    def status(self) -> str:
        return "error" if self.errors else "new"

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def cell_errors(self, headers: list[str]) -> list[tuple[str, list[str]]]:
        return [(text, self.errors.get(h, [])) for h, text in zip(headers, self.cells)]

    @property
    def messages(self) -> list[str]:
        return [f"{label}：{m}" if label else m for label, msgs in self.errors.items() for m in msgs]


@dataclass
class ImportPreview:
    headers: list[str]
    rows: list[PreviewRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    filename: str = ""

    @property
    def total(self) -> int:
        return len(self.rows)

    @property
    def error_rows(self) -> list[PreviewRow]:
        return [r for r in self.rows if r.errors]

    @property
    def valid_count(self) -> int:
        return sum(1 for r in self.rows if not r.errors)

    @property
    def error_count(self) -> int:
        return len(self.error_rows)

    @property
    def has_errors(self) -> bool:
        return bool(self.file_errors or self.error_count)

    def shown_rows(self, max_errors: int = 500, max_valid: int = 100) -> list[PreviewRow]:
        """Rows for the preview page: every bad row (up to a limit) and the first good ones."""
        out, e, v = [], 0, 0
        for r in self.rows:
            if r.errors and e < max_errors:
                out.append(r)
                e += 1
            elif not r.errors and v < max_valid:
                out.append(r)
                v += 1
        return out

    def cell_errors(self) -> list[tuple[int, str, str]]:
        """(row number, column label, reason) for every bad cell."""
        return [(r.number, label, m) for r in self.rows for label, msgs in r.errors.items() for m in msgs]


@dataclass
class ImportOutcome:
    imported: int
    preview: ImportPreview
    message: str
    ok: bool


def _header_errors(plan: _Plan, table: Table) -> list[str]:
    errors = []
    seen, dup = set(), []
    for h in table.headers:
        if h and h in seen:
            dup.append(h)
        seen.add(h)
    if dup:
        errors.append(f"表头重复：{MULTI_JOIN.join(dict.fromkeys(dup))}。每一列只能出现一次。")
    known = {s.label for s in plan.specs} | {c.label for c in plan.hook_columns}
    unknown = [h for h in table.headers if h and h not in known]
    if unknown:
        read_only = {s.label for s in plan.meta.fields.values()} - known
        hint = "（其中“" + MULTI_JOIN.join(h for h in unknown if h in read_only) + "”由系统生成，不能导入，请删除该列）" \
            if any(h in read_only for h in unknown) else ""
        errors.append(f"无法识别的列：{MULTI_JOIN.join(unknown)}{hint}。请使用系统下载的最新导入模板，不要修改表头。")
    missing = [s.label for s in plan.specs if not s.scope and plan.required(s) and s.label not in seen]
    missing += [c.label for c in plan.hook_columns if c.required and c.label not in seen]
    if missing:
        errors.append(f"缺少必填列：{MULTI_JOIN.join(missing)}。请使用系统下载的导入模板。")
    if not table.rows:
        errors.append("文件中没有数据：请从第 2 行起每行填写一条记录。")
    return errors


def _run(resource: MetaResource, dataset: tablib.Dataset, *, dry_run: bool):
    return resource.import_data(dataset, dry_run=dry_run, use_transactions=True,
                                raise_errors=not dry_run, rollback_on_validation_errors=True)


def _masked_columns(plan: _Plan, headers: list[str]) -> dict[int, str]:
    """Column index → masking kind of the cells a user without the right to see sensitive values
    sees masked in the preview, as on every other screen: a domain column with a ``mask_kind``
    (the party ID numbers and phones) and a sensitive runtime field."""
    codes = plan.meta.label_to_code()
    domain = {c.label: c.mask_kind for c in plan.hook_columns if c.mask_kind}
    hidden = {}
    for i, header in enumerate(headers):
        label = str(header).lstrip(REQUIRED_MARK).strip()
        spec = plan.meta.fields.get(codes.get(label, ""))
        if label in domain:
            hidden[i] = domain[label]
        elif spec is not None and spec.sensitive and not spec.core:
            hidden[i] = spec.fieldtype
    return hidden


def preview_import(entity: str, table: Table, hooks: ExcelHooks | None = None) -> ImportPreview:
    """Validate every row without saving anything."""
    hooks = hooks or hooks_class(entity)()
    plan = _Plan(entity, hooks, None, "import")
    preview = ImportPreview(list(table.headers), filename=table.filename)
    preview.file_errors = _header_errors(plan, table)
    if preview.file_errors:
        return preview
    dataset, numbers = table.dataset()
    resource = plan.resource(numbers)
    result = _run(resource, dataset, dry_run=True)
    invalid = {r.number: r.error_dict for r in result.invalid_rows}
    failed = dict(result.row_errors())
    hidden = {} if hooks.can_see_sensitive else _masked_columns(plan, table.headers)
    for index, (number, cells) in enumerate(table.rows, start=1):
        errors: dict[str, list[str]] = {}
        if index in invalid:
            for label, msgs in invalid[index].items():
                errors.setdefault("" if label == NON_FIELD_ERRORS else label, []).extend(str(m) for m in msgs)
        if index in failed:
            logger.warning("import preview row %s failed: %r", number, [e.error for e in failed[index]])
            errors.setdefault("", []).append("处理该行时发生系统错误，请检查数据或联系管理员。")
        texts = [cell_text(c) for c in cells]
        texts = [mask(t, hidden[i]) if i in hidden and t else t for i, t in enumerate(texts)]
        preview.rows.append(PreviewRow(number, texts, errors))
    for err in result.base_errors:
        logger.warning("import preview failed: %r", err.error)
        preview.file_errors.append("校验时发生系统错误，未导入任何数据，请联系管理员。")
    return preview


def run_import(entity: str, table: Table, hooks: ExcelHooks | None = None, *,
               skip_errors: bool = False) -> ImportOutcome:
    """Validate again, then save every accepted row in ONE transaction — or nothing at all.
    With errors and without ``skip_errors`` nothing is imported."""
    hooks = hooks or hooks_class(entity)()
    preview = preview_import(entity, table, hooks)
    if preview.file_errors:
        return ImportOutcome(0, preview, "文件有误，未导入任何数据。", False)
    if preview.error_count and not skip_errors:
        return ImportOutcome(0, preview, f"有 {preview.error_count} 行数据有错误，未导入任何数据。请修改后重新上传，"
                                         "或勾选“跳过错误行”只导入正确的行。", False)
    good = [r.number for r in preview.rows if r.is_valid]
    if not good:
        return ImportOutcome(0, preview, "没有可以导入的正确数据行，未导入任何数据。", False)
    dataset, numbers = table.dataset(good)
    resource = _Plan(entity, hooks, None, "import").resource(numbers)
    try:
        with transaction.atomic():
            result = _run(resource, dataset, dry_run=False)
            if result.has_errors() or result.has_validation_errors() or result.base_errors:
                raise ie_exceptions.ImportError("导入结果含错误")
    except Exception as exc:  # anything at all: the transaction is rolled back, nothing kept
        number = getattr(exc, "number", None)
        row = numbers[number - 1] if number and number - 1 < len(numbers) else None
        cause = getattr(exc, "error", exc)
        logger.exception("Excel import of %s rolled back", entity)
        where = f"第 {row} 行" if row else "导入过程中"
        detail = f"：{_messages(cause)}" if isinstance(cause, ValidationError) else ""
        return ImportOutcome(0, preview, f"{where}保存失败{detail}。本次导入已全部撤销，未导入任何数据。", False)
    skipped = preview.error_count
    message = f"成功导入 {len(good)} 条记录" + (f"，跳过 {skipped} 行有错误的数据" if skipped else "") + "。"
    return ImportOutcome(len(good), preview, message, True)


# --- template --------------------------------------------------------------------------
def _spec_note(plan: _Plan, spec: FieldSpec, lookup: Lookup | None) -> str:
    """填写要求 of a column: its type's note, then what the FieldDef adds."""
    parts = [spec.type.excel_note(spec, lookup.labels if lookup is not None else None)]
    if spec.pattern:
        parts.append(spec.pattern_message or "须符合规定格式")
    parts += spec.condition_notes()
    if spec.code in plan.defaults:
        parts.append(f"不填则为：{lookup.label(plan.defaults[spec.code]) if lookup else plan.defaults[spec.code]}")
    elif spec.default:
        label = lookup.label(spec.default) if lookup else spec.default
        parts.append(f"不填则为：{label}")
    if spec.scope:
        labels = [plan.meta.display_value(plan.meta.fields[plan.config.scope_field], s)
                  if plan.config.scope_field in plan.meta.fields else s for s in spec.scope]
        parts.append(f"仅适用于：{MULTI_JOIN.join(labels)}")
    if spec.description:
        parts.append(spec.description)
    return "；".join(p for p in parts if p)


def _required_text(plan: _Plan, spec: FieldSpec) -> str:
    if plan.required(spec):
        return "必填"
    if spec.conditionally_required:
        return "条件必填"
    return "选填"


def template_workbook(entity: str, hooks: ExcelHooks | None = None, scope: str | None = None) -> bytes:
    """The import template of ``entity`` (for one scope value, e.g. a case type): a data sheet
    with Chinese headers (required ones marked ``*``), drop-downs for choice columns fed by a
    hidden sheet, and a 填写说明 sheet describing every column."""
    hooks = hooks or hooks_class(entity)()
    plan = _Plan(entity, hooks, scope, "template")
    meta, config = plan.meta, plan.config
    limit = max_rows() + 1

    wb = Workbook()
    ws = wb.active
    ws.title = DATA_SHEET
    help_ws = wb.create_sheet(HELP_SHEET)
    list_ws = wb.create_sheet(LIST_SHEET)
    list_ws.sheet_state = "hidden"

    required_font = Font(bold=True, color="C00000")
    header_font = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    help_rows: list[list[str]] = []
    list_col = 0

    def add_list(label: str, values: list[str]) -> str:
        nonlocal list_col
        list_col += 1
        letter = get_column_letter(list_col)
        list_ws.cell(row=1, column=list_col, value=label)
        for i, v in enumerate(values, start=2):
            list_ws.cell(row=i, column=list_col, value=neutralise(v))
        return f"'{LIST_SHEET}'!${letter}$2:${letter}${max(len(values) + 1, 2)}"

    columns: list[tuple[str, bool, str, str, list[str], bool, bool, str]] = []
    # (label, required, kind, note, choices, strict, text_format, number_format)
    for spec in plan.specs:
        lookup = plan.lookups.get(spec.code)
        if spec.code == config.scope_field and scope and spec.dictionary:
            subtree = set(lists.descendants(meta, spec.dictionary, scope))
            lookup = _dictionary_lookup(meta, spec, subtree)
        ftype = spec.type
        choices, strict = list(ftype.cell_choices), True
        if not choices and lookup is not None and ftype.choice:
            choices, strict = list(lookup.labels), ftype.choice != "many"
        note = _spec_note(plan, spec, lookup)
        columns.append((spec.label, plan.required(spec), ftype.excel_label, note, choices, strict, ftype.text,
                        ftype.excel_format))
        help_rows.append([spec.label, _required_text(plan, spec), ftype.excel_label, note])
    for col in plan.hook_columns:
        columns.append((col.label, col.required, col.kind, col.note, list(col.choices), True, col.text, ""))
        help_rows.append([col.label, "必填" if col.required else "选填", col.kind, col.note])

    for index, (label, required, kind, note, choices, strict, text, number_format) in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=(REQUIRED_MARK + label) if required else label)
        cell.font = required_font if required else header_font
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        comment_text = f"{kind}，{'必填' if required else '选填'}" + (f"。{note}" if note else "")
        cell.comment = Comment(comment_text[:1000], "系统")
        dim = ws.column_dimensions[letter]
        dim.width = max(12, min(40, len(label) * 2 + 6))
        if text:
            dim.number_format = "@"
        elif number_format:
            dim.number_format = number_format
        rng = f"{letter}2:{letter}{limit}"
        if choices:
            dv = DataValidation(type="list", formula1=add_list(label, choices), allow_blank=True,
                                showErrorMessage=strict, showInputMessage=True)
            dv.errorTitle = "输入有误"
            dv.error = f"请从下拉列表中选择“{label}”。"
            dv.promptTitle = label[:32]
            dv.prompt = ("可多选，多个值用“、”分隔" if not strict else "请从下拉列表选择")[:255]
            ws.add_data_validation(dv)
            dv.add(rng)
        elif note:
            dv = DataValidation(type=None, allow_blank=True, showInputMessage=True, showErrorMessage=False)
            dv.promptTitle = label[:32]
            dv.prompt = note[:255]
            ws.add_data_validation(dv)
            dv.add(rng)
    ws.freeze_panes = "A2"
    ws.row_dimensions[1].height = 28

    scope_text = ""
    if scope and config.scope_field in meta.fields:
        scope_text = meta.display_value(meta.fields[config.scope_field], scope)
    title_font = Font(bold=True, size=12)
    help_ws.append([f"导入说明{('（适用：' + scope_text + '）') if scope_text else ''}"])
    help_ws["A1"].font = title_font
    for line in (
        f"1. 在“{DATA_SHEET}”工作表中从第 2 行起每行填写一条记录，第 1 行表头不要修改、删除或调整顺序。",
        "2. 表头带 * 的列为必填列；带下拉箭头的列请从下拉列表中选择。",
        f"3. 日期格式为 YYYY-MM-DD，日期时间格式为 YYYY-MM-DD HH:MM；单个文件最多 {max_rows()} 行。",
        "4. 上传后系统会逐行校验并显示预览：有错误的行会标出错误原因，确认后才会导入。",
    ):
        help_ws.append([line])
    help_ws.append([])
    help_ws.append(["列名", "是否必填", "类型", "填写要求 / 可选值"])
    header_row = help_ws.max_row
    for c in help_ws[header_row]:
        c.font = header_font
        c.fill = header_fill
    for row in help_rows:
        help_ws.append([neutralise(v) for v in row])
    for letter, width in (("A", 22), ("B", 10), ("C", 12), ("D", 90)):
        help_ws.column_dimensions[letter].width = width
    for row in help_ws.iter_rows(min_row=header_row + 1):
        row[3].alignment = Alignment(wrap_text=True, vertical="top")

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- export ----------------------------------------------------------------------------
def export_workbook(entity: str, queryset, hooks: ExcelHooks | None = None, *, scope: str | None = None,
                    sheet_title: str = "导出数据", filters: dict | None = None):
    """Write ``queryset`` (already scoped and filtered by the caller) to an .xlsx file and return
    it as an open temporary file positioned at 0. Sensitive values are masked unless
    ``hooks.can_see_sensitive``; text that looks like a formula is neutralised."""
    hooks = hooks or hooks_class(entity)()
    resource = _Plan(entity, hooks, scope, "export").resource()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(sheet_title[:31])
    bold = Font(bold=True)
    header = []
    for h in resource.get_export_headers():
        c = WriteOnlyCell(ws, value=neutralise(h))
        c.font = bold
        header.append(c)
    ws.append(header)
    queryset = hooks.export_queryset(queryset)
    count = 0
    for obj in queryset.iterator(chunk_size=1000):
        ws.append(resource.export_resource(obj))
        count += 1
    # who exported it and when: document properties, printed header/footer, an info sheet
    # after the data sheet (imports read the first sheet only)
    audit.stamp_workbook(wb, ws, hooks.user, what=sheet_title, filters=filters, rows=count)
    out = tempfile.TemporaryFile(suffix=".xlsx")
    wb.save(out)
    out.seek(0)
    return out
