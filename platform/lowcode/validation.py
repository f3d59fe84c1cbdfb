"""Save-time checks of metadata records, with messages in Chinese for the admin form.
A metadata record that would break a screen is refused before it is saved."""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from django.core.exceptions import ValidationError

from lowcode import expressions, fieldtypes, registry

CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
LIST_PSEUDO_COLUMNS = {"__str__"}
DECISIONS = ("approve", "return", "reject")
MAX_DAYS = 36600  # date bounds: about a hundred years either way


# Roles belong to the accounts app, which the engine may not import: accounts tells the engine
# which role codes exist (``provide_role_codes`` in its AppConfig.ready). Without a provider
# (the engine on its own) role codes are not checked.
_role_codes: Callable[[], Iterable[str]] | None = None


def provide_role_codes(provider: Callable[[], Iterable[str]] | None) -> None:
    """Register the callable that returns every known role code (None: stop checking)."""
    global _role_codes
    _role_codes = provider


def _unknown_roles(codes) -> str | None:
    """A Chinese message naming the codes among ``codes`` no role has, with the known ones."""
    if _role_codes is None:
        return None
    known = set(_role_codes())
    bad = [c for c in codes if c not in known]
    if not bad:
        return None
    return f"未知的角色代码：{'、'.join(map(str, bad))}（已有角色代码：{'、'.join(sorted(known)) or '无'}）"


