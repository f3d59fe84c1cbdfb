"""The "同一案件 / 相似案件" panels on the case and clue detail pages (the UI slots
``cases.detail_panels`` and ``clues.detail_panels``). Only records in the
user's scope are listed; confirm / reject lead to a confirmation page (extensions.dedup.admin)."""
from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from extensions.dedup import api
from extensions.dedup.models import GroupMember

HEADERS = ["记录", "来源", "反映时间", "得分", "理由", "状态", "操作"]


def record_link(kind: str, pk: int, label: str) -> str:
    url = (reverse("admin:cases_case_detail", args=[pk]) if kind == "case"
           else reverse("admin:clues_clue_change", args=[pk]))
    return format_html('<a href="{}">{}</a>', url, label)


def _when(value) -> str:
    from lowcode.registry import format_when

    return format_when(value) if value else ""


def _ops(request, ref: api.RecordRef, here: str) -> str:
    if ref.pair_id is None or ref.confirmed or not request.user.has_perm("dedup.change_pair"):
        return ""
    url = reverse("admin:dedup_pair_decide", args=[ref.pair_id])
    return format_html('<a class="btn btn-sm btn-outline-success me-1" href="{}?{}">确认</a>'
                       '<a class="btn btn-sm btn-outline-danger" href="{}?{}">否决</a>',
                       url, urlencode({"do": "confirm", "next": here}), url, urlencode({"do": "reject", "next": here}))


def _rows(request, refs, here: str) -> list[list]:
    rows = []
    for r in api.visible_refs(request.user, refs):
        rows.append([record_link(r.kind, r.pk, f"{r.key.split(':', 1)[-1]} {r.title}"[:80]), _channel(r.channel),
                     _when(r.reported_at),
                     f"{r.score:.2f}", format_html_join("、", "{}", ((x,) for x in r.reasons)),
                     "已确认" if r.confirmed else "待确认", _ops(request, r, here)])
    return rows


def blocks_for(request, kind: str, pk: int) -> list:
    here = request.get_full_path()
    same = _rows(request, api.same_records(kind, pk), here)
    similar = _rows(request, api.similar_records(kind, pk), here)
    out = [("同一案件", HEADERS, same), ("相似案件", HEADERS, similar)]
    key = api.key_of(kind, pk)
    member = GroupMember.objects.filter(key=key).select_related("group").first() if key else None
    if member is not None:
        n = GroupMember.objects.filter(group=member.group).count()
        split = ""
        if request.user.has_perm("dedup.change_pair"):
            split = format_html('<a class="btn btn-sm btn-outline-warning" href="{}?{}">移出档案</a>',
                                reverse("admin:dedup_dedupgroup_split", args=[member.group_id]),
                                urlencode({"key": key, "next": here}))
        out.insert(0, ("一件事档案", ["档案", "记录数", "操作"],
                       [[format_html('<a href="{}">{}</a>', reverse("admin:dedup_dedupgroup_change",
                                                                   args=[member.group_id]), member.group.name),
                         n, split]]))
    return out


def case_panel(request, case) -> list:
    return blocks_for(request, "case", case.pk)


def clue_panel(request, clue) -> list:
    return blocks_for(request, "clue", clue.pk)


def _channel(key: str) -> str:
    from lowcode.registry import get_dictionary

    items = get_dictionary("event_source")
    return items[key].label if key in items else key


def _verdict_flag(title: str, refs, anchor: str):
    from cases.summary import Flag

    confirmed = sum(1 for r in refs if r.confirmed)
    parts = [f"已确认 {confirmed} 条"] if confirmed else []
    if len(refs) - confirmed:
        parts.append(f"待确认 {len(refs) - confirmed} 条")
    reasons = tuple(f"{_channel(r.channel)} {r.key.split(':', 1)[-1]}：{'、'.join(r.reasons[:2]) or r.title[:20]}"
                    for r in refs[:3])
    return Flag(title, " · ".join(parts), "#6f42c1" if title == "同一案件" else "#17a2b8", reasons, anchor)


def summary_flags(request, case) -> list:
    """Same-case / similar verdicts and the 一件事档案 at the top of the case pages (UI slot
    cases.detail_summary); only records in the user's scope are counted."""
    from cases.summary import Flag

    out = []
    same = api.visible_refs(request.user, api.same_records("case", case.pk))
    if same:
        out.append(_verdict_flag("同一案件", same, "panel-同一案件"))
    similar = api.visible_refs(request.user, api.similar_records("case", case.pk))
    if similar:
        out.append(_verdict_flag("相似案件", similar, "panel-相似案件"))
    key = api.key_of("case", case.pk)
    member = GroupMember.objects.filter(key=key).select_related("group").first() if key else None
    if member is not None:
        n = GroupMember.objects.filter(group=member.group).count()
        out.insert(0, Flag("一件事档案", f"{member.group.name}（{n} 条记录）", "#6c757d", (), "panel-一件事档案"))
    return out


def register() -> None:
    from lowcode import slots

    slots.add("cases.detail_summary", summary_flags, order=20)
    slots.add("cases.detail_panels", case_panel, order=10)  # before the 升级预警 panel
    slots.add("clues.detail_panels", clue_panel, order=10)
