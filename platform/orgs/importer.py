"""Day one: import the region tree, the organisations and the user accounts from Excel/CSV.

One file per kind; the kind is recognised by its headers (KINDS below, templates from the admin's
“下载导入模板”). ``plan_import`` validates every row without writing (the preview, with a Chinese
reason per row); ``apply_import`` writes the valid rows in one transaction — all or nothing,
unless the caller chose to skip the rows with errors. Importing the same file again creates
nothing: regions are identified by 区划代码, organisations by 名称, users by 账号.

- 区域: a row's 上级区划代码 may name a region of the same file (any order) or one already in the
  system; the level must be one below its parent's. An existing region keeps its place in the
  tree (an import never moves a subtree); its name and sort order are updated.
- 组织机构: 类型 by its label (人民调解委员会…) or code; 所属区划代码 must exist.
- 用户: new accounts only (an existing 账号 is left untouched: an import never changes a person's
  rights); roles by name, only those the importing administrator may assign, never a 三员 role;
  each new account gets a random initial password shown once and must change it at first login.

The scope of a screen import is the importing user's region subtree; the command (no user) has
none — it is what a fresh installation runs before any administrator exists.
"""
from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from lowcode.excel import ImportFileError, Table, cell_text, read_table
from orgs.models import Organization, Region
from secure import audit

__all__ = ["ImportFileError", "KINDS", "plan_import", "apply_import", "read"]

CODE_RE = re.compile(r"^[0-9A-Za-z]{2,32}$")
LEVELS = {"区": 1, "县": 1, "区县": 1, "1": 1, "街道": 2, "镇": 2, "乡": 2, "街道/镇": 2, "2": 2,
          "社区": 3, "村": 3, "社区/村": 3, "3": 3, "网格": 4, "4": 4}
ACTIVE = {"": True, "启用": True, "是": True, "1": True, "停用": False, "否": False, "0": False}
ACTION_LABELS = {"new": "新增", "updated": "更新", "unchanged": "无变化", "error": "有错误"}
SPLIT_RE = re.compile(r"[、,，;；\s]+")

KINDS: dict[str, dict[str, Any]] = {
    "region": {"label": "区域", "columns": (
        ("区划代码", "必填", "区划代码（数字或字母，2～32 位），全系统唯一"),
        ("名称", "必填", "如：湖滨街道、湖滨社区、第一网格"),
        ("层级", "必填", "区 / 街道（镇、乡）/ 社区（村）/ 网格"),
        ("上级区划代码", "除区外必填", "上级区域的区划代码：可以是本文件中的行，也可以是系统中已有的区域"),
        ("排序", "选填", "整数，同级区域的显示顺序"),
    )},
    "org": {"label": "组织机构", "columns": (
        ("机构名称", "必填", "全系统唯一，如：湖滨街道人民调解委员会"),
        ("类型", "必填", "、".join(Organization.Kind.labels)),
        ("所属区划代码", "必填", "机构所在区域的区划代码（须已导入）"),
        ("联系人", "选填", "最多 32 字"),
        ("状态", "选填", "启用 / 停用，不填为启用"),
    )},
    "user": {"label": "用户", "columns": (
        ("账号", "必填", "登录账号：字母、数字和 @.+-_，最多 150 位；已存在的账号不会被改动"),
        ("姓名", "必填", "最多 32 字"),
        ("所属区划代码", "必填", "用户所在区域的区划代码（须已导入）"),
        ("所属机构", "选填", "机构名称（须已导入）"),
        ("角色", "必填", "角色名称，多个用“、”分隔；三员管理角色不能导入"),
        ("手机号", "选填", "11 位手机号"),
    )},
}
KEY_HEADER = {"region": "层级", "org": "机构名称", "user": "账号"}


@dataclass
class RowPlan:
    number: int
    cells: dict[str, str]
    errors: list[str] = field(default_factory=list)
    action: str = "error"
    values: dict[str, Any] = field(default_factory=dict)
    existing: Any = None

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    def error(self, message: str) -> None:
        self.errors.append(message)
        self.action = "error"


@dataclass
class ImportPlan:
    kind: str = ""
    filename: str = ""
    headers: list[str] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KINDS[self.kind]["label"] if self.kind in KINDS else ""

    @property
    def columns(self) -> list[str]:
        return [c[0] for c in KINDS[self.kind]["columns"]] if self.kind in KINDS else []

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def counts(self) -> dict[str, int]:
        return {"read": len(self.rows), "new": self.count("new"), "updated": self.count("updated"),
                "unchanged": self.count("unchanged"), "rejected": self.count("error")}

    @property
    def error_rows(self) -> list[RowPlan]:
        return [r for r in self.rows if r.errors]


