"""The field-type registry (Zulip's FIELD_TYPE_DATA idea): one row per type, and everything
else — form fields, JSON conversion, list filters, Excel cells — is derived from it."""
from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.deconstruct import deconstructible

ID_NUMBER_RE = re.compile(r"^\d{17}[\dX]$")
PHONE_RE = re.compile(r"^(1\d{10}|0\d{2,3}-?\d{7,8})$")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"


def id_number_checksum_ok(value: str) -> bool:
    """GB 11643 check digit."""
    if not ID_NUMBER_RE.match(value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], ID_WEIGHTS))
    return ID_CHECK[total % 11] == value[17]


def validate_id_number(value: str) -> None:
    v = (value or "").strip().upper()
    if v and not id_number_checksum_ok(v):
        raise ValidationError("身份证号码格式或校验位不正确", code="id_number")


def validate_phone(value: str) -> None:
    v = (value or "").strip().replace(" ", "")
    if v and not PHONE_RE.match(v):
        raise ValidationError("电话号码格式不正确（手机 11 位或带区号的固定电话）", code="phone")


# --- input bounds: the rules every text, date and number field of the system applies -----------
# (等保 入侵防范: bad lengths, types and characters are refused with a message; dates outside the
# calendar the database can hold never reach it.) The generated forms apply them per field type,
# hand-written forms through lowcode.forms.bound_form, model forms through the model fields
# (install_model_bounds).
EARLIEST_DATE = dt.date(1900, 1, 1)
# bidi embedding/override/isolate marks (a title that reads backwards: "Trojan Source") and ALM
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
LINE_CONTROLS = "\t\n\r"  # allowed in long text only
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f" + BIDI_CONTROLS + "]")
NUMBER_LIMIT = Decimal(10) ** 15  # beyond this a JSON number loses digits (float)


def long_text_max() -> int:
    """Longest long text (description, log, agreement …) unless its field says less."""
    return int(getattr(settings, "LONG_TEXT_MAX_LENGTH", 10000))


def latest_date() -> dt.date:
    """The latest date any field accepts (a deadline, a sign-up window): N years from today."""
    years = int(getattr(settings, "INPUT_MAX_FUTURE_YEARS", 10))
    today = timezone.localdate()
    try:
        return today.replace(year=today.year + years)
    except ValueError:  # 29 February
        return today.replace(year=today.year + years, day=28)


def forbidden_char(value: str, multiline: bool = False) -> str | None:
    """The first control or bidi character of ``value`` that its field does not allow."""
    for match in _FORBIDDEN.finditer(value):
        if not (multiline and match.group() in LINE_CONTROLS):
            return match.group()
    return None


@deconstructible
class TextCharsValidator:
    """Refuses control characters (tab and line breaks allowed in long text) and bidi controls."""

    def __init__(self, multiline: bool = False):
        self.multiline = multiline

    def __call__(self, value) -> None:
        if isinstance(value, str):
            bad = forbidden_char(value, self.multiline)
            if bad is not None:
                raise ValidationError(
                    "含有不可见的控制字符或文字方向控制符（U+%(code)04X），请删除后重新输入",
                    code="control_chars", params={"code": ord(bad)})

    def __eq__(self, other):
        return isinstance(other, TextCharsValidator) and other.multiline == self.multiline


