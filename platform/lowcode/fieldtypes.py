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


def parse_filter_value(fieldtype: str, raw: str):
    """A range-filter bound from the URL: a finite number within NUMBER_LIMIT, or a date within
    the accepted range; None when it is neither (the filter says so and ignores it)."""
    if fieldtype in ("int", "decimal"):
        try:
            number = Decimal(raw.strip())
        except (InvalidOperation, ValueError):
            return None
        return float(number) if number.is_finite() and abs(number) <= NUMBER_LIMIT else None
    try:
        return check_date(parse_date(raw.strip()[:10]))
    except ValueError:  # 2026-02-30: well formed, not a day
        return None


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


@dataclass(frozen=True)
class FieldType:
    code: str
    label: str
    make_formfield: Callable[..., forms.Field]
    to_json: Callable[[Any], Any] = lambda v: v
    from_json: Callable[[Any], Any] = lambda v: v
    filter_kind: str = ""  # "choice", "range", "bool" or "" (not filterable)
    numeric: bool = False


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


REGISTRY: dict[str, FieldType] = {
    t.code: t
    for t in [
        FieldType("data", "单行文本", _text, filter_kind=""),
        FieldType("long_text", "多行文本", _long_text),
        FieldType("int", "整数", _int, filter_kind="range", numeric=True),
        FieldType("decimal", "小数", _decimal, _decimal_to_json, _decimal_from_json, "range", True),
        FieldType("date", "日期", _date, _date_to_json, _date_from_json, "range"),
        FieldType("datetime", "日期时间", _datetime, _date_to_json, _datetime_from_json, "range"),
        FieldType("select", "单选（字典）", _select, filter_kind="choice"),
        FieldType("multi_select", "多选（字典）", _multi, lambda v: list(v or []), filter_kind="choice"),
        FieldType("check", "是/否", _check, bool, filter_kind="bool"),
        FieldType("id_number", "身份证号", _id_number),
        FieldType("phone", "电话", _phone),
        FieldType("address", "地址", _text),
        FieldType("region", "区域", _select, filter_kind="choice"),
        FieldType("user", "用户", _select, filter_kind="choice"),
        FieldType("file", "附件", lambda **kw: forms.FileField(**kw)),
    ]
}
CHOICES = [(t.code, t.label) for t in REGISTRY.values()]
DICTIONARY_TYPES = {"select", "multi_select"}


def get(code: str) -> FieldType:
    return REGISTRY[code]


def coerce_for_expression(value: Any) -> Any:
    """Values as expressions see them: numbers as numbers, dates as ISO strings."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value
