"""案例分析: approved typical cases counted by level, dispute type, tag, mediation type and month
(tables, ECharts series, one Excel workbook)."""
from __future__ import annotations

import io
from collections import Counter

from django.utils import timezone

from lowcode.registry import get_dictionary
from secure.spreadsheet import neutralise


def _label(dictionary: str, code: str) -> str:
    items = get_dictionary(dictionary)
    return items[code].label if code in items else (code or "未填")


def tables(qs) -> list[dict]:
    rows = list(qs.values_list("typical_level", "case_type", "mediation_type", "tags", "approved_at"))
    by = {"level": Counter(), "type": Counter(), "mediation": Counter(), "tag": Counter(), "month": Counter()}
    for level, case_type, mediation, tags, approved in rows:
        by["level"][_label("typical_level", level)] += 1
        by["type"][_label("case_type", (case_type or "").split(".")[0])] += 1
        by["mediation"][_label("mediation_type", mediation)] += 1
        for tag in tags or []:
            by["tag"][_label("case_tag", tag)] += 1
        if approved:
            by["month"][timezone.localtime(approved).strftime("%Y-%m")] += 1
    titles = {"level": "按典型级别", "type": "按纠纷类型", "mediation": "按调解类型", "tag": "按标签",
              "month": "按入库月份"}
    out = []
    for key, counter in by.items():
        items = sorted(counter.items()) if key == "month" else counter.most_common()
        out.append({"key": key, "title": titles[key], "rows": items, "total": sum(counter.values())})
    return out


def chart_data(tabs) -> dict:
    return {t["key"]: {"title": t["title"], "names": [r[0] for r in t["rows"]], "values": [r[1] for r in t["rows"]]}
            for t in tabs}


def workbook(tabs) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for t in tabs:
        ws = wb.create_sheet(t["title"])
        ws.append(["分类", "典型案例数"])
        for name, n in t["rows"]:
            ws.append([neutralise(name), n])
        ws.append(["合计", t["total"]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
