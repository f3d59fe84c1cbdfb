"""Streaming readers: JSON Lines line by line, .xlsx row by row (openpyxl read_only). Neither
ever holds the whole file in memory. Each yields ``Item``s; a problem with one line is an item
with ``error``, a problem with the file as a whole raises ``FileRejected``."""
from __future__ import annotations

import datetime as dt
import io
import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterator

from django.conf import settings

XLSX_MAGIC = b"PK\x03\x04"
EXCERPT = 300


class FileRejected(Exception):
    """The whole file is refused; the message is Chinese, ready to show."""


@dataclass
class Item:
    line: int                  # JSON Lines: line number; xlsx: row number as Excel shows it
    raw: dict | None
    error: str = ""
    excerpt: str = ""


def max_line_bytes() -> int:
    return int(getattr(settings, "INGEST_MAX_LINE_BYTES", 1024 * 1024))


def excerpt_of(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str)
    value = value.strip()
    return value if len(value) <= EXCERPT else value[:EXCERPT] + "…"


class Source:
    """An opened input: a path or a binary stream, with its display name and format."""

    def __init__(self, path_or_stream, name: str = ""):
        self._own = None
        if isinstance(path_or_stream, (str, Path)):
            path = Path(path_or_stream)
            if not path.exists():
                raise FileRejected(f"文件不存在：{path}")
            if path.is_dir():
                raise FileRejected(f"这是一个目录，不是文件：{path}")
            self.stream: IO[bytes] = path.open("rb")
            self._own = self.stream
            self.name = name or path.name
        else:
            stream = path_or_stream
            if isinstance(stream, io.TextIOBase):
                stream = stream.buffer if hasattr(stream, "buffer") else io.BytesIO(stream.read().encode("utf-8"))
            self.stream = stream
            self.name = name or Path(getattr(stream, "name", "") or "").name
        self.format = self._detect()
        self.rows_total: int | None = None  # .xlsx: the sheet's row count, once opened
        self.last_line = 0

    def fraction(self) -> float | None:
        """How much of the file has been read (0..1), or None when it cannot be told."""
        if self.format == "xlsx":
            return min(1.0, self.last_line / self.rows_total) if self.rows_total else None
        try:
            size = os.fstat(self.stream.fileno()).st_size
            return min(1.0, self.stream.tell() / size) if size else None
        except (AttributeError, OSError, ValueError, io.UnsupportedOperation):
            return None

    def _detect(self) -> str:
        suffix = Path(self.name).suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            return "xlsx"
        if suffix in (".xls", ".csv", ".et"):
            raise FileRejected(f"不支持 {suffix} 文件：请提供 JSON Lines（.jsonl）或 Excel 2007+（.xlsx）文件")
        head = self._peek(4)
        if head.startswith(XLSX_MAGIC):
            return "xlsx"
        return "jsonl"

    def _peek(self, n: int) -> bytes:
        if hasattr(self.stream, "peek"):
            return self.stream.peek(n)[:n]
        if self.stream.seekable():
            pos = self.stream.tell()
            data = self.stream.read(n)
            self.stream.seek(pos)
            return data
        self.stream = io.BufferedReader(self.stream)
        return self.stream.peek(n)[:n]

    def close(self):
        if self._own is not None:
            self._own.close()

    def items(self) -> Iterator[Item]:
        items = read_jsonl(self.stream) if self.format == "jsonl" else read_xlsx(self.stream, self._opened)
        for item in items:
            self.last_line = item.line
            yield item

    def _opened(self, rows_total: int | None) -> None:
        self.rows_total = rows_total

    def columns(self) -> list[str] | None:
        """Header of an .xlsx file (None for JSON Lines: each line carries its own keys)."""
        return getattr(self, "_columns", None)