@deconstructible
class DateRangeValidator:
    """A date or datetime between 1900-01-01 and ``latest_date()``, narrowed by the field's own
    bounds in days from today (FieldDef 最小值/最大值 on date fields): ``max_days=0`` is "not in
    the future" (a datetime: not after now), ``min_days=-30`` "not more than 30 days ago"."""

    def __init__(self, min_days=None, max_days=None):
        self.min_days = None if min_days is None else int(min_days)
        self.max_days = None if max_days is None else int(max_days)

    def __call__(self, value) -> None:
        if not isinstance(value, dt.date):
            return
        is_datetime = isinstance(value, dt.datetime)
        try:
            day = timezone.localtime(value).date() if is_datetime and timezone.is_aware(value) else \
                (value.date() if is_datetime else value)
        except OverflowError:  # 9999-12-31 23:59 UTC is in year 10000 here
            raise ValidationError("不能晚于 %(day)s", code="date_max", params={"day": latest_date().isoformat()})
        if day < EARLIEST_DATE:
            raise ValidationError("不能早于 %(day)s", code="date_min", params={"day": EARLIEST_DATE.isoformat()})
        if day > latest_date():
            raise ValidationError("不能晚于 %(day)s", code="date_max", params={"day": latest_date().isoformat()})
        today = timezone.localdate()
        if self.max_days is not None:
            if self.max_days == 0 and is_datetime:
                now = timezone.now() if timezone.is_aware(value) else dt.datetime.now()
                if value > now + dt.timedelta(minutes=1):  # a phone's clock a little ahead
                    raise ValidationError("不能晚于当前时间", code="date_future")
            elif day > today + dt.timedelta(days=self.max_days):
                limit = today + dt.timedelta(days=self.max_days)
                raise ValidationError("不能晚于今天" if self.max_days == 0 else "不能晚于 %(day)s",
                                      code="date_future", params={"day": limit.isoformat()})
        if self.min_days is not None and day < today + dt.timedelta(days=self.min_days):
            raise ValidationError("不能早于 %(day)s", code="date_past",
                                  params={"day": (today + dt.timedelta(days=self.min_days)).isoformat()})

    def __eq__(self, other):
        return isinstance(other, DateRangeValidator) and (other.min_days, other.max_days) == \
            (self.min_days, self.max_days)


@deconstructible
class FiniteJSONValidator:
    """JSON has no NaN or infinity, but Python's json reads "NaN", "Infinity" and 1e309 as floats:
    such a value would be written as invalid JSON (on SQLite a CHECK constraint error)."""

    def __call__(self, value) -> None:
        stack = [value]
        while stack:
            v = stack.pop()
            if isinstance(v, float) and not math.isfinite(v):
                raise ValidationError("不能包含 NaN、无穷大或超出范围的数字", code="json_not_finite")
            if isinstance(v, dict):
                stack.extend(v.values())
            elif isinstance(v, (list, tuple)):
                stack.extend(v)

    def __eq__(self, other):
        return isinstance(other, FiniteJSONValidator)


NOT_IN_FUTURE = DateRangeValidator(max_days=0)
NUMBER_BOUNDS = (MinValueValidator(-NUMBER_LIMIT), MaxValueValidator(NUMBER_LIMIT))


def check_date(value: dt.date | None) -> dt.date | None:
    """A date read from a query parameter: itself when within the accepted range, else None
    (a filter ignores it — never a datetime the database cannot store)."""
    try:
        DateRangeValidator()(value)
    except ValidationError:
        return None
    return value


def parse_filter_number(raw: str):
    """A range-filter bound from the URL: a finite number within NUMBER_LIMIT, else None (the
    filter says so and ignores it)."""
    try:
        number = Decimal(raw.strip())
    except (InvalidOperation, ValueError):
        return None
    return float(number) if number.is_finite() and abs(number) <= NUMBER_LIMIT else None


def parse_filter_date(raw: str):
    """A range-filter bound from the URL: a date within the accepted range, else None (never a
    date the database cannot convert)."""
    try:
        return check_date(parse_date(raw.strip()[:10]))
    except ValueError:  # 2026-02-30: well formed, not a day
        return None


def parse_filter_value(fieldtype: str, raw: str):
    """A range-filter bound of a field of ``fieldtype`` (its FieldType.parse_filter)."""
    return get(fieldtype).parse_filter(raw)


