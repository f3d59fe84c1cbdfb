"""Applying a CleaningRule to one raw record: raw dict → standard dict (+ warnings / errors).

The standard dict is the local exchange format's shape (see shared/formats/README.md, `local`)
plus what cleaning learned (type code, mapped status, flags):

    {"source", "source_id", "record_key", "kind", "occurred_at", "registered_at", "title",
     "description", "address_raw", "address", "type_label", "type_code", "type_missed",
     "status_label", "status", "parties": [{"role", "name", "name_known", "surname", "name_raw",
     "phone", "phone_masked", "id_number"}], "extra": {...}, "prefixes": [...]}

Standard field names a rule may map to (``field_map`` values):
    source_id, occurred_at, registered_at, title, description, address, type_label,
    status_label, extra.<key>, party[<role>].<name|phone|id_number>,
    parties (a list of objects, keys mapped by ``party_fields``; a role key may be mapped to
    ``role``), parties[<role>] (the same, every item with that role),
    parties_text[<role>] (text "姓名(电话);姓名(电话)").
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from clues import normalise as N
from clues import redact
from secure.masking import mask_phone

SCALAR_TARGETS = ("source_id", "occurred_at", "registered_at", "title", "description", "address",
                  "type_label", "status_label")
PARTY_ATTRS = ("name", "phone", "id_number", "role")
TARGET_RE = re.compile(
    r"^(?:(?P<scalar>" + "|".join(SCALAR_TARGETS) + r")"
    r"|extra\.(?P<extra>[A-Za-z_][\w]*)"
    r"|party\[(?P<prole>[^\]]+)\]\.(?P<pattr>name|phone|id_number)"
    r"|parties(?:\[(?P<lrole>[^\]]*)\])?"
    r"|parties_text(?:\[(?P<trole>[^\]]*)\])?)$")
PEOPLE_TEXT = re.compile(r"\s*(?P<name>[^;；()（）]*?)\s*(?:[(（](?P<phone>[^)）]*)[)）])?\s*$")
FORMULA_START = ("=",)
DEFAULT_NORMALISERS = {"phone": True, "name": True, "fullwidth": True, "strip_prefix": True}
TITLE_LEN = 30


class RecordError(ValueError):
    """The record cannot be cleaned; message in Chinese."""


@dataclass
class CleanResult:
    standard: dict | None
    warnings: list[str] = field(default_factory=list)
    error: str = ""


def _text(value: Any, label: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        raise RecordError(f"字段“{label}”应为文本，实际是{'是/否'}")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (int, str)):
        return str(value).strip()
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise RecordError(f"字段“{label}”应为文本，实际是{'列表' if isinstance(value, list) else '对象'}")


def _as_list(value: Any, label: str) -> list:
    if value in (None, ""):
        return []
    if isinstance(value, str):  # .xlsx: nested lists arrive as JSON text in a cell
        try:
            value = json.loads(value)
        except ValueError:
            raise RecordError(f"字段“{label}”应为列表（Excel 中为 JSON 文本），无法解析："
                              f"{redact.mask_text(value[:40])}") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise RecordError(f"字段“{label}”应为列表")
    return value


class CompiledRule:
    """A CleaningRule (saved or not) ready to apply to many records."""

    def __init__(self, rule, case_types: dict | None = None, party_roles: dict | None = None,
                 case_statuses: dict | None = None):
        self.rule = rule
        self.source = rule.source
        self.kind = rule.kind
        self.id_field = rule.id_field
        self.field_map = dict(rule.field_map or {})
        self.party_fields = dict(rule.party_fields or {})
        self.time_formats = list(rule.time_formats or [])
        self.norm = {**DEFAULT_NORMALISERS, **(rule.normalisers or {})}
        self.prefix_patterns = list(rule.prefix_patterns or []) if self.norm.get("strip_prefix") else []
        validation = rule.validation or {}
        self.required = list(validation.get("required", ["source_id"]))
        self.on_bad_id = validation.get("id_number", "drop")          # drop / keep / reject
        self.on_bad_phone = validation.get("phone", "keep")           # drop / keep / reject
        self.phone_re = re.compile(validation.get("phone_pattern") or N.DEFAULT_PHONE_PATTERN)
        self.status_map = dict(rule.status_map or {})
        self.status_default = rule.status_default or ""
        self.dictionary_statuses: dict[str, str] = {}
        for code, entry in (case_statuses or {}).items():
            self.dictionary_statuses.setdefault(code, code)
            self.dictionary_statuses.setdefault(entry.label, code)
        self.type_fallback = rule.type_fallback or ""
        self.exact_types: dict[str, str] = {}
        self.prefix_types: list[tuple[str, str]] = []
        for label, code in (rule.type_map or {}).items():
            if label.endswith("*"):
                self.prefix_types.append((label[:-1], code))
            else:
                self.exact_types[label] = code
        self.prefix_types.sort(key=lambda p: -len(p[0]))
        self.dictionary_types: dict[str, str] = {}
        if rule.match_type_labels and case_types:
            for code, entry in case_types.items():
                self.dictionary_types.setdefault(code, code)
                self.dictionary_types.setdefault(entry.label, code)
        self.case_types = case_types or {}
        self.party_roles = party_roles or {}
        self.columns = {self.id_field, *self.field_map}
        # each mapping's target parsed once, not once per record
        self.targets = [(src, target, TARGET_RE.match(target)) for src, target in self.field_map.items()]

    # -- type and status ------------------------------------------------------------------
    def map_type(self, label: str) -> str:
        if not label:
            return ""
        if label in self.exact_types:
            return self.exact_types[label]
        for prefix, code in self.prefix_types:
            if label.startswith(prefix):
                return code
        return self.dictionary_types.get(label, "")

    def map_status(self, label: str) -> str:
        if self.kind != "case":
            return ""
        if label in self.status_map:
            return self.status_map[label]
        # "" (no default set): the case starts in its workflow's first state (ingest fills it in)
        return self.dictionary_statuses.get(label, self.status_default)

    # -- the whole record -----------------------------------------------------------------
    def apply(self, raw: dict) -> CleanResult:
        warnings: list[str] = []
        try:
            std = self._apply(raw, warnings)
        except RecordError as exc:
            return CleanResult(None, warnings, str(exc))
        return CleanResult(std, warnings)

    def _fix_text(self, text: str) -> str:
        if self.norm.get("fullwidth"):
            text = N.fullwidth_to_halfwidth(text)
        return text

    def _apply(self, raw: dict, warnings: list[str]) -> dict:
        source_id = _text(raw.get(self.id_field), self.id_field)
        if not source_id:
            raise RecordError(f"缺少编号字段“{self.id_field}”")
        source_id = N.fullwidth_to_halfwidth(source_id)
        if len(source_id) > 64:
            raise RecordError(f"编号“{source_id[:20]}…”过长（最多 64 个字符）")
        std: dict[str, Any] = {"source": self.source, "source_id": source_id,
                               "record_key": f"{self.source}:{source_id}", "kind": self.kind,
                               "extra": {}, "prefixes": []}
        scalars: dict[str, str] = {}
        times: dict[str, Any] = {}
        flat_parties: dict[str, dict] = {}
        parties: list[dict] = []
        for src, target, m in self.targets:
            if src not in raw:
                continue
            value = raw[src]
            if m is None:
                continue  # validated on save; an unknown target is ignored rather than crashing
            if isinstance(value, str) and value.startswith(FORMULA_START):
                warnings.append(f"字段“{src}”的内容以“=”开头，已按普通文本保存，不作为公式")
            if m.group("scalar"):
                name = m.group("scalar")
                if name in ("occurred_at", "registered_at"):
                    times[name] = (src, value)
                elif name != "source_id":
                    text = _text(value, src)
                    scalars[name] = (scalars[name] + "\n" + text) if scalars.get(name) and text else (text or scalars.get(name, ""))
            elif m.group("extra"):
                std["extra"][m.group("extra")] = value if isinstance(value, (list, dict)) else _text(value, src)
            elif m.group("prole") is not None:
                flat_parties.setdefault(m.group("prole"), {"role": m.group("prole")})[m.group("pattr")] = \
                    _text(value, src)
            elif target.startswith("parties_text"):
                role = m.group("trole") or ""
                parties.extend(self._people_text(_text(value, src), role))
            else:  # parties / parties[role]
                role = m.group("lrole") or ""
                for item in _as_list(value, src):
                    if item is None:
                        continue
                    if not isinstance(item, dict):
                        raise RecordError(f"字段“{src}”中的当事人应为对象")
                    party = {"role": role}
                    for k, v in item.items():
                        attr = self.party_fields.get(k, k if k in PARTY_ATTRS else None)
                        if attr in PARTY_ATTRS and v is not None:
                            text = _text(v, f"{src}.{k}")
                            if attr == "role" and role:
                                continue
                            party[attr] = text
                    parties.append(party)
        parties = list(flat_parties.values()) + parties

        # times
        for name in ("occurred_at", "registered_at"):
            std[name] = None
            if name in times:
                src, value = times[name]
                try:
                    std[name] = N.parse_time(value, self.time_formats)
                except N.TimeFormatError as exc:
                    raise RecordError(f"“{src}”：{exc}") from None

        # texts
        title = self._fix_text(scalars.get("title", ""))
        description = self._fix_text(scalars.get("description", ""))
        if self.prefix_patterns:
            title, removed_t = N.strip_prefixes(title, self.prefix_patterns)
            description, removed_d = N.strip_prefixes(description, self.prefix_patterns)
            std["prefixes"] = list(dict.fromkeys(removed_t + removed_d))
        type_label = N.collapse_spaces(scalars.get("type_label", ""))
        if not title:
            title = description[:TITLE_LEN] or type_label
        std["title"] = title[:200]
        std["description"] = description
        address_raw = scalars.get("address", "")
        std["address_raw"] = address_raw[:255]
        std["address"] = N.collapse_spaces(self._fix_text(address_raw))[:255]

        # type and status
        code = self.map_type(type_label)
        std["type_label"] = type_label[:100]
        std["type_missed"] = bool(type_label) and not code
        if std["type_missed"]:
            warnings.append(f"类型“{type_label}”未映射到案件类型")
        if not code and self.kind == "case":
            code = self.type_fallback or "other"
        std["type_code"] = code
        std["status_label"] = scalars.get("status_label", "")
        std["status"] = self.map_status(std["status_label"])

        std["parties"] = [p for p in (self._party(p, warnings) for p in parties) if p]

        missing = [name for name in self.required if not self._present(std, name)]
        if missing:
            labels = {v: k for k, v in self.field_map.items()}
            raise RecordError("缺少必填内容：" + "、".join(f"“{labels.get(n, n)}”" for n in missing))
        return std

    @staticmethod
    def _present(std: dict, name: str) -> bool:
        if name == "parties":
            return bool(std["parties"])
        if name == "address":
            return bool(std["address"])
        return std.get(name) not in (None, "", [])

    def _people_text(self, text: str, role: str) -> list[dict]:
        out = []
        for chunk in re.split(r"[;；]", text):
            if not chunk.strip():
                continue
            m = PEOPLE_TEXT.match(chunk)
            if m is None:
                raise RecordError(f"当事人“{redact.mask_people(chunk[:30])}”不符合“姓名(电话)”格式")
            out.append({"role": role, "name": m.group("name"), "phone": m.group("phone") or ""})
        return out

    def _party(self, p: dict, warnings: list[str]) -> dict | None:
        raw_name = p.get("name", "")
        out: dict[str, Any] = {"role": p.get("role", ""), "name": raw_name, "name_known": bool(raw_name),
                               "phone": "", "phone_masked": "", "id_number": ""}
        if self.norm.get("name"):
            n = N.normalise_name(raw_name)
            out["name"], out["name_known"] = n["name"], n["known"]
            if not n["known"]:
                out["surname"], out["name_raw"] = n.get("surname", ""), n.get("raw", "")
        phone = p.get("phone", "")
        if phone:
            if self.norm.get("phone"):
                phone, masked = N.normalise_phone(phone)
            else:
                masked = "*" in phone
            if masked:
                out["phone_masked"] = phone
            elif not self.phone_re.match(phone):
                self._bad(self.on_bad_phone, f"电话“{mask_phone(phone[:20])}”格式不对", warnings)
                out["phone"] = phone if self.on_bad_phone == "keep" else ""
            else:
                out["phone"] = phone
        id_number = N.normalise_id_number(p.get("id_number", ""))
        if id_number:
            problem = N.id_number_problem(id_number)
            if problem:
                self._bad(self.on_bad_id, f"证件号码{problem}（{id_number[:4]}…）", warnings)
                out["id_number"] = id_number if self.on_bad_id == "keep" else ""
            else:
                out["id_number"] = id_number
        if not out["name"] and not out["phone"] and not out["phone_masked"] and not out["id_number"] \
                and not out.get("surname"):
            return None
        return out

    @staticmethod
    def _bad(action: str, message: str, warnings: list[str]) -> None:
        if action == "reject":
            raise RecordError(message)
        warnings.append(message + ("，已保留" if action == "keep" else "，已忽略"))
