"""调解对账单 as an Excel workbook (openpyxl). Every text cell goes through
``lowcode.excel.neutralise`` so a value starting with = + - @ never runs as a formula."""
from __future__ import annotations

import io
from urllib.parse import quote

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from cases.admin_blocks import label
from lowcode.excel import neutralise
from secure import audit

HEADERS = ["序号", "发单编号", "案件编号", "案件类型", "标题（已脱敏）", "调解员", "凭证编号", "选定日期", "完成日期",
           "调解结果", "评价（分）", "费用（元）"]


def rows(result) -> list[list]:
    out = []
    for i, order in enumerate(result.rows, 1):
        result_obj = getattr(order.case, "result", None)
        voucher = getattr(order, "voucher", None)
        ev = getattr(order, "evaluation", None)
        out.append([
            i, order.number, order.case.exchange_id, label("case_type", order.case_type), order.title,
            str(order.awarded_bid.mediator) if order.awarded_bid_id else "",
            voucher.number if voucher else "",
            timezone.localtime(order.awarded_at).strftime("%Y-%m-%d") if order.awarded_at else "",
            timezone.localtime(order.completed_at).strftime("%Y-%m-%d") if order.completed_at else "",
            label("mediation_outcome", result_obj.outcome) if result_obj else "",
            ev.score if ev else "",
            float(order.expected_fee) if order.expected_fee is not None else "",
        ])
    return out


def workbook_bytes(result, org, start, end, user=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "调解对账单"
    ws.append([neutralise(f"调解对账单：{org.name}")])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([neutralise(f"对账期间：{start:%Y-%m-%d} 至 {end:%Y-%m-%d}（按完成日期）"),
               neutralise(audit.provenance_line(user))])
    ws.append(HEADERS)
    for cell in ws[3]:
        cell.font = Font(bold=True)
    for row in rows(result):
        ws.append([neutralise(v) if isinstance(v, str) else v for v in row])
    ws.append(["合计", f"{result.count} 件", "", "", "", "", "", "", "", "",
               result.avg_score if result.avg_score is not None else "", float(result.total_fee)])
    for col, width in zip("ABCDEFGHIJKL", (6, 20, 22, 12, 36, 12, 20, 12, 12, 10, 10, 12)):
        ws.column_dimensions[col].width = width
    audit.stamp_workbook(wb, ws, user, what=f"调解对账单：{org.name}", rows=result.count,
                         filters={"组织": org.name, "期间": f"{start:%Y-%m-%d} 至 {end:%Y-%m-%d}"})
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_response(result, org, start, end, request=None) -> HttpResponse:
    name = f"调解对账单_{org.name}_{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
    user = getattr(request, "user", None)
    data = workbook_bytes(result, org, start, end, user)
    audit.export(request, f"调解对账单：{org.name}", rows=result.count,
                 filters={"organization": org.pk, "start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"})
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    return response