def read(source: str | Path | bytes, filename: str = "") -> Table:
    return read_table(source, filename or (Path(source).name if isinstance(source, (str, Path)) else ""))


def detect_kind(headers: list[str]) -> str | None:
    for kind, key in KEY_HEADER.items():
        if key in headers:
            return kind
    return None


# --- scope of the importing user ---------------------------------------------------------------
class _Scope:
    """The importing user's region subtree (None: the command, no limit)."""

    def __init__(self, user):
        self.user = user
        self.root = getattr(user, "region", None) if user is not None else None
        self.unlimited = user is None

    def covers(self, region_path: str) -> bool:
        if self.unlimited:
            return True
        return self.root is not None and region_path.startswith(self.root.path)

    @property
    def message(self) -> str:
        if self.root is None:
            return "您没有所属区域，不能导入：请由区级系统管理员导入"
        return f"不在您的管辖范围（{self.root.name}）内"


def plan_import(table: Table, *, user=None, filename: str = "") -> ImportPlan:
    plan = ImportPlan(filename=filename, headers=list(table.headers))
    kind = detect_kind(plan.headers)
    if kind is None:
        plan.file_errors.append("无法识别的文件：表头须为区域（区划代码、名称、层级、上级区划代码）、"
                                "组织机构（机构名称、类型、所属区划代码）或用户（账号、姓名、所属区划代码、角色）"
                                "导入模板之一。请下载导入模板填写。")
        return plan
    plan.kind = kind
    required = [c[0] for c in KINDS[kind]["columns"] if c[1] == "必填"]
    missing = [h for h in required if h not in plan.headers]
    if missing:
        plan.file_errors.append(f"缺少必填列：{'、'.join(missing)}。请使用{plan.kind_label}导入模板。")
        return plan
    for number, values in table.rows:
        by_header = dict(zip(plan.headers, values))
        cells = {h: cell_text(by_header.get(h)).strip() for h in plan.columns}
        if not any(cells.values()):
            continue
        plan.rows.append(RowPlan(number=number, cells=cells))
    if not plan.rows:
        plan.file_errors.append("文件中没有数据行。")
        return plan
    scope = _Scope(user)
    {"region": _plan_regions, "org": _plan_orgs, "user": _plan_users}[kind](plan, scope)
    return plan


def _duplicates(plan: ImportPlan, column: str) -> None:
    seen: dict[str, int] = {}
    for row in plan.rows:
        key = row.cells.get(column, "")
        if key and key in seen:
            row.error(f"“{column}”与第 {seen[key]} 行重复")
        elif key:
            seen[key] = row.number


