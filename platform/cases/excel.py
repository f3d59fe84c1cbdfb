"""Excel import/export of cases: what the case metadata does not describe.

- 所属区域 by name, full name or region code, limited to the regions the user may register in
  (their subtree, community or grid level), defaulting to the user's own community/grid;
- 登记人 / 登记单位 set to the importing user;
- party columns (申请人姓名、申请人证件号码、申请人电话、被申请人姓名、被申请人电话) that create
  Party rows after the case is saved, validated like the party form;
- 案件编号、案件状态、登记时间 exported (read-only) alongside the importable columns.
"""
from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from accounts.scope import regions_for
from cases.models import Case, Party
from lowcode.excel import NUMERIC_ID_MESSAGE, Column, ExcelHooks, ImportRow, Lookup, register_hooks
from lowcode.fieldtypes import validate_id_number, validate_phone
from orgs.models import Region
from secure.crypto import normalise

PARTY_COLUMNS = (
    Column("applicant_name", "申请人姓名", required=True, note="自然人姓名或单位名称，最多 100 字"),
    Column("applicant_id_number", "申请人证件号码", kind="身份证号", mask_kind="id_number",
           note="18 位居民身份证号码（请保持单元格为文本格式）"),
    Column("applicant_phone", "申请人电话", kind="电话", mask_kind="phone", note="手机号 11 位，或带区号的固定电话"),
    Column("respondent_name", "被申请人姓名", note="自然人姓名或单位名称，最多 100 字"),
    Column("respondent_phone", "被申请人电话", kind="电话", mask_kind="phone", note="手机号 11 位，或带区号的固定电话"),
)
COLUMN = {c.key: c for c in PARTY_COLUMNS}
NAME_MAX = Party._meta.get_field("name").max_length


class CaseExcelHooks(ExcelHooks):
    export_also = ("exchange_id", "status", "registered_at")

    def extra_columns(self) -> list[Column]:
        return list(PARTY_COLUMNS)

    # -- 所属区域 ---------------------------------------------------------------------
    def _regions(self):
        if not hasattr(self, "_region_list"):
            qs = regions_for(self.user).filter(level__gte=Region.CASE_LEVEL).select_related("parent") if self.user else []
            self._region_list = list(qs)
        return self._region_list

    def lookup(self, spec):
        if spec.code != "region":
            return None
        regions = self._regions()
        names: dict[str, int] = {}
        for r in regions:
            names[r.name] = names.get(r.name, 0) + 1

        def full(r):
            return f"{r.parent.name}{r.name}" if r.parent_id else r.name

        return Lookup(
            ((r.pk, r.name if names[r.name] == 1 else full(r), (r.code, full(r), r.name)) for r in regions),
            invalid_message="“{value}”不是您可登记的区域：请填写本辖区社区（村）或网格的名称或区划代码",
        )

    def row_defaults(self):
        region = getattr(self.user, "region", None)
        if region is not None and region.holds_cases:
            return {"region": region.pk}
        return {}

    # -- parties ---------------------------------------------------------------------
    def validate_row(self, row: ImportRow):
        errors: dict[str, list[str]] = {}
        parsed = {}
        for key, validator in (("applicant_id_number", validate_id_number), ("applicant_phone", validate_phone),
                               ("respondent_phone", validate_phone)):
            kind = "id_number" if key.endswith("id_number") else "phone"
            value = normalise(row.cell(COLUMN[key].label), kind)
            raw = row.raw.get(COLUMN[key].label)
            try:
                if kind == "id_number" and isinstance(raw, (int, float)) and not isinstance(raw, bool):
                    raise ValidationError(NUMERIC_ID_MESSAGE)
                validator(value)
            except ValidationError as exc:
                errors.setdefault(COLUMN[key].label, []).extend(exc.messages)
            parsed[key] = value
        for key in ("applicant_name", "respondent_name"):
            label = COLUMN[key].label
            parsed[key] = row.cell(label)
            if len(parsed[key]) > NAME_MAX:
                errors.setdefault(label, []).append(f"“{label}”最多 {NAME_MAX} 个字")
        if not parsed["applicant_name"]:
            errors.setdefault(COLUMN["applicant_name"].label, []).append(
                str(forms.Field.default_error_messages["required"]))
        if parsed["respondent_phone"] and not parsed["respondent_name"]:
            errors.setdefault(COLUMN["respondent_name"].label, []).append("填写了被申请人电话时，被申请人姓名必填")
        row.data["parties"] = parsed
        return errors

    def before_save(self, obj: Case, row: ImportRow) -> None:
        if self.user is not None and obj.registrant_id is None:
            obj.registrant = self.user
            obj.organization = obj.organization or getattr(self.user, "organization", None)

    def after_save(self, obj: Case, row: ImportRow) -> None:
        p = row.data.get("parties") or {}
        created = 0
        if p.get("applicant_name"):
            party = Party(case=obj, role="applicant", name=p["applicant_name"],
                          id_number=p.get("applicant_id_number", ""), phone=p.get("applicant_phone", ""))
            party._change_reason = "Excel 批量导入"
            party.save()
            created += 1
        if p.get("respondent_name"):
            party = Party(case=obj, role="respondent", name=p["respondent_name"], phone=p.get("respondent_phone", ""))
            party._change_reason = "Excel 批量导入"
            party.save()
            created += 1
        if created > obj.party_count:
            Case.objects.filter(pk=obj.pk).update(party_count=created)

    # -- export ----------------------------------------------------------------------
    def export_queryset(self, queryset):
        return queryset.select_related("region").prefetch_related("parties")

    def export_values(self, obj: Case):
        applicant = respondent = None
        for p in obj.parties.all():
            if p.role == "applicant" and applicant is None:
                applicant = p
            elif p.role == "respondent" and respondent is None:
                respondent = p
        out = {}
        if applicant is not None:
            out.update(applicant_name=applicant.name, applicant_id_number=applicant.id_number,
                       applicant_phone=applicant.phone)
        if respondent is not None:
            out.update(respondent_name=respondent.name, respondent_phone=respondent.phone)
        return out


register_hooks("case", CaseExcelHooks)
