"""What the permission matrices compare to say "a POST changed nothing": every row of every model
of the project's own apps that belongs to a region — found by its path to a region, not by a
list kept by hand: a ``region_path`` column, a ``region`` key, or a chain of keys (forward or
reverse) to a model that has one (a case's logs, a clue's raw record, an order's bids and
vouchers, history rows …). A model with no such path must be named in NOT_REGION_DATA with the
reason, so a model added tomorrow is either fingerprinted or explained
(tests/test_permission_matrix.py::test_every_model_is_fingerprinted_or_explained)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db.models import ForeignKey, ManyToOneRel, OneToOneField, OneToOneRel, Q

MAX_HOPS = 3

# Models of the project's apps that hold no region's data (or whose rows a permitted request may
# change for everyone), by app or "app.Model"; a history model is explained by its model's entry.
NOT_REGION_DATA = {
    "lowcode": "元数据（字典、字段、布局、列表、流程）：业务配置，不属于任何区域",
    "accounts": "账号、角色与安全策略：三员的越权另测（tests/test_privilege_escalation.py）",
    "secure": "安全审计日志：只追加，任何请求都可能写入",
    "clues.Channel": "渠道配置：全区共享（区级管理员配置）",
    "clues.CleaningRule": "清洗规则（元数据）",
    "clues.IngestBatch": "归集批次：按上传人，不按区域",
    "clues.Rejection": "拒收记录：被拒的记录未入库，没有区域",
    "clues.PullState": "渠道拉取状态：按渠道",
    "dedup.DedupSettings": "重复研判参数（元数据）",
    "dedup.Pair": "研判结果：以两条记录的键关联（确认/否决的范围检查在 tests/test_dedup_integration.py）",
    "dedup.HotKey": "查重的热门分块键：全区共享的缓存",
    "escalation.WarningLevel": "预警等级（元数据）",
    "escalation.WarningRule": "预警规则（元数据）",
    "escalation.WarningKeyword": "预警关键词（元数据）",
    "escalation.WarningSetting": "预警阈值与参数（元数据）",
    "escalation.PartyWarning": "当事人预警：按人汇总、跨区域（本区域的改动会重算同一人的汇总）",
    "thirdparty.OrgProfile": "第三方组织资料：按组织（tests/test_thirdparty_matrix.py 的指纹含它）",
    "library.QACategory": "基层减负问答分类：全区共享（区级维护）",
    "library.QAEntry": "基层减负问答：全区共享（区级维护，Excel 导入导出）",
    "assessment.Indicator": "考核指标（元数据）",
    "analysis.SavedView": "常用分析视图（元数据）：全区共享，区域按区划代码保存，打开时限于本人范围",
    "assessment.Snapshot": "考核快照的期间与所用指标：全区一份（各对象的结果行 SnapshotRow 按区域路径）",
    "assessment.RecomputeLog": "已关闭期间的重算记录：随快照，全区一份",
    "integrations.ExternalSystem": "外部系统配置与状态：全区一份（区级管理员配置）",
    "integrations.ExternalOrg": "政钉组织树的同步副本：全区一份",
    "integrations.SyncRun": "政钉同步记录：按外部系统",
    "integrations.ExternalAccount": "外部账号绑定：按账号（绑定不授予任何权限；不能绑定三员与超级管理员）",
}
# never a step of a path: their own region is not the row's (a user's, an organisation's …)
SKIP_THROUGH = {"accounts.User", "orgs.Region", "orgs.Organization", "contenttypes.ContentType", "auth.Group",
                "clues.Channel", "addresses.StandardAddress"}


def project_models() -> list:
    """Concrete models of the apps under platform/ and extensions/."""
    base = Path(settings.BASE_DIR).resolve()
    out = []
    for config in apps.get_app_configs():
        path = Path(config.path).resolve()
        if base not in path.parents or ".venv" in path.parts:
            continue
        out += [m for m in config.get_models() if not m._meta.abstract and not m._meta.proxy]
    return out


def _own_path(model) -> str | None:
    if model._meta.label == "orgs.Region":
        return "path"
    names = {f.name for f in model._meta.get_fields()}
    if "region_path" in names:
        return "region_path"
    field = next((f for f in model._meta.get_fields() if f.name == "region"), None)
    if isinstance(field, ForeignKey) and field.related_model._meta.label == "orgs.Region":
        return "region__path"
    return None


def _forward(model):
    for f in model._meta.get_fields():
        if isinstance(f, (ForeignKey, OneToOneField)) and f.related_model is not None:
            yield f.name, f.related_model


def _reverse(model):
    for f in model._meta.get_fields():
        if isinstance(f, (ManyToOneRel, OneToOneRel)) and f.related_model is not None:
            yield f.field.related_query_name(), f.related_model


def _search(model, hops) -> list[str]:
    """Lookups to a region path at the smallest depth, following only ``hops`` (all forward: the
    row's owner; or all reverse: the rows it is the source of — never up and down to a sibling)."""
    frontier, seen = [("", model)], {model}
    for _ in range(MAX_HOPS):
        found, following = [], []
        for prefix, current in frontier:
            for name, target in hops(current):
                if target in seen or target._meta.label in SKIP_THROUGH:
                    continue
                seen.add(target)
                path = _own_path(target)
                if path:
                    found.append(f"{prefix}{name}__{path}")
                following.append((f"{prefix}{name}__", target))
        if found:
            return sorted(found)
        frontier = following
    return []


@lru_cache(maxsize=None)
def region_lookups(model) -> tuple[str, ...]:
    """How ``model``'s rows find their region: ("region_path",), ("case__region_path",),
    ("case__region_path", "clue__region_path") for a raw record of a case or of a clue …"""
    own = _own_path(model)
    return (own,) if own else tuple(dict.fromkeys(_search(model, _forward) + _search(model, _reverse)))


def explained(model) -> str | None:
    meta = model._meta
    base = meta.label.replace(".Historical", ".", 1) if meta.object_name.startswith("Historical") else meta.label
    return NOT_REGION_DATA.get(meta.label) or NOT_REGION_DATA.get(base) or NOT_REGION_DATA.get(meta.app_label)


def region_models() -> list:
    return [m for m in project_models() if not explained(m) and region_lookups(m)]


def unexplained() -> list[str]:
    return [m._meta.label for m in project_models() if not explained(m) and not region_lookups(m)]


def fingerprint(prefixes: list[str]) -> dict[str, list]:
    """{model label: sorted rows} of the rows under ``prefixes`` (a region's path and below)."""
    snap = {}
    if not prefixes:
        return snap
    for model in region_models():
        q = Q()
        for lookup in region_lookups(model):
            for p in prefixes:
                q |= Q(**{f"{lookup}__startswith": p})
        snap[model._meta.label] = sorted(map(repr, model._default_manager.filter(q).distinct().values_list()))
    return snap


def changed(before: dict, after: dict) -> list[str]:
    """Which models differ (for a readable failure)."""
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