def read_jsonl(stream: IO[bytes]) -> Iterator[Item]:
    limit = max_line_bytes()
    number = 0
    first = True
    while True:
        line = stream.readline(limit + 1)
        if not line:
            break
        number += 1
        if len(line) > limit and not line.endswith(b"\n"):
            head = line[:EXCERPT]
            while True:  # skip the rest of the overlong line without keeping it
                more = stream.readline(limit)
                if not more or more.endswith(b"\n"):
                    break
            yield Item(number, None, f"该行超过 {limit // 1024} KB，已跳过", excerpt_of(head))
            continue
        if first:
            first = False
            if line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if line.lstrip().startswith(b"["):
                raise FileRejected("文件是一个 JSON 数组，不是 JSON Lines：请每行一条记录（JSON 对象）")
        if not line.strip():
            continue
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield Item(number, None, "该行不是 UTF-8 编码", excerpt_of(line))
            continue
        try:
            value = json.loads(text)
        except ValueError as exc:
            yield Item(number, None, f"不是合法的 JSON（{_json_reason(exc)}）", excerpt_of(text))
            continue
        if not isinstance(value, dict):
            yield Item(number, None, "该行不是 JSON 对象（应为 {…}）", excerpt_of(text))
            continue
        yield Item(number, value, "", "")


def _json_reason(exc: ValueError) -> str:
    msg = str(exc)
    if "Unterminated string" in msg or "Expecting" in msg and "delimiter" in msg:
        return "内容不完整或缺少引号/逗号"
    if "Extra data" in msg:
        return "一行中有多余内容"
    return "格式错误"


def _cell(value):
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def read_xlsx(stream: IO[bytes], on_open=None) -> Iterator[Item]:
    from openpyxl import load_workbook

    spooled = None
    if not stream.seekable():
        spooled = tempfile.TemporaryFile()
        shutil.copyfileobj(stream, spooled, 1024 * 1024)
        spooled.seek(0)
        stream = spooled
    try:
        try:
            # data_only=False: a formula cell comes back as its text ("=HYPERLINK(…)") and is kept as
            # text; nothing is ever evaluated.
            wb = load_workbook(stream, read_only=True, data_only=False)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
            raise FileRejected("Excel 文件已损坏或不完整（可能上传中断），无法读取，请重新导出后上传") from exc
        except Exception as exc:  # noqa: BLE001 — openpyxl raises many kinds on broken files
            raise FileRejected("Excel 文件无法读取（格式不正确或已损坏）") from exc
        try:
            ws = wb.worksheets[0] if wb.worksheets else None
            if ws is None:
                raise FileRejected("Excel 文件中没有工作表")
            if on_open is not None:
                try:
                    on_open(ws.max_row)  # from the sheet's dimension tag; None when missing
                except Exception:  # noqa: BLE001 — progress is a nicety, never a reason to fail
                    on_open(None)
            rows = ws.iter_rows(values_only=True)
            number = 0
            headers: list[str] | None = None
            try:
                for row in rows:
                    number += 1
                    if headers is None:
                        if all(c in (None, "") for c in row):
                            continue
                        headers = [str(c).strip().lstrip("*") if c is not None else "" for c in row]
                        yield Item(number, {"__columns__": headers})
                        continue
                    if all(c in (None, "") for c in row):
                        continue
                    record = {h: _cell(v) for h, v in zip(headers, row) if h and v not in (None, "")}
                    extra_cells = [v for v in row[len(headers):] if v not in (None, "")]
                    if extra_cells:
                        # keyed by the headers, so the report can tell a name or phone column and mask it
                        yield Item(number, None, "该行的数据多于表头的列数",
                                   excerpt_of({**record, "多出的列": [_cell(v) for v in extra_cells]}))
                        continue
                    yield Item(number, record)
            except FileRejected:
                raise
            except Exception as exc:  # noqa: BLE001 — a truncated sheet fails mid-way
                raise FileRejected(f"Excel 文件在第 {number} 行之后已损坏或不完整，之后的数据无法读取") from exc
        finally:
            wb.close()
    finally:
        if spooled is not None:
            spooled.close()
