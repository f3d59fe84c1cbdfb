"""Cleaning rules as metadata: save-time validation, the compiled form used by ingest, and the
preview of an edited rule on stored raw records before it is saved. The shipped defaults
(metadata/cleaning/*.yaml, _common.yaml merged under each) are loaded like every metadata kind
(``lowcode.metakinds``; registered in ``clues.apps``)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from clues.clean import TARGET_RE, CompiledRule

RULES_KIND = "cleaning_rules"
TIME_TOKENS = {"iso", "epoch_ms", "epoch_ms_wall", "epoch_s", "excel"}
ACTIONS = {"drop", "keep", "reject"}


def ensure_rule(source: str):
    """The channel's rule, loading the shipped channels and rules on first use (so ingest works
    on a fresh database even before ``load_metadata``). None for an unknown source key."""
    from clues.models import CleaningRule
    from lowcode import metakinds
    from lowcode.serialization import load_metadata

    rule = CleaningRule.objects.filter(source=source).first()
    if rule is None and (metakinds.get(RULES_KIND).path() / f"{source}.yaml").exists():
        load_metadata([RULES_KIND])
        rule = CleaningRule.objects.filter(source=source).first()
    return rule


def compile_rule(rule) -> CompiledRule:
    from lowcode.registry import get_dictionary

    return CompiledRule(rule, case_types=get_dictionary("case_type"),
                        party_roles={e.label: code for code, e in get_dictionary("party_role").items()},
                        case_statuses=get_dictionary("case_status"))


# --- validation on save --------------------------------------------------------------------
def validate_rule(rule) -> None:
    errors: dict[str, list[str]] = {}

    def err(name, message):
        errors.setdefault(name, []).append(message)

    if not isinstance(rule.field_map, dict) or not rule.field_map:
        err("field_map", "字段映射应为“原始字段: 标准字段”的对象，且不能为空")
    else:
        for src, target in rule.field_map.items():
            if not isinstance(target, str) or not TARGET_RE.match(target):
                err("field_map", f"“{src}”映射到的“{target}”不是可用的标准字段")
        if rule.id_field in rule.field_map:
            err("field_map", f"编号字段“{rule.id_field}”不需要再映射")
    if not isinstance(rule.party_fields, dict):
        err("party_fields", "应为对象")
    else:
        for k, v in rule.party_fields.items():
            if v not in ("name", "phone", "id_number", "role"):
                err("party_fields", f"“{k}”只能映射到 name / phone / id_number / role")
    if not isinstance(rule.time_formats, list) or not rule.time_formats:
        err("time_formats", "至少填写一种时间格式")
    else:
        for fmt in rule.time_formats:
            if not isinstance(fmt, str) or (fmt not in TIME_TOKENS and "%" not in fmt):
                err("time_formats", f"“{fmt}”既不是时间格式（含 %Y 等）也不是 {'/'.join(sorted(TIME_TOKENS))}")
    for pattern in rule.prefix_patterns or []:
        try:
            re.compile(pattern)
        except (re.error, TypeError) as exc:
            err("prefix_patterns", f"正则“{pattern}”有误：{exc}")
    validation = rule.validation or {}
    if not isinstance(validation, dict):
        err("validation", "应为对象")
    else:
        for key in ("id_number", "phone"):
            if validation.get(key, "drop") not in ACTIONS:
                err("validation", f"{key} 只能是 drop（忽略）/ keep（保留）/ reject（拒绝整条）")
        if validation.get("phone_pattern"):
            try:
                re.compile(validation["phone_pattern"])
            except re.error as exc:
                err("validation", f"电话正则有误：{exc}")
        allowed = {"source_id", "occurred_at", "registered_at", "title", "description", "address",
                   "type_label", "status_label", "parties"}
        for name in validation.get("required", []):
            if name not in allowed:
                err("validation", f"必填项“{name}”不是标准字段（可用：{'、'.join(sorted(allowed))}）")
    try:
        from lowcode.registry import get_dictionary

        types = get_dictionary("case_type")
        statuses = get_dictionary("case_status")
    except Exception:  # noqa: BLE001 — dictionaries not loaded yet: skip the code checks
        types, statuses = {}, {}
    if types:
        for label, code in (rule.type_map or {}).items():
            if code not in types:
                err("type_map", f"“{label}”映射到的案件类型编码“{code}”不存在")
        if rule.type_fallback and rule.type_fallback not in types:
            err("type_fallback", f"案件类型编码“{rule.type_fallback}”不存在")
    if statuses:
        for label, code in (rule.status_map or {}).items():
            if code not in statuses:
                err("status_map", f"“{label}”映射到的状态编码“{code}”不存在")
        if rule.status_default and rule.status_default not in statuses:
            err("status_default", f"状态编码“{rule.status_default}”不存在")
    if errors:
        raise ValidationError(errors)


# --- preview ---------------------------------------------------------------------------------
@dataclass
class PreviewRow:
    record_key: str
    raw: dict
    before: dict | None
    after: dict | None
    errors: list[str]
    changed: bool

    def __iter__(self):  # unpacks as (raw, before, after, errors)
        return iter((self.raw, self.before, self.after, self.errors))


def preview_rule(rule, sample: int = 200) -> list[PreviewRow]:
    """Apply ``rule`` (edited, not necessarily saved) and the saved rule of the same channel to
    the channel's ``sample`` most recent raw records; nothing is written. Each row unpacks as
    (raw, before, after, errors): errors are the new rule's rejection reason and warnings."""
    from clues.models import CleaningRule, RawRecord
    from clues.sources import adapter_for

    adapter = adapter_for(rule.source)
    after_rule = compile_rule(rule)
    saved = CleaningRule.objects.filter(source=rule.source).first()
    before_rule = compile_rule(saved) if saved is not None else None
    rows = []
    for raw in RawRecord.objects.filter(channel_id=rule.source).order_by("-last_seen", "-id")[:sample]:
        before = adapter.clean(raw.payload, before_rule).standard if before_rule else None
        result = adapter.clean(raw.payload, after_rule)
        errors = ([result.error] if result.error else []) + result.warnings
        rows.append(PreviewRow(raw.record_key, raw.payload, _jsonable(before), _jsonable(result.standard),
                               errors, _jsonable(before) != _jsonable(result.standard)))
    return rows


