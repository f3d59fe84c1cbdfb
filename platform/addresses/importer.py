"""Import a standard address list (.xlsx / .csv) into the address library.

Columns (first row = headers; see README.md in this folder):

=========  ======  ==================================================================
column     needed  content
=========  ======  ==================================================================
标准地址    必填    the full official address, e.g. ``示范区青山镇竹溪村文化路313号锦绣家园23幢2单元203室``
街道编码    *       region code of the street/town (level 街道/镇)
社区编码    *       region code of the community/village (must lie in that street)
网格编码    *       region code of the grid (must lie in that community)
经度        选填    longitude, decimal degrees (73～136); with 纬度 or not at all
纬度        选填    latitude, decimal degrees (3～54)
来源        选填    where the row comes from (default: the file name)
状态        选填    启用 / 停用 (default 启用)
=========  ======  ==================================================================

``*`` at least one of the three codes; the finest one given becomes the address's region and
the coarser ones are derived from it. A row is identified by its 标准地址 (after half-width
normalisation): importing the same file again creates nothing, a changed row (region,
coordinates, status, 来源 when that column is present) is updated with a history record.

``plan_import`` validates every row without writing (the preview); ``apply_import`` writes the
valid rows in one transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from addresses import matching, normalize
from addresses.models import StandardAddress, region_chain
from lowcode.excel import ImportFileError, Table, cell_text, read_table
from orgs.models import Region

TEXT, STREET, COMMUNITY, GRID, LON, LAT, SOURCE, STATUS = (
    "标准地址", "街道编码", "社区编码", "网格编码", "经度", "纬度", "来源", "状态")
COLUMNS = (TEXT, STREET, COMMUNITY, GRID, LON, LAT, SOURCE, STATUS)
CODE_COLUMNS = (STREET, COMMUNITY, GRID)
#: accepted alternative headers (scripts, English exports)
ALIASES = {"address": TEXT, "standard_address": TEXT, "street_code": STREET, "community_code": COMMUNITY,
           "grid_code": GRID, "longitude": LON, "lng": LON, "lon": LON, "latitude": LAT, "lat": LAT,
           "source": SOURCE, "status": STATUS, "标准地址名称": TEXT, "街道代码": STREET, "社区代码": COMMUNITY,
           "网格代码": GRID}
LON_RANGE = (Decimal("73"), Decimal("136"))
LAT_RANGE = (Decimal("3"), Decimal("54"))
ACTIVE_WORDS = {"": True, "启用": True, "是": True, "有效": True, "1": True, "停用": False, "否": False,
                "无效": False, "0": False}
FORMULA_PREFIXES = ("=", "+", "-", "@")
ACTION_LABELS = {"new": "新增", "updated": "更新", "unchanged": "无变化", "error": "有错误"}
CHANGE_REASON = "地址库导入"


@dataclass
class RowPlan:
    number: int                       # row number as the spreadsheet shows it
    cells: dict[str, str]             # column → cell text
    errors: list[str] = field(default_factory=list)
    action: str = "error"             # new / updated / unchanged / error
    values: dict[str, Any] = field(default_factory=dict)
    existing: StandardAddress | None = None
    changes: list[str] = field(default_factory=list)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    def error(self, message: str) -> None:
        self.errors.append(message)
        self.action = "error"


@dataclass
class ImportPlan:
    filename: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {"read": len(self.rows), "new": self.count("new"), "updated": self.count("updated"),
                "unchanged": self.count("unchanged"), "rejected": self.count("error")}

    @property
    def error_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if r.errors]

    @property
    def ok(self) -> bool:
        return not self.file_errors


def read(source: str | Path | bytes, filename: str = "") -> Table:
    """The uploaded / given file as a table (``ImportFileError`` with a Chinese message)."""
    return read_table(source, filename or (Path(source).name if isinstance(source, (str, Path)) else ""))


class _Regions:
    def __init__(self):
        regions = list(Region.objects.all())
        self.by_id = {r.pk: r for r in regions}
        for r in regions:
            if r.parent_id in self.by_id:
                r.parent = self.by_id[r.parent_id]
        self.by_code = {r.code: r for r in regions}
        district = [r.name for r in regions if r.level == Region.Level.DISTRICT]
        self.by_name: dict[str, list[Region]] = {}
        for r in regions:
            self.by_name.setdefault(r.name, []).append(r)
        self.vocab = normalize.Vocabulary(regions=[r.name for r in regions if r.level > Region.Level.DISTRICT],
                                          prefixes=[*district, *matching._prefixes()])


def _code(text: str) -> str:
    text = normalize.to_halfwidth(text).strip()
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def _region(row: RowPlan, regions: _Regions, column: str, level: int) -> Region | None:
    code = _code(row.cells.get(column, ""))
    if not code:
        return None
    region = regions.by_code.get(code)
    if region is None:
        row.error(f"{column}“{code}”不存在，请核对区划编码")
        return None
    if region.level != level:
        row.error(f"{column}“{code}”是{region.get_level_display()}“{region.name}”，"
                  f"不是{Region.Level(level).label}")
        return None
    return region


def _coordinate(row: RowPlan, column: str, bounds: tuple[Decimal, Decimal]) -> Decimal | None:
    text = normalize.to_halfwidth(row.cells.get(column, "")).strip().rstrip("°")
    if not text:
        return None
    try:
        value = Decimal(text)
        if not value.is_finite():
            raise InvalidOperation
    except InvalidOperation:
        row.error(f"{column}“{text}”不是有效的数字（请填写十进制度数，如 120.123456）")
        return None
    if not bounds[0] <= value <= bounds[1]:
        row.error(f"{column} {text} 超出范围（应在 {bounds[0]}～{bounds[1]} 之间）")
        return None
    return value.quantize(Decimal("0.000001"))


def plan_import(table: Table, *, source: str = "") -> ImportPlan:
    """Validate every row and compare it with the library; writes nothing."""
    plan = ImportPlan(filename=table.filename)
    headers = []
    for h in table.headers:
        key = normalize.to_halfwidth(h).strip()
        headers.append(ALIASES.get(key.lower(), ALIASES.get(key, key)))
    plan.headers = headers
    if TEXT not in headers:
        plan.file_errors.append(f"缺少“{TEXT}”列。地址库导入文件的表头应为：{'、'.join(COLUMNS[:6])}"
                                "（来源、状态可选），请检查是否选错了文件。")
    if not any(c in headers for c in CODE_COLUMNS):
        plan.file_errors.append("缺少区域编码列：街道编码、社区编码、网格编码至少需要有一列。")
    if (LON in headers) != (LAT in headers):
        plan.file_errors.append("经度和纬度两列须同时提供。")
    dupes = sorted({h for h in headers if h and headers.count(h) > 1})
    if dupes:
        plan.file_errors.append(f"表头重复：{'、'.join(dupes)}。")
    if not table.rows and not plan.file_errors:
        plan.file_errors.append("文件中没有数据行。")
    plan.ignored_columns = [h for h in headers if h and h not in COLUMNS]
    if plan.file_errors:
        return plan

    regions = _Regions()
    has_source = SOURCE in headers
    default_source = (source or table.filename or "导入")[:128]
    seen_text: dict[str, int] = {}
    seen_key: dict[tuple[str, str], tuple[int, str]] = {}
    for number, cells in table.rows:
        row = RowPlan(number, {h: cell_text(c) for h, c in zip(headers, cells) if h})
        plan.rows.append(row)
        text = normalize.standard_text(row.cells.get(TEXT, ""))
        if not text:
            row.error("标准地址为空")
        elif text.startswith(FORMULA_PREFIXES):
            row.error(f"标准地址以“{text[0]}”开头，像是电子表格公式，已拒绝")
        elif len(text) > 255:
            row.error("标准地址过长（最多 255 个字）")
        street = _region(row, regions, STREET, Region.Level.STREET)
        community = _region(row, regions, COMMUNITY, Region.Level.COMMUNITY)
        grid = _region(row, regions, GRID, Region.Level.GRID)
        if not any(_code(row.cells.get(c, "")) for c in CODE_COLUMNS):
            row.error("街道编码、社区编码、网格编码至少填写一个")
        if community and street and community.parent_id != street.pk:
            row.error(f"社区编码“{community.code}”（{community.name}）不属于街道“{street.name}”")
        if grid and community and grid.parent_id != community.pk:
            row.error(f"网格编码“{grid.code}”（{grid.name}）不属于社区“{community.name}”")
        if grid and street and not community and grid.parent.parent_id != street.pk:
            row.error(f"网格编码“{grid.code}”（{grid.name}）不属于街道“{street.name}”")
        lon = _coordinate(row, LON, LON_RANGE)
        lat = _coordinate(row, LAT, LAT_RANGE)
        if bool(row.cells.get(LON, "").strip()) != bool(row.cells.get(LAT, "").strip()):
            row.error("经度和纬度须同时填写（或都不填）")
        status = row.cells.get(STATUS, "").strip()
        if status not in ACTIVE_WORDS:
            row.error(f"状态“{status}”无法识别，请填写“启用”或“停用”")
        region = grid or community or street
        if row.errors or region is None:
            continue
        chain = {r.level: r for r in region_chain(region)}
        parsed = normalize.parse(text, regions.vocab)
        key = parsed.key
        if not key:
            row.error("无法从标准地址中识别出门牌：应包含“道路+门牌号”“小区+楼幢”或“村/社区+楼幢/组/号”")
        for name in parsed.regions:
            named = [r for r in regions.by_name.get(name, ())
                     if r.level in (Region.Level.STREET, Region.Level.COMMUNITY)]
            expected = chain.get(named[0].level) if named else None
            if expected is not None and all(r.pk != expected.pk for r in named):
                row.error(f"标准地址中的“{name}”与区域编码对应的“{expected.name}”不一致")
        if row.errors:
            continue
        if text in seen_text:
            row.error(f"与第 {seen_text[text]} 行的标准地址重复")
            continue
        seen_text[text] = number
        street_code = chain[Region.Level.STREET].code if Region.Level.STREET in chain else ""
        if (key, street_code) in seen_key:
            other_number, other_text = seen_key[(key, street_code)]
            row.error(f"与第 {other_number} 行“{other_text}”是同一地址（规范化后相同）")
            continue
        seen_key[(key, street_code)] = (number, text)
        row.values = {"text": text, "region": region, "longitude": lon, "latitude": lat,
                      "is_active": ACTIVE_WORDS[status], "key": key, "street_code": street_code}
        if has_source:
            row.values["source"] = (row.cells.get(SOURCE, "").strip() or default_source)[:128]
        row.action = "new"

    _compare_with_library(plan, default_source)
    return plan


def _compare_with_library(plan: ImportPlan, default_source: str) -> None:
    valid = [r for r in plan.rows if r.action == "new"]
    if not valid:
        return
    texts = [r.values["text"] for r in valid]
    existing: dict[str, StandardAddress] = {}
    for i in range(0, len(texts), 500):
        for a in StandardAddress.objects.filter(text__in=texts[i:i + 500]):
            existing[a.text] = a
    keys = list({r.values["key"] for r in valid})
    by_key: dict[tuple[str, str], StandardAddress] = {}
    for i in range(0, len(keys), 500):
        for a in StandardAddress.objects.filter(key__in=keys[i:i + 500]).only("id", "text", "key", "street_code"):
            by_key.setdefault((a.key, a.street_code), a)
    for row in valid:
        v = row.values
        current = existing.get(v["text"])
        if current is None:
            other = by_key.get((v["key"], v["street_code"]))
            if other is not None:
                row.error(f"与已有标准地址“{other.text}”是同一地址（规范化后相同）")
                continue
            v.setdefault("source", default_source)
            continue
        row.existing = current
        changes = []
        if current.region_id != v["region"].pk:
            changes.append("所属区域")
        if current.longitude != v["longitude"] or current.latitude != v["latitude"]:
            changes.append("坐标")
        if current.is_active != v["is_active"]:
            changes.append("状态")
        if "source" in v and current.source != v["source"]:
            changes.append("来源")
        row.changes = changes
        row.action = "updated" if changes else "unchanged"


def apply_import(plan: ImportPlan, *, user=None) -> dict[str, int]:
    """Write the plan's valid rows (new + updated) in one transaction; returns the counts."""
    if plan.file_errors:
        return {**plan.counts, "new": 0, "updated": 0}
    now = timezone.now()
    user = user if getattr(user, "is_authenticated", False) else None
    regions = _Regions()
    created, updated = [], []
    for row in plan.rows:
        v = row.values
        if row.action == "new":
            obj = StandardAddress(text=v["text"], region=regions.by_id[v["region"].pk],
                                  longitude=v["longitude"], latitude=v["latitude"],
                                  is_active=v["is_active"], source=v.get("source", ""))
            obj.refresh_derived(regions.vocab)
            obj.created_at = obj.updated_at = now
            created.append(obj)
        elif row.action == "updated":
            obj = row.existing
            obj.region = regions.by_id[v["region"].pk]
            obj.longitude, obj.latitude, obj.is_active = v["longitude"], v["latitude"], v["is_active"]
            if "source" in v:
                obj.source = v["source"]
            obj.refresh_derived(regions.vocab)
            obj.updated_at = now
            updated.append(obj)
    fields = ["region", "street_code", "community_code", "grid_code", "longitude", "latitude", "is_active",
              "source", "key", "road", "number", "estate", "building", "unit", "room", "components",
              "updated_at"]
    history = StandardAddress.history
    with transaction.atomic():
        if created:
            saved = StandardAddress.objects.bulk_create(created, batch_size=500)
            if not all(o.pk for o in saved):  # a database without RETURNING: fetch the ids
                ids = dict(StandardAddress.objects.filter(text__in=[o.text for o in created])
                           .values_list("text", "id"))
                for o in created:
                    o.pk = ids[o.text]
            history.bulk_history_create(created, batch_size=500, default_user=user,
                                        default_change_reason=CHANGE_REASON, default_date=now)
        if updated:
            StandardAddress.objects.bulk_update(updated, fields, batch_size=500)
            history.bulk_history_create(updated, batch_size=500, update=True, default_user=user,
                                        default_change_reason=CHANGE_REASON, default_date=now)
    matching.invalidate()
    return {**plan.counts, "new": len(created), "updated": len(updated)}


def import_file(path: str | Path, *, source: str = "", user=None, dry_run: bool = False) -> ImportPlan:
    """Read, validate and (unless ``dry_run``) apply; ``ImportFileError`` if unreadable."""
    plan = plan_import(read(path), source=source or Path(path).name)
    if not dry_run and plan.ok:
        apply_import(plan, user=user)
    return plan


__all__ = ["COLUMNS", "ImportFileError", "ImportPlan", "RowPlan", "apply_import", "import_file", "plan_import",
           "read"]
