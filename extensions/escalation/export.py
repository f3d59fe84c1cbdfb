"""预警名单 → .xlsx: ID numbers and phones masked unless the user may see them; every text cell
neutralised against formula injection (lowcode.excel.neutralise)."""
from __future__ import annotations

import io

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook

from lowcode.excel import neutralise
from lowcode.registry import format_when
from secure import audit
from secure.masking import mask

HEADERS = ["姓名", "证件号码", "联系电话", "识别依据", "预警等级", "预警原因", "决定规则", "研判时间"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def rows(queryset, see_sensitive: bool, cfg):
    for w in queryset.iterator(chunk_size=1000):
        p = w.party
        id_number = (p.id_number if p else "") or ""
        phone = (p.phone if p else "") or ""
        if not see_sensitive:
            id_number, phone = mask(id_number, "id_number"), mask(phone, "phone")
        yield [w.name, id_number, phone, w.get_identity_display(), cfg.level(w.level).label,
               "；".join(w.reasons or []), w.rule, format_when(w.evaluated_at)]


def party_warnings_xlsx(queryset, see_sensitive: bool, cfg, user=None) -> HttpResponse:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("当事人预警名单")
    ws.append(HEADERS)
    count = 0
    for row in rows(queryset, see_sensitive, cfg):
        ws.append([neutralise(v) for v in row])
        count += 1
    audit.stamp_workbook(wb, ws, user, what="当事人预警名单", rows=count)  # exporter and time
    buf = io.BytesIO()
    wb.save(buf)
    response = HttpResponse(buf.getvalue(), content_type=XLSX)
    name = f"party-warnings-{timezone.localtime():%Y%m%d-%H%M}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