def apply_bounds(field: forms.Field, *, multiline: bool | None = None, min_days=None,
                 max_days=None) -> forms.Field:
    """Attach the input bounds of its kind to a form field (again: no duplicates). Text: no
    control/bidi characters, long text (a Textarea) at most ``long_text_max()``; dates and
    datetimes within range (``min_days``/``max_days`` from today as DateRangeValidator); numbers
    within ±NUMBER_LIMIT unless the field has its own bounds."""
    validators = field.validators
    if isinstance(field, forms.CharField):
        multiline = isinstance(field.widget, forms.Textarea) if multiline is None else multiline
        if not any(isinstance(v, TextCharsValidator) for v in validators):
            validators.append(TextCharsValidator(multiline))
        if multiline and field.max_length is None:
            field.max_length = long_text_max()
            validators.append(MaxLengthValidator(field.max_length))
            field.widget.attrs.update(field.widget_attrs(field.widget))
    elif isinstance(field, (forms.DateField, forms.DateTimeField)):
        if min_days is not None or max_days is not None:  # the field's own bounds replace the default
            field.validators = [v for v in validators if not isinstance(v, DateRangeValidator)] + [
                DateRangeValidator(min_days, max_days)]
        elif not any(isinstance(v, DateRangeValidator) for v in validators):
            validators.append(DateRangeValidator())
    elif isinstance(field, (forms.IntegerField, forms.DecimalField, forms.FloatField)):
        if field.min_value is None and not any(isinstance(v, MinValueValidator) for v in validators):
            validators.append(NUMBER_BOUNDS[0])
        if field.max_value is None and not any(isinstance(v, MaxValueValidator) for v in validators):
            validators.append(NUMBER_BOUNDS[1])
    return field


def install_model_bounds() -> None:
    """Every model's text, date and JSON columns carry the same bounds, so every ModelForm — the
    admin's add/change forms and inlines of any app included — refuses what the generated forms
    refuse (ModelForm runs the model fields' validators). Set on ``field.validators``, not on
    the constructor's ``validators``: a rule of the running system, invisible to migrations."""
    from django.apps import apps
    from django.db import models

    for model in apps.get_models():
        for f in model._meta.concrete_fields:
            if isinstance(f, models.TextField):
                extra = [TextCharsValidator(multiline=True)]
                if not f.max_length:
                    extra.append(MaxLengthValidator(long_text_max()))
            elif isinstance(f, models.CharField):
                extra = [TextCharsValidator()]
            elif isinstance(f, models.DateField):  # DateTimeField too
                extra = [DateRangeValidator()]
            elif isinstance(f, models.JSONField):
                extra = [FiniteJSONValidator()]
            else:
                continue
            current = f.validators
            f.validators = current + [v for v in extra if v not in current]


