"""Save-time checks of the warning metadata, messages in Chinese (shown next to the field)."""
from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from lowcode.expressions import ExpressionError, validate
from orgs.models import Region

COLOR_RE = re.compile(r"^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
NUMBER_SETTINGS = {"group_size", "large_amount", "prominent_disputes", "repeat_party_min"}
LIST_SETTINGS = {"amount_fields", "petition_channels", "police_channels"}


def fact_names(target: str) -> dict[str, str]:
    from extensions.escalation.facts import CASE_FACTS, PARTY_FACTS

    return CASE_FACTS if target == "case" else PARTY_FACTS


def setting_names(exclude_pk=None) -> set[str]:
    from extensions.escalation.models import WarningSetting

    qs = WarningSetting.objects.all()
    if exclude_pk:
        qs = qs.exclude(pk=exclude_pk)
    return set(qs.values_list("name", flat=True))


def validate_rule(rule) -> None:
    from extensions.escalation.models import WarningLevel

    errors: dict[str, list[str]] = {}
    known = set(fact_names(rule.target)) | setting_names()
    if not (rule.condition or "").strip():
        errors.setdefault("condition", []).append("请填写条件表达式")
    else:
        try:
            validate(rule.condition, known)
        except ExpressionError as exc:
            errors.setdefault("condition", []).append(str(exc))
    if rule.level and not WarningLevel.objects.filter(key=rule.level).exists():
        keys = "、".join(WarningLevel.objects.values_list("key", flat=True))
        errors.setdefault("level", []).append(f"预警等级“{rule.level}”不存在（可用：{keys}）")
    unknown = sorted({m for m in re.findall(r"\{([^{}\s]+)\}", rule.message or "")} - known)
    if unknown:
        errors.setdefault("message", []).append(f"提示语引用了未知的事实：{'、'.join(unknown)}")
    if not rule.window_days or rule.window_days > 3650:
        errors.setdefault("window_days", []).append("统计天数应在 1–3650 之间")
    if errors:
        raise ValidationError(errors)


def validate_level(level) -> None:
    errors = {}
    if not COLOR_RE.match(level.color or ""):
        errors["color"] = "颜色请填写 # 开头的十六进制色值，如 #d9534f"
    if level.lead_level is not None and level.lead_level not in Region.Level.values:
        errors["lead_level"] = "牵头层级只能是 " + "、".join(f"{v}（{label}）" for v, label in Region.Level.choices)
    if errors:
        raise ValidationError(errors)


def validate_setting(setting) -> None:
    from extensions.escalation.facts import CASE_FACTS, PARTY_FACTS
    from extensions.escalation.models import WarningLevel

    errors = {}
    if setting.name in CASE_FACTS or setting.name in PARTY_FACTS:
        errors["name"] = f"名称“{setting.name}”与事实名称重复，请换一个"
    elif not re.match(r"^[^\W\d]\w*$", setting.name or ""):
        errors["name"] = "名称只能由汉字、字母、数字、下划线组成，且不以数字开头（规则条件中直接引用）"
    value = setting.value
    if setting.key in NUMBER_SETTINGS and (isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0):
        errors["value"] = "应为不小于 0 的数字"
    elif setting.key in LIST_SETTINGS and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        errors["value"] = '应为编码列表，如 ["police110"]'
    elif setting.key == "default_level" and not WarningLevel.objects.filter(key=value).exists():
        errors["value"] = f"预警等级“{value}”不存在"
    if errors:
        raise ValidationError(errors)
