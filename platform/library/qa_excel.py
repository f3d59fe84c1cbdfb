"""基层减负 Q&A ⇄ Excel: export every entry; import all or nothing (each bad row named in Chinese),
updating an entry with the same category and question, creating missing categories."""
from __future__ import annotations

import io

from django.core.exceptions import ValidationError
from django.db import transaction

from library.models import QACategory, QAEntry
from lowcode import fieldtypes
from secure.spreadsheet import neutralise

HEADERS = ["分类", "问题", "答案", "同义词"]
MAX_ROWS = 5000
MAX_BYTES = 5 * 1024 * 1024
LIMITS = {"分类": 50, "问题": 300, "答案": 5000, "同义词": 500}


def export_workbook(entries) -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("基层减负问答")
    ws.append(HEADERS)
    for e in entries:
        ws.append([neutralise(v) for v in (e.category.name, e.question, e.answer, e.synonyms)])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def read_rows(upload) -> list[dict]:
    from openpyxl import load_workbook

    if not (upload.name or "").lower().endswith(".xlsx"):
        raise ValidationError("请上传 .xlsx 格式的 Excel 文件")
    if upload.size > MAX_BYTES:
        raise ValidationError(f"文件超过 {MAX_BYTES // (1024 * 1024)} MB 上限")
    try:
        wb = load_workbook(upload, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 — any unreadable file is the user's to fix
        raise ValidationError("无法读取该 Excel 文件，请使用“导出”得到的模板格式") from exc
    ws = wb.worksheets[0]
    rows = ws.iter_rows(values_only=True)
    header = [str(c or "").strip() for c in next(rows, ())]
    if header[:4] != HEADERS:
        raise ValidationError(f"表头应为：{'、'.join(HEADERS)}（第一行）")
    out = []
    for number, row in enumerate(rows, start=2):
        values = [("" if c is None else str(c)).strip() for c in list(row)[:4]] + [""] * 4
        if not any(values[:4]):
            continue
        if len(out) >= MAX_ROWS:
            raise ValidationError(f"一次最多导入 {MAX_ROWS} 条")
        out.append({"row": number, **dict(zip(HEADERS, values[:4]))})
    if not out:
        raise ValidationError("文件中没有问答数据")
    return out


def check_rows(rows: list[dict]) -> list[str]:
    errors, seen = [], set()
    for r in rows:
        for name in ("分类", "问题", "答案"):
            if not r[name]:
                errors.append(f"第 {r['row']} 行：“{name}”不能为空")
        for name, limit in LIMITS.items():
            if len(r[name]) > limit:
                errors.append(f"第 {r['row']} 行：“{name}”不能超过 {limit} 字")
            if fieldtypes.forbidden_char(r[name], multiline=name == "答案") is not None:
                errors.append(f"第 {r['row']} 行：“{name}”含有不可见的控制字符")
        key = (r["分类"], r["问题"])
        if key in seen:
            errors.append(f"第 {r['row']} 行：同一分类下的问题“{r['问题']}”重复")
        seen.add(key)
    return errors


def import_rows(rows: list[dict]) -> tuple[int, int]:
    """(created, updated); raises ValidationError with every row's problem, writing nothing."""
    errors = check_rows(rows)
    if errors:
        raise ValidationError(errors[:50])
    created = updated = 0
    with transaction.atomic():
        categories = {c.name: c for c in QACategory.objects.all()}
        for r in rows:
            category = categories.get(r["分类"])
            if category is None:
                category = categories[r["分类"]] = QACategory.objects.create(name=r["分类"])
            entry, is_new = QAEntry.objects.get_or_create(
                category=category, question=r["问题"], defaults={"answer": r["答案"], "synonyms": r["同义词"]})
            if not is_new:
                entry.answer, entry.synonyms, entry.enabled = r["答案"], r["同义词"], True
                entry.save()
            created += is_new
            updated += not is_new
    return created, updated
