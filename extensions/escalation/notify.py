"""Who hears about a change of colour: the people handling the case, the level above them, and
the level the colour puts in charge (WarningLevel.lead_level, e.g. red → the street)."""
from __future__ import annotations

from accounts import roles
from cases import actions
from notices.actions import case_label, notify


def recipients(case, level) -> list:
    from accounts.models import User

    ancestors = [case.region_path[:i + 1] for i, ch in enumerate(case.region_path) if ch == "/"]
    levels = {case.level - 1}
    if level.lead_level:
        levels.add(level.lead_level)
    above = list(User.objects.filter(is_active=True, region__path__in=ancestors, region__level__in=levels)
                 .exclude(roles.holders(*roles.NON_HANDLING)).distinct())
    seen, out = set(), []
    for u in list(actions.handlers_for(case)) + above:
        if u.pk not in seen:
            seen.add(u.pk)
            out.append(u)
    return out


def notify_change(case, cfg, old_level: str, verdict, memo: dict | None = None) -> int:
    new = cfg.level(verdict.level)
    key = (case.region_path, case.level, case.registrant_id, new.key)
    if memo is None or key not in memo:
        found = recipients(case, new)
        if memo is None:
            memo = {}
        memo[key] = found
    to = memo[key]
    if old_level:
        old = cfg.level(old_level)
        trend = "升级" if cfg.more_severe(verdict.level, old_level) else "降级"
        title = f"预警{trend}：{case_label(case)}（{old.label} → {new.label}）"
    else:
        title = f"{new.label}：{case_label(case)}"
    lines = [f"案件 {case.exchange_id} 现为{new.label}。"]
    if verdict.reasons:
        lines.append("原因：" + "；".join(verdict.reasons))
    if new.responsible or new.leader:
        lines.append("责任：" + "，".join(x for x in (new.responsible, new.leader) if x))
    return notify(to, "warning", title[:200], "\n".join(lines), case)
