"""The case page's panels (UI slot cases.detail_panels): 类似案例参考 — the nearest typical cases
and how they were resolved — and the case's 典型案例 / 重点事 links."""
from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html

from cases import actions as case_actions
from cases import states
from library import actions, search
from library.models import KeyMatter, TypicalCase
from lowcode.registry import get_dictionary

SIMILAR = 5


def _label(dictionary: str, code: str) -> str:
    items = get_dictionary(dictionary)
    return items[code].label if code in items else code


def similar_typicals(request, case, limit: int = SIMILAR):
    text = f"{case.title} {case.description}"
    return search.search(text, request.user, kinds=("typical",), limit=limit)


def case_panels(request, case):
    user = request.user
    if not actions.may_use_library(user) or not case_actions.in_scope(user, case):
        return []
    blocks = []
    hits = similar_typicals(request, case)
    typicals = TypicalCase.objects.in_bulk([h.doc.ref_id for h in hits])
    rows = []
    for hit in hits:
        tc = typicals.get(hit.doc.ref_id)
        if tc is None or tc.case_id == case.pk:
            continue
        rows.append([format_html('<a href="{}">{}</a>', reverse("admin:library_typicalcase_detail", args=[tc.pk]),
                                 tc.title),
                     _label("typical_level", tc.typical_level), tc.method or "—",
                     (tc.writeup.split("【调解结果】")[-1] if "【调解结果】" in tc.writeup else tc.writeup)[:120]])
    blocks.append(("类似案例参考", ["典型案例", "级别", "调解方法", "如何化解"],
                   rows or [["暂无类似的典型案例", "", "", ""]]))
    mine = []
    may_change = user.has_perm("cases.change_case")
    proposal = TypicalCase.objects.filter(case=case).exclude(status="rejected").first()
    if proposal is not None:
        mine.append(["典型案例", format_html('<a href="{}">{}</a>（{}）',
                                         reverse("admin:library_typicalcase_detail", args=[proposal.pk]),
                                         proposal.title, _label("typical_status", proposal.status))])
    elif may_change and states.is_closed(case):
        mine.append(["典型案例", format_html('<a href="{}">推荐为典型案例</a>',
                                         reverse("admin:library_typicalcase_propose", args=[case.pk]))])
    km = KeyMatter.objects.filter(case=case).first()
    if km is not None:
        mine.append(["重点事", format_html('<a href="{}">{}（{}，包案领导 {}）</a>',
                                        reverse("admin:library_keymatter_change", args=[km.pk]),
                                        km.get_state_display(), _label("key_matter_level", km.level), km.leader)])
    elif may_change:
        mine.append(["重点事", format_html('<a href="{}">列为重点事</a>',
                                        reverse("admin:library_keymatter_mark", args=[case.pk]))])
    if mine:
        blocks.append(("典型案例与重点事", ["事项", "内容"], mine))
    return blocks