def _entity_field_codes(entity: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """code → label of every field of the entity, plus label → code for expressions."""
    from lowcode.models import FieldDef

    rows = dict(FieldDef.objects.filter(entity=entity).values_list("code", "label"))
    rows.update(extra or {})
    return rows


def validate_fielddef(f) -> None:
    errors: dict[str, str] = {}
    if f.entity not in registry.entities():
        errors["entity"] = f"未知的业务对象：{f.entity}（可选：{'、'.join(registry.entities())}）"
    if not CODE_RE.match(f.code or ""):
        errors["code"] = "字段编码须以英文字母开头，只含字母、数字、下划线，最长 64 位"
    elif f.entity in registry.entities() and not f.core:
        model = registry.entity_config(f.entity).model
        if f.code in {fld.name for fld in model._meta.get_fields()} | {fld.attname for fld in model._meta.concrete_fields}:
            errors["code"] = f"字段编码“{f.code}”与系统核心字段重名"
    if f.pk and f.core:
        from lowcode.models import FieldDef

        old = FieldDef.objects.filter(pk=f.pk).values("code", "fieldtype").first()
        if old and (old["code"] != f.code or old["fieldtype"] != f.fieldtype):
            errors["fieldtype"] = "核心字段的编码和类型由系统定义，不能修改"
    ftype = fieldtypes.REGISTRY.get(f.fieldtype)
    if ftype is not None and ftype.needs_dictionary and not f.dictionary_id:
        errors["dictionary"] = "单选/多选字段必须绑定数据字典"
    if f.min_value is not None and f.max_value is not None and f.min_value > f.max_value:
        errors["max_value"] = "最大值不能小于最小值"
    if ftype is not None and ftype.bounds == "days":
        # bounds of a date are days from today (0: not after today / now), see fieldtypes.DateRangeValidator
        for attr in ("min_value", "max_value"):
            v = getattr(f, attr)
            if v is not None and (v != int(v) or abs(v) > MAX_DAYS):
                errors[attr] = ("日期字段的最小值/最大值是相对今天的天数（整数，±%d 以内）：0 表示不晚于今天"
                                "（日期时间：不晚于当前时间），-365 表示不早于一年前" % MAX_DAYS)
    if ftype is not None and ftype.multiline and f.max_length and f.max_length > fieldtypes.long_text_max():
        errors["max_length"] = f"多行文本的最大长度不能超过 {fieldtypes.long_text_max()} 字"
    if f.pattern:
        try:
            re.compile(f.pattern)
        except re.error as exc:
            errors["pattern"] = f"校验正则无效：{exc}"
    if ftype is None:
        errors["fieldtype"] = "未知的字段类型"
    elif f.in_standard_filter and not ftype.filter_kind:
        errors["in_standard_filter"] = f"“{ftype.label}”类型的字段不能作为列表筛选（可设为“可搜索”）"
    if f.scope and not isinstance(f.scope, list):
        errors["scope"] = "适用范围应为分类编码列表"
    elif f.scope and f.entity in registry.entities():
        config = registry.entity_config(f.entity)
        if config.scope_dictionary:
            from lowcode.models import DictItem

            known = set(DictItem.objects.filter(dictionary__code=config.scope_dictionary)
                        .values_list("code", flat=True))
            unknown = [s for s in f.scope if s not in known]
            if unknown:
                errors["scope"] = f"未知的分类编码：{'、'.join(map(str, unknown))}"
    names = _entity_field_codes(f.entity, {f.code: f.label})
    known_names = set(names) | set(names.values())
    for attr in ("mandatory_depends_on", "depends_on"):
        try:
            expressions.validate(getattr(f, attr), known_names)
        except expressions.ExpressionError as exc:
            errors[attr] = str(exc)
    if errors:
        raise ValidationError(errors)


def _check_codes(entity: str, codes, what: str, allow=frozenset()) -> str | None:
    if not all(isinstance(c, str) for c in codes):
        return f"{what}应为字段编码（文字）的列表"
    known = set(_entity_field_codes(entity)) | set(allow)
    bad = [c for c in codes if c.lstrip("-") not in known]
    return f"{what}中有未知字段：{'、'.join(bad)}" if bad else None


def validate_layout(layout) -> None:
    if not isinstance(layout.sections, list) or not all(
            isinstance(s, dict) and isinstance(s.get("fields", []), list) for s in layout.sections):
        raise ValidationError({"sections": '格式应为 [{"title": "分组名", "fields": ["字段编码", …]}]'})
    codes = [c for s in layout.sections for c in s.get("fields", [])]
    msg = _check_codes(layout.entity, codes, "分组")
    if msg:
        raise ValidationError({"sections": msg})
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ValidationError({"sections": f"字段重复出现：{'、'.join(dupes)}"})
    msg = layout.role and _unknown_roles([layout.role])
    if msg:
        raise ValidationError({"role": msg})


def validate_listview(lv) -> None:
    errors = {}
    for attr, what in (("columns", "列"), ("filters", "筛选"), ("search_fields", "搜索字段"), ("ordering", "排序")):
        value = getattr(lv, attr)
        if not isinstance(value, list):
            errors[attr] = f"{what}应为字段编码列表"
            continue
        msg = _check_codes(lv.entity, value, what, LIST_PSEUDO_COLUMNS)
        if msg:
            errors[attr] = msg
    if not lv.columns:
        errors["columns"] = "至少需要一列"
    if lv.page_size < 1 or lv.page_size > 500:
        errors["page_size"] = "每页条数应在 1～500 之间"
    msg = lv.role and _unknown_roles([lv.role])
    if msg:
        errors["role"] = msg
    if errors:
        raise ValidationError(errors)


def validate_workflow(wf) -> None:
    if not isinstance(wf.states, list) or not isinstance(wf.transitions, list):
        raise ValidationError("状态和流转应为列表")
    if not all(isinstance(s, str) or (isinstance(s, dict) and isinstance(s.get("name"), str)) for s in wf.states):
        raise ValidationError({"states": '状态应为编码或 {"name": 编码, "review": 审核类别, "closed": true}'})
    states = {s["name"] if isinstance(s, dict) else s for s in wf.states}
    names = _entity_field_codes(wf.entity)
    for t in wf.transitions:
        if not isinstance(t, dict) or "action" not in t or "to" not in t:
            raise ValidationError({"transitions": "每个流转需要 action（动作）和 to（目标状态）"})
        if not isinstance(t["action"], str) or not isinstance(t["to"], str) or \
                not isinstance(t.get("from", []), list) or not all(isinstance(x, str) for x in t.get("from", [])):
            raise ValidationError({"transitions": "流转的 action、to 应为文字，from 应为状态编码列表"})
        for s in list(t.get("from", [])) + [t["to"]]:
            if s not in states:
                raise ValidationError({"transitions": f"流转“{t['action']}”引用了未定义的状态：{s}"})
        roles = t.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise ValidationError({"transitions": f"流转“{t['action']}”的 roles 应为角色代码列表"})
        msg = _unknown_roles(roles)
        if msg:
            raise ValidationError({"transitions": f"流转“{t['action']}”：{msg}"})
        if t.get("decision") and t["decision"] not in DECISIONS:
            raise ValidationError({"transitions": f"流转“{t['action']}”的 decision 只能是 {'、'.join(DECISIONS)}"})
        try:
            expressions.validate(t.get("condition", ""), set(names) | set(names.values()))
        except expressions.ExpressionError as exc:
            raise ValidationError({"transitions": f"流转“{t['action']}”的条件：{exc}"}) from exc
    if not isinstance(wf.timers, list):
        raise ValidationError({"timers": "催办时限应为列表"})
    for timer in wf.timers:
        if not isinstance(timer, dict) or not isinstance(timer.get("state"), str) or timer["state"] not in states:
            raise ValidationError({"timers": f"催办时限引用了未定义的状态：{timer}"})
        for key in ("remind_after_hours", "escalate_after_hours", "stale_after_days"):
            if key in timer and (not isinstance(timer[key], (int, float)) or timer[key] <= 0):
                raise ValidationError({"timers": f"{key} 应为正数"})