def format_when(value: Any) -> str:
    """A date or datetime as screens show it (a datetime in local time, to the minute)."""
    if isinstance(value, str):
        value = parse_datetime(value) or value
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def coerce_for_expression(value: Any) -> Any:
    """Values as expressions see them: numbers as numbers, dates as ISO strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


# --- what one field type means, everywhere ----------------------------------------------
# A FieldType is one row of the registry and carries every behaviour of its kind of field: the
# generated form field, how its FieldDef bounds apply, JSON storage, how it is shown, what
# expressions see, its list filter, and its Excel column (type, note, cell parse and format).
# Callers ask the type (``spec.type``); none of them compares type codes. ``spec`` arguments are
# compiled FieldSpecs (lowcode.registry), read by attribute only.

MULTI_SPLIT = re.compile(r"[、,，;；\n]+")
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "对"}
FALSE_WORDS = {"否", "n", "no", "false", "0", "×", "不是"}
NUMERIC_ID_MESSAGE = "证件号码被 Excel 存成了数字（末几位可能已丢失），请把该列设置为“文本”格式后重新填写"
BLANK_CHOICE = ("", "---------")


def _same(value):
    return value


def _cell_as_text(value, text: str, spec) -> Any:
    return text


def _no_note(spec, labels) -> str:
    return ""


def _until_inclusive(value) -> tuple[str, Any]:
    return "lte", value


@dataclass(frozen=True)
class FieldType:
    code: str
    label: str
    make_formfield: Callable[..., forms.Field]          # Django form-field kwargs → form field
    to_json: Callable[[Any], Any] = _same               # cleaned value → JSON (the extra column)
    from_json: Callable[[Any], Any] = _same
    filter_kind: str = ""      # "choice", "range", "bool" or "" (not filterable)
    numeric: bool = False
    # values are picked: "one" or "many" from a dictionary (or a domain's look-up, e.g. regions)
    choice: str = ""
    needs_dictionary: bool = False  # must be bound to a dictionary (FieldDef validation)
    # what the FieldDef's 最小值/最大值/最大长度 bound: "int", "number", "days" (from today),
    # "length", or "" (nothing)
    bounds: str = ""
    text: bool = False         # free text (an Excel text column; can show a masked value)
    multiline: bool = False    # long text: line breaks allowed, long_text_max()
    upload: bool = False       # a file: not sortable, no Excel column, no default value
    # how a sensitive value is normalised for its blind index (secure.crypto.normalise): "id_number"
    # and "phone" like the core columns (so "+86 138…" finds "138…"), anything else as "text"
    index_kind: str = "text"
    css_class: str = ""        # Django admin's input class (the admin skin styles inputs by it)
    display: Callable[[Any], str] = str                 # stored value → text on screens
    to_expression: Callable[[Any], Any] = coerce_for_expression
    parse_filter: Callable[[str], Any] = parse_filter_date     # a range filter's bound from the URL
    filter_until: Callable[[Any], tuple[str, Any]] = _until_inclusive  # upper bound → (lookup, value)
    filter_input: str = "text"  # <input type> of a range filter
    # Excel: 类型 column of 填写说明 (default: label), 填写要求 (spec, choice labels or None),
    # date column number format (text columns: "@", keeps leading zeros), a fixed drop-down, cell → form-field
    # input (cell as read, its text, spec; raises ValidationError), value → cell (None: as shown)
    excel_kind: str = ""
    excel_note: Callable[[Any, list[str] | None], str] = _no_note
    excel_format: str = ""
    cell_choices: tuple[str, ...] = ()
    parse_cell: Callable[[Any, str, Any], Any] = _cell_as_text
    format_cell: Callable[[Any], Any] | None = None

    @property
    def sortable(self) -> bool:
        return not self.upload and self.choice != "many"

    @property
    def excel_label(self) -> str:
        return self.excel_kind or self.label

    def formfield(self, spec, choices: list[tuple[str, str]] | None = None, **kw) -> forms.Field:
        """The form field of ``spec``: its type's field with the FieldDef's bounds applied."""
        if self.choice:
            kw["choices"] = list(choices or []) if self.choice == "many" else [BLANK_CHOICE] + list(choices or [])
        if self.bounds == "int":
            kw.update({k: int(v) for k, v in (("min_value", spec.min_value), ("max_value", spec.max_value))
                       if v is not None})
        elif self.bounds == "number":
            kw.update({k: v for k, v in (("min_value", spec.min_value), ("max_value", spec.max_value),
                                         ("decimal_places", spec.precision)) if v is not None})
        elif self.bounds == "length" and spec.max_length:
            kw["max_length"] = spec.max_length
        field = self.make_formfield(**kw)
        if self.bounds == "days":  # 最小值/最大值 of a date: days from today
            apply_bounds(field, min_days=spec.min_value, max_days=spec.max_value)
        if self.css_class:
            field.widget.attrs.setdefault("class", self.css_class)
        return field

    def bound_value(self, value):
        """A FieldDef 最小值/最大值 as this type compares it."""
        return int(value) if self.bounds == "int" and value is not None else value


# -- form fields ------------------------------------------------------------------------
def _text(**kw):
    return apply_bounds(forms.CharField(**kw))


def _long_text(**kw):
    return apply_bounds(forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **kw))


def _int(**kw):
    return apply_bounds(forms.IntegerField(**kw))


def _decimal(**kw):
    kw.setdefault("max_digits", 18)  # as FieldDef's own bounds; "1e309" is not a number here
    return apply_bounds(forms.DecimalField(**kw))


def _date(**kw):
    return apply_bounds(forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **kw))


def _datetime(**kw):
    return apply_bounds(forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                                       format="%Y-%m-%dT%H:%M"), **kw))


def _select(**kw):
    return forms.ChoiceField(**kw)


def _multi(**kw):
    return forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, **kw)


def _check(**kw):
    kw["required"] = False
    return forms.BooleanField(**kw)


def _id_number(**kw):
    return apply_bounds(forms.CharField(validators=[validate_id_number], max_length=18, **kw))


def _phone(**kw):
    return apply_bounds(forms.CharField(validators=[validate_phone], max_length=20, **kw))


def _file(**kw):
    return forms.FileField(**kw)


# -- JSON --------------------------------------------------------------------------------
def _decimal_to_json(v):
    # JSON number (not a string) so range filters and sorting work in SQL on every database.
    return None if v in (None, "") else float(v)


def _decimal_from_json(v):
    if v in (None, ""):
        return None
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return None


def _date_to_json(v):
    return v.isoformat() if v else None


def _date_from_json(v):
    return parse_date(v) if isinstance(v, str) else v


def _datetime_from_json(v):
    return parse_datetime(v) if isinstance(v, str) else v


def _list_to_json(v):
    return list(v or [])


def _yes_no(value) -> str:
    return "是" if value else "否"


# -- list filters -------------------------------------------------------------------------
def _until_end_of_day(value) -> tuple[str, Any]:
    return "lt", value + "T23:59:59.999999"  # "to 31 January" includes that whole day


# -- Excel cells ----------------------------------------------------------------------------
def _cell_keeps_date(value, text: str, spec) -> Any:
    # a date cell is already a date; its text would lose nothing, but the form field reads both
    return value if isinstance(value, dt.date) else text


def _cell_yes_no(value, text: str, spec) -> bool:
    word = str(text).strip().lower()
    if word == "" or word in FALSE_WORDS:
        return False
    if word in TRUE_WORDS:
        return True
    raise ValidationError(f"“{spec.label}”请填写“是”或“否”")


def _cell_many(value, text: str, spec) -> list[str]:
    return [p.strip() for p in MULTI_SPLIT.split(str(text)) if p.strip()]


def _cell_id_number(value, text: str, spec) -> str:
    from secure.crypto import normalise

    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValidationError(NUMERIC_ID_MESSAGE)
    return normalise(str(text), "id_number")


def _cell_phone(value, text: str, spec) -> str:
    from secure.crypto import normalise

    return normalise(str(text), "phone")


def _int_cell(value):
    return int(value) if isinstance(value, (int, Decimal, float)) else None


def _decimal_cell(value):
    return Decimal(str(value)) if isinstance(value, (int, Decimal, float)) else None


def _number_text(value) -> str:
    d = Decimal(str(value))
    return str(int(d)) if d == d.to_integral_value() else str(value)


def number_range(spec) -> str:
    """最小值/最大值 of a number field in words (the Excel note)."""
    lo, hi = spec.min_value, spec.max_value
    if lo is not None and hi is not None:
        return f"范围 {_number_text(lo)}～{_number_text(hi)}"
    if lo is not None:
        return f"不小于 {_number_text(lo)}"
    if hi is not None:
        return f"不大于 {_number_text(hi)}"
    return ""


def _note(text: str) -> Callable[[Any, Any], str]:
    return lambda spec, labels: text


def _note_number(kind: str, places: bool = False) -> Callable[[Any, Any], str]:
    def note(spec, labels) -> str:
        rng = number_range(spec)
        places_text = f"，最多 {spec.precision} 位小数" if places and spec.precision is not None else ""
        return kind + (f"，{rng}" if rng else "") + places_text
    return note


def _note_length(spec, labels) -> str:
    return f"最多 {spec.max_length} 个字" if spec.max_length else ""


def _note_pick_one(spec, labels) -> str:
    if labels is None:
        return ""
    more = f"等 {len(labels)} 项" if len(labels) > 20 else ""
    return "从下拉列表选择：" + "、".join(labels[:20]) + more


def _note_pick_many(spec, labels) -> str:
    return "" if labels is None else "可填多个，用“、”分隔：" + "、".join(labels[:20])


_TEXT = dict(excel_kind="文本", text=True, bounds="length", css_class="vTextField", excel_note=_note_length)
_NUMBER = dict(filter_kind="range", numeric=True, parse_filter=parse_filter_number, filter_input="number",
               css_class="vIntegerField")
_WHEN = dict(filter_kind="range", bounds="days", display=format_when, parse_cell=_cell_keeps_date,
             filter_input="date")
_PICK_ONE = dict(filter_kind="choice", choice="one", excel_note=_note_pick_one)

REGISTRY: dict[str, FieldType] = {
    t.code: t
    for t in [
        FieldType("data", "单行文本", _text, **_TEXT),
        FieldType("long_text", "多行文本", _long_text, **{**_TEXT, "css_class": "vLargeTextField"},
                  multiline=True),
        FieldType("int", "整数", _int, **_NUMBER, bounds="int", excel_note=_note_number("整数"),
                  format_cell=_int_cell),
        FieldType("decimal", "小数", _decimal, _decimal_to_json, _decimal_from_json, **_NUMBER, bounds="number",
                  excel_kind="数字", excel_note=_note_number("数字", places=True), format_cell=_decimal_cell),
        FieldType("date", "日期", _date, _date_to_json, _date_from_json, **_WHEN, css_class="vDateField",
                  excel_note=_note("格式 YYYY-MM-DD，如 2026-01-31"), excel_format="yyyy-mm-dd"),
        FieldType("datetime", "日期时间", _datetime, _date_to_json, _datetime_from_json, **_WHEN,
                  filter_until=_until_end_of_day, excel_note=_note("格式 YYYY-MM-DD HH:MM，如 2026-01-31 09:30"),
                  excel_format="yyyy-mm-dd hh:mm"),
        FieldType("select", "单选（字典）", _select, **_PICK_ONE, needs_dictionary=True, excel_kind="单选"),
        FieldType("multi_select", "多选（字典）", _multi, _list_to_json, filter_kind="choice", choice="many",
                  needs_dictionary=True, excel_kind="多选", excel_note=_note_pick_many, parse_cell=_cell_many),
        FieldType("check", "是/否", _check, bool, filter_kind="bool", display=_yes_no, cell_choices=("是", "否"),
                  excel_note=_note("填写“是”或“否”"), parse_cell=_cell_yes_no),
        FieldType("id_number", "身份证号", _id_number, text=True, css_class="vTextField", index_kind="id_number",
                  excel_note=_note("18 位居民身份证号码（请保持单元格为文本格式）"), parse_cell=_cell_id_number),
        FieldType("phone", "电话", _phone, text=True, css_class="vTextField", index_kind="phone",
                  excel_note=_note("手机号 11 位，或带区号的固定电话"), parse_cell=_cell_phone),
        FieldType("address", "地址", _text, **_TEXT),
        FieldType("region", "区域", _select, **_PICK_ONE),
        FieldType("user", "用户", _select, **_PICK_ONE),
        FieldType("file", "附件", _file, upload=True),
    ]
}
CHOICES = [(t.code, t.label) for t in REGISTRY.values()]
DICTIONARY_TYPES = {t.code for t in REGISTRY.values() if t.needs_dictionary}


def get(code: str) -> FieldType:
    return REGISTRY[code]
