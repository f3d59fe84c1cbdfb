"""The 升级预警 panel on the case detail page (UI slot cases.detail_panels):
the current colour, who takes charge, the reasons and facts, and the warning history. The case
page itself is already scoped; the panel shows only this case's own rows."""
from __future__ import annotations

from django.utils.html import format_html

from extensions.escalation import config as config_mod
from lowcode.registry import format_when

SHOWN_FACTS = ("报告次数", "报警次数", "暴力关键词数", "命中关键词", "涉及人数", "涉及金额", "超期天数",
               "提级次数", "调解失败次数", "重点人员", "当事人最多纠纷数")


def badge(cfg, key: str):
    lv = cfg.level(key)
    return format_html('<span class="badge mdtj-warning" style="background:{};color:#fff">{}</span>', lv.color, lv.label)


def case_blocks(request, case) -> list:
    from extensions.escalation.models import CaseWarning, WarningEvent

    cfg = config_mod.load()
    w = CaseWarning.objects.filter(pk=case.pk).first()
    rows = []
    if w is not None:
        lv = cfg.level(w.level)
        facts = "；".join(f"{k} {v}" for k in SHOWN_FACTS if (v := (w.facts or {}).get(k)) not in (None, "", 0, False))
        rows.append([badge(cfg, w.level), "、".join(x for x in (lv.responsible, lv.leader) if x),
                     "；".join(w.reasons or []) or "未触发预警规则", facts, format_when(w.changed_at)])
    current = ("升级预警", ["预警等级", "责任主体", "预警原因", "研判事实", "变色时间"], rows)
    history = [[format_when(e.created_at), format_html("{} → {}", badge(cfg, e.from_level) if e.from_level else "—",
                                                       badge(cfg, e.to_level)),
                e.rule_name or "—", "；".join(e.reasons or []), e.notified]
               for e in WarningEvent.objects.filter(case=case).order_by("-created_at", "-id")[:20]]
    return [current, ("预警记录", ["时间", "颜色变化", "决定规则", "原因", "通知人数"], history)]


def summary_flags(request, case) -> list:
    """The colour and its reasons at the top of the case pages (UI slot cases.detail_summary)."""
    from cases.summary import Flag
    from extensions.escalation.models import CaseWarning

    w = CaseWarning.objects.filter(pk=case.pk).first()
    if w is None:
        return []
    lv = config_mod.load().level(w.level)
    return [Flag("预警等级", lv.label, lv.color, tuple(w.reasons or ()) or ("未触发预警规则",), anchor="panel-升级预警")]
