"""Ranking as an Excel workbook: the ranking sheet (what the user sees, in their scope) and a sheet
of indicator definitions, so a number in the file can be re-derived by hand."""
from __future__ import annotations

import io
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.styles import Font

from assessment import facts as facts_mod
from assessment.models import DIMENSION_LABELS, DIRECTIONS, NORMALISATIONS, PERIOD_CHOICES
from lowcode.excel import neutralise
from secure import audit


def _t(v):
    return neutralise(v) if isinstance(v, str) else v


def workbook_bytes(snap, period, rows, specs, user=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "考核排名"
    dim = DIMENSION_LABELS[snap.dimension]
    ws.append([_t(f"{dim}考核排名：{period.label}（{snap.get_status_display()}）")])
    ws["A1"].font = Font(bold=True, size=14)
    header = ["排名", "上期排名", "变化", "对象"]
    for s in specs:
        header += [f"{s['name']}（值）", f"{s['name']}（得分）"]
    header += ["加减分", "总分"]
    ws.append([_t(h) for h in header])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in rows:
        line = [r.rank, r.prev_rank if r.prev_rank is not None else "", r.change if r.change is not None else "",
                _t(r.name)]
        for s in specs:
            v = r.values.get(s["code"]) or {}
            line += [v.get("raw") if v.get("raw") is not None else "", v.get("score", 0)]
        line += [r.manual, r.score]
        ws.append(line)
    ws.column_dimensions["D"].width = 24

    d = wb.create_sheet("指标定义")
    d.append(["编码", "指标名称", "计算公式", "权重", "方向", "标准化方法", "目标值", "最差值", "封顶值", "适用期间", "说明"])
    for cell in d[1]:
        cell.font = Font(bold=True)
    dirs, norms, pers = dict(DIRECTIONS), dict(NORMALISATIONS), dict(PERIOD_CHOICES)
    for s in specs:
        d.append([_t(s["code"]), _t(s["name"]), _t(s["formula"]), s["weight"], dirs.get(s["direction"], ""),
                  norms.get(s["normalisation"], ""), s.get("target") if s.get("target") is not None else "",
                  s.get("worst") if s.get("worst") is not None else "",
                  s.get("cap") if s.get("cap") is not None else "", pers.get(s.get("period"), ""),
                  _t(s.get("description") or "")])
    d.append([])
    d.append(["总分 = Σ(权重 × 指标得分) ÷ Σ权重 + 加减分；指标得分 0–100，见各标准化方法的说明。"])
    f = wb.create_sheet("事实说明")
    f.append(["事实名称", "编码", "说明"])
    for fact in facts_mod.for_dimension(snap.dimension):
        f.append([_t(fact.label), _t(fact.code), _t(fact.help)])
    audit.stamp_workbook(wb, ws, user, what=f"{dim}考核排名：{period.label}", rows=len(rows),
                         filters={"考核对象": dim, "期间": period.key})
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def export_response(request, snap, period, rows, specs) -> HttpResponse:
    dim = DIMENSION_LABELS[snap.dimension]
    data = workbook_bytes(snap, period, rows, specs, getattr(request, "user", None))
    audit.export(request, f"{dim}考核排名：{period.label}", rows=len(rows),
                 filters={"dimension": snap.dimension, "period": period.key})
    response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(f'{dim}考核排名_{period.key}.xlsx')}"
    return response