def _jsonable(std):
    import json

    if std is None:
        return None
    return json.loads(json.dumps(std, ensure_ascii=False, default=str))


STANDARD_LABELS = {"source_id": "编号", "title": "标题", "description": "内容", "occurred_at": "发生时间",
                   "registered_at": "登记时间", "type_code": "案件类型", "type_label": "来源类型",
                   "type_missed": "类型映射缺失", "status": "状态", "status_label": "来源状态",
                   "parties": "当事人", "address": "地址", "address_raw": "原始地址", "prefixes": "去除的前缀",
                   "extra": "扩展字段"}


# the preview shows what the rule changes, not who is in the records: personal fields masked
PERSONAL_KEYS = {"title", "description", "parties", "address", "address_raw", "extra"}


def _sample(key: str, value):
    from secure.samples import mask_structure

    return mask_structure(value) if key in PERSONAL_KEYS else value


@dataclass
class PreviewSummary:
    """What a screen shows of a preview: counts and the first changed records, field by field."""

    sample: int
    changed: int
    newly_rejected: int
    recovered: int
    examples: list[dict]


def summarise_preview(rows: list[PreviewRow], limit: int = 20, width: int = 80) -> PreviewSummary:
    def short(value) -> str:
        import json

        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        return text if len(text) <= width else text[:width - 1] + "…"

    examples = []
    for row in rows:
        if not row.changed or len(examples) >= limit:
            continue
        before, after = row.before or {}, row.after or {}
        fields = [(STANDARD_LABELS.get(k, k), short(_sample(k, before.get(k, ""))), short(_sample(k, after.get(k, ""))))
                  for k in sorted(set(before) | set(after), key=lambda k: list(STANDARD_LABELS).index(k)
                                  if k in STANDARD_LABELS else 99)
                  if before.get(k) != after.get(k) and k not in ("record_key", "source", "kind")]
        examples.append({"record_key": row.record_key, "fields": fields, "errors": row.errors,
                         "was_rejected": row.before is None, "is_rejected": row.after is None})
    return PreviewSummary(
        sample=len(rows), changed=sum(r.changed for r in rows),
        newly_rejected=sum(r.before is not None and r.after is None for r in rows),
        recovered=sum(r.before is None and r.after is not None for r in rows), examples=examples)