# --- regions ----------------------------------------------------------------------------------
def _plan_regions(plan: ImportPlan, scope: _Scope) -> None:
    existing = {r.code: r for r in Region.objects.all()}
    name_max = Region._meta.get_field("name").max_length
    in_file: dict[str, RowPlan] = {}
    for row in plan.rows:
        c = row.cells
        code, name, level_text = c["区划代码"], c["名称"], c["层级"]
        if not code:
            row.error("区划代码必填")
        elif not CODE_RE.match(code):
            row.error(f"区划代码“{code}”格式不对：只能是 2～32 位数字或字母")
        if not name:
            row.error("名称必填")
        elif len(name) > name_max:
            row.error(f"名称最多 {name_max} 个字")
        level = LEVELS.get(level_text.replace("（", "(").split("(")[0].strip())
        if level is None:
            row.error(f"层级“{level_text}”无效：请填写 区、街道、镇、社区、村 或 网格")
        sort_text = c.get("排序", "")
        try:
            sort = int(float(sort_text)) if sort_text else 0
        except ValueError:
            row.error(f"排序“{sort_text}”不是整数")
            sort = 0
        row.values = {"code": code, "name": name, "level": level, "parent_code": c["上级区划代码"], "sort": sort}
        if code and code not in in_file:
            in_file[code] = row
    _duplicates(plan, "区划代码")

    def level_of(code: str) -> int | None:
        if code in in_file:
            return in_file[code].values["level"]
        return existing[code].level if code in existing else None

    def path_of(code: str, depth: int = 0) -> str | None:
        """The materialised path the region will have (None: broken chain)."""
        if depth > 6:
            return None
        if code in existing:
            return existing[code].path
        row = in_file.get(code)
        if row is None:
            return None
        parent = row.values["parent_code"]
        if not parent:
            return code + "/"
        above = path_of(parent, depth + 1)
        return None if above is None else above + code + "/"

    for row in plan.rows:
        v = row.values
        if row.errors:
            continue
        old = existing.get(v["code"])
        parent = v["parent_code"]
        if v["level"] == Region.Level.DISTRICT:
            if parent:
                row.error("区一级不填上级区划代码")
        elif not parent:
            row.error("上级区划代码必填（只有区一级可以不填）")
        elif parent == v["code"]:
            row.error("上级区划代码不能是自己")
        elif level_of(parent) is None:
            row.error(f"上级区划代码“{parent}”在文件和系统中都不存在")
        elif level_of(parent) != v["level"] - 1:
            row.error(f"层级不对：上级“{parent}”是{Region.Level(level_of(parent)).label}，"
                      f"下一级应为{Region.Level(level_of(parent) + 1).label if level_of(parent) < 4 else '（无）'}")
        if row.errors:
            continue
        if old is not None:
            if (old.parent.code if old.parent_id else "") != parent or old.level != v["level"]:
                row.error("该区划代码已存在且上级或层级不同：导入不能移动区域，请在区域管理中调整")
                continue
            if not scope.covers(old.path):
                row.error(scope.message)
                continue
            row.existing = old
            row.action = "unchanged" if (old.name, old.sort) == (v["name"], v["sort"]) else "updated"
            continue
        path = path_of(v["code"])
        if path is None:
            row.error("上级区域链条不完整（上级的上级缺失或循环引用）")
        elif v["level"] == Region.Level.DISTRICT and not scope.unlimited:
            row.error("区一级只能用命令导入（manage.py import_orgs）")
        elif not scope.covers(path[: -len(v["code"]) - 1] if parent else path):
            row.error(scope.message)
        else:
            row.action = "new"
    # a row whose parent row (in the file) has an error cannot be created either
    changed = True
    while changed:
        changed = False
        for row in plan.rows:
            p = in_file.get(row.values.get("parent_code") or "")
            if row.action == "new" and p is not None and p.action == "error":
                row.error(f"上级区划代码“{p.values['code']}”所在行（第 {p.number} 行）有错误")
                changed = True


# --- organisations ----------------------------------------------------------------------------
def _plan_orgs(plan: ImportPlan, scope: _Scope) -> None:
    regions = {r.code: r for r in Region.objects.all()}
    existing = {o.name: o for o in Organization.objects.select_related("region")}
    kinds = {label: code for code, label in Organization.Kind.choices} | {c: c for c in Organization.Kind.values}
    name_max = Organization._meta.get_field("name").max_length
    contact_max = Organization._meta.get_field("contact").max_length
    for row in plan.rows:
        c = row.cells
        name, kind, code = c["机构名称"], kinds.get(c["类型"]), c["所属区划代码"]
        if not name:
            row.error("机构名称必填")
        elif len(name) > name_max:
            row.error(f"机构名称最多 {name_max} 个字")
        if kind is None:
            row.error(f"类型“{c['类型']}”无效：请填写 {'、'.join(Organization.Kind.labels)} 之一")
        region = regions.get(code)
        if region is None:
            row.error(f"所属区划代码“{code}”不存在：请先导入区域" if code else "所属区划代码必填")
        elif not scope.covers(region.path):
            row.error(scope.message)
        if len(c.get("联系人", "")) > contact_max:
            row.error(f"联系人最多 {contact_max} 个字")
        active = ACTIVE.get(c.get("状态", ""))
        if active is None:
            row.error(f"状态“{c['状态']}”无效：请填写 启用 或 停用")
        row.values = {"name": name, "kind": kind, "region": region, "contact": c.get("联系人", ""), "is_active": active}
    _duplicates(plan, "机构名称")
    for row in plan.rows:
        if row.errors:
            continue
        old = existing.get(row.values["name"])
        if old is None:
            row.action = "new"
        elif not scope.covers(old.region.path):
            row.error(scope.message)
        else:
            row.existing = old
            same = all(getattr(old, k) == v for k, v in row.values.items() if k != "name")
            row.action = "unchanged" if same else "updated"


# --- users ------------------------------------------------------------------------------------
def assignable_groups(user) -> dict[str, Group]:
    """Role name → group the importer may give: every business role for the command; on a screen,
    the roles its own roles may assign (Role.assigns). 三员 roles never."""
    Role = apps.get_model("accounts", "Role")
    roles = Role.objects.select_related("group").filter(admin=False)
    if user is not None:
        codes = set()
        for r in Role.objects.filter(group__user=user):
            codes.update(r.assigns or [])
        roles = roles.filter(code__in=codes)
    return {r.name: r.group for r in roles}


