"""The field-type registry (Zulip's FIELD_TYPE_DATA idea): one row per type, and everything
else — form fields, JSON conversion, list filters, Excel cells — is derived from it."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from django import forms
from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_date, parse_datetime

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
    return forms.CharField(**kw)


def _long_text(**kw):
    return forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), **kw)


def _int(**kw):
    return forms.IntegerField(**kw)


def _decimal(**kw):
    return forms.DecimalField(**kw)


def _date(**kw):
    return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **kw)


def _datetime(**kw):
    return forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"},
                                                          format="%Y-%m-%dT%H:%M"), **kw)


def _select(**kw):
    return forms.ChoiceField(**kw)


def _multi(**kw):
    return forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, **kw)


def _check(**kw):
    kw["required"] = False
    return forms.BooleanField(**kw)


def _id_number(**kw):
    return forms.CharField(validators=[validate_id_number], max_length=18, **kw)


def _phone(**kw):
    return forms.CharField(validators=[validate_phone], max_length=20, **kw)


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