def _plan_users(plan: ImportPlan, scope: _Scope) -> None:
    User = get_user_model()
    regions = {r.code: r for r in Region.objects.all()}
    orgs = {o.name: o for o in Organization.objects.all()}
    groups = assignable_groups(scope.user)
    names = [r.cells["账号"] for r in plan.rows if r.cells["账号"]]
    taken = set(User.objects.filter(username__in=names).values_list("username", flat=True))
    validator = User.username_validator
    name_max = User._meta.get_field("display_name").max_length
    for row in plan.rows:
        c = row.cells
        username = c["账号"]
        if not username:
            row.error("账号必填")
        elif len(username) > 150:
            row.error("账号最多 150 位")
        else:
            try:
                validator(username)
            except Exception:  # noqa: BLE001 — Django's message is English-free but generic
                row.error("账号只能包含字母、数字和 @ . + - _")
        if not c["姓名"]:
            row.error("姓名必填")
        elif len(c["姓名"]) > name_max:
            row.error(f"姓名最多 {name_max} 个字")
        region = regions.get(c["所属区划代码"])
        if region is None:
            row.error(f"所属区划代码“{c['所属区划代码']}”不存在" if c["所属区划代码"] else "所属区划代码必填")
        elif not scope.covers(region.path):
            row.error(scope.message)
        org = None
        if c.get("所属机构"):
            org = orgs.get(c["所属机构"])
            if org is None:
                row.error(f"所属机构“{c['所属机构']}”不存在：请先导入组织机构")
        role_names = [n for n in SPLIT_RE.split(c["角色"]) if n]
        if not role_names:
            row.error("角色必填")
        unknown = [n for n in role_names if n not in groups]
        if unknown:
            row.error(f"角色“{'、'.join(unknown)}”不存在或您无权分配（三员管理角色不能导入）")
        mobile = re.sub(r"[\s-]", "", c.get("手机号", ""))
        if mobile and not re.fullmatch(r"1\d{10}", mobile):
            row.error(f"手机号“{c['手机号']}”格式不对：应为 11 位手机号")
        row.values = {"username": username, "display_name": c["姓名"], "region": region, "organization": org,
                      "groups": [groups[n] for n in role_names if n in groups], "mobile": mobile}
        if not row.errors:
            row.action = "unchanged" if username in taken else "new"
    _duplicates(plan, "账号")


def initial_password() -> str:
    """16 characters from four classes (the password policy wants three of four)."""
    alphabet = string.ascii_letters + string.digits + "@#%+=-"
    while True:
        pw = "".join(secrets.choice(alphabet) for _ in range(16))
        if (any(ch.islower() for ch in pw) and any(ch.isupper() for ch in pw)
                and any(ch.isdigit() for ch in pw) and any(ch in "@#%+=-" for ch in pw)):
            return pw


# --- writing ----------------------------------------------------------------------------------
@transaction.atomic
def apply_import(plan: ImportPlan, *, user=None, request=None) -> dict[str, Any]:
    """Write the rows without errors (the caller decided whether rows with errors may be skipped).
    Returns the counts and, for users, [(账号, initial password)] to hand over once."""
    counts = dict(plan.counts)
    passwords: list[tuple[str, str]] = []
    rows = [r for r in plan.rows if not r.errors]
    if plan.kind == "region":
        by_code = {r.code: r for r in Region.objects.all()}
        for row in sorted(rows, key=lambda r: r.values["level"]):
            v = row.values
            if row.action == "new":
                obj = Region(code=v["code"], name=v["name"], level=v["level"], sort=v["sort"],
                             parent=by_code.get(v["parent_code"]) if v["parent_code"] else None)
                obj.save()
                by_code[obj.code] = obj
            elif row.action == "updated":
                row.existing.name, row.existing.sort = v["name"], v["sort"]
                row.existing.save(update_fields=["name", "sort", "path"])
    elif plan.kind == "org":
        for row in rows:
            v = row.values
            if row.action == "new":
                Organization.objects.create(**v)
            elif row.action == "updated":
                for k, val in v.items():
                    setattr(row.existing, k, val)
                row.existing.save()
    elif plan.kind == "user":
        User = get_user_model()
        for row in rows:
            if row.action != "new":
                continue
            v = dict(row.values)
            groups = v.pop("groups")
            account = User(is_staff=True, must_change_password=True, **v)
            password = initial_password()
            account.set_password(password)
            account.save()
            account.groups.set(groups)
            passwords.append((account.username, password))
    if plan.kind == "user":  # accounts created: the security audit log (the auditor's screen)
        audit.record("user_change", request=request, user=user, what="批量导入用户", file=plan.filename[:200],
                     created=[u for u, _ in passwords][:500])
    return {**counts, "passwords": passwords}
