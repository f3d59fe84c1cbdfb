"""Read-only tables shown under a case on the PC detail and review screens: parties (masked),
mediation logs with their attachments, the mediation list, the result, help requests, reviews,
visits and the trace. Each block is (title, headers, rows); cells are text or safe HTML."""
from __future__ import annotations

from django.urls import reverse
from django.utils.html import format_html, format_html_join

from cases.models import Attachment, Case, HelpRequest, MediationResult
from lowcode.registry import format_when, get_dictionary, get_meta
from secure import audit

EVENT_KINDS = {"transition": "流转", "review": "审核", "remind": "催办", "escalate": "上报上级",
               "overdue": "超期", "stale": "无进展", "tag": "打标", "archive": "归档", "log": "调解日志",
               "visit": "回访", "referral": "部门转办"}
PURPOSES = {"case": "案件材料", "log": "调解日志", "result": "调解结果", "visit": "回访"}


def label(dictionary: str, code: str) -> str:
    items = get_dictionary(dictionary)
    return items[code].label if code in items else (code or "")


def money(value) -> str:
    return "" if value is None else f"{value:,.2f}"


def user_name(user) -> str:
    return str(user) if user is not None else ""


def attachment_links(attachments) -> str:
    return format_html_join("<br>", '<a href="{}" target="_blank" rel="noopener">{}</a>',
                            ((reverse("cases:attachment", args=[a.pk]), a.name) for a in attachments))


def parties_block(case: Case, see_sensitive: bool):
    pm = get_meta("party")
    rows = []
    for p in case.parties.all():
        rows.append([
            pm.display_value(pm.fields["role"], p.role) if "role" in pm.fields else p.role,
            p.name,
            audit.shown(p, p.id_number, "id_number", see_sensitive),
            audit.shown(p, p.phone, "phone", see_sensitive),
            p.address,
        ])
    return ("当事人", ["类型", "姓名/名称", "证件号码", "联系电话", "住址"], rows)


def logs_block(case: Case):
    rows = []
    for log in case.logs.select_related("created_by").prefetch_related("attachments"):
        rows.append([format_when(log.occurred_at), log.place, log.participants, log.content,
                     attachment_links(log.attachments.all()), user_name(log.created_by)])
    return ("调解日志", ["调解时间", "调解地点", "参与人员", "调解情况", "附件", "记录人"], rows)


def items_block(case: Case):
    rows = [[i.content, money(i.claim_amount), "是" if i.settled else "否", i.note] for i in case.items.all()]
    return ("调解清单", ["调解事项", "诉求金额（元）", "已达成一致", "说明"], rows)


def result_block(case: Case):
    result = MediationResult.objects.filter(case=case).select_related("submitted_by").first()
    rows = []
    if result is not None:
        files = Attachment.objects.filter(case=case, purpose="result")
        rows.append([label("mediation_outcome", result.outcome), result.agreement, money(result.amount),
                     attachment_links(files), user_name(result.submitted_by), format_when(result.submitted_at)])
    return ("调解结果", ["调解结果", "协议内容/情况说明", "涉及金额（元）", "附件", "提交人", "提交时间"], rows)


def help_block(case: Case, kinds: tuple[str, ...] = (), latest_only: bool = False):
    qs = HelpRequest.objects.filter(case=case).select_related("requested_by")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    requests = list(qs[:1] if latest_only else qs)
    rows = [[h.get_kind_display(), h.reason, money(h.expected_fee), user_name(h.requested_by),
             format_when(h.requested_at)] for h in requests]
    return ("求助申请", ["求助方式", "求助原因", "预期费用（元）", "申请人", "申请时间"], rows)


def reviews_block(case: Case):
    from cases.workbench import review_kind_label

    rows = []
    for r in case.reviews.select_related("submitted_by", "decided_by").order_by("-submitted_at", "-pk"):
        rows.append([review_kind_label(r.kind), label("case_status", r.state), r.get_status_display(),
                     user_name(r.submitted_by), format_when(r.submitted_at), user_name(r.decided_by),
                     format_when(r.decided_at) if r.decided_at else "", r.action, r.opinion])
    return ("审核记录", ["审核类别", "审核环节", "审核状态", "提交人", "提交时间", "审核人", "审核时间",
                     "审核动作", "审核意见"], rows)


def visits_block(case: Case):
    rows = [[format_when(v.visited_at), label("visit_way", v.way), label("satisfaction", v.satisfaction),
             v.notes, user_name(v.visitor)] for v in case.visits.select_related("visitor")]
    return ("回访记录", ["回访时间", "回访方式", "满意度", "回访情况", "回访人"], rows)


def case_attachments_block(case: Case):
    files = (Attachment.objects.filter(case=case, log__isnull=True).exclude(purpose="result")
             .select_related("uploaded_by"))
    rows = [[attachment_links([a]), PURPOSES.get(a.purpose, a.purpose), f"{a.size // 1024 or 1} KB",
             user_name(a.uploaded_by), format_when(a.uploaded_at)] for a in files]
    return ("其他附件", ["文件", "用途", "大小", "上传人", "上传时间"], rows)


def trace_block(case: Case):
    rows = [[format_when(e.created_at), EVENT_KINDS.get(e.kind, e.kind), e.message, user_name(e.actor),
             format_html("{} → {}", label("case_status", e.from_state), label("case_status", e.to_state))
             if e.from_state or e.to_state else ""]
            for e in case.events.select_related("actor")]
    return ("案件轨迹", ["时间", "类别", "内容", "操作人", "状态变化"], rows)


def extension_blocks(request, obj) -> list:
    """The blocks extensions add below the case detail (slot ``cases.detail_panels``, e.g. 同一案件)."""
    from lowcode import slots

    return [block for provider in slots.items("cases.detail_panels") for block in provider(request, obj)]


def handling_blocks(case: Case, see_sensitive: bool):
    """Everything the PC case detail shows below the layout sections."""
    return [parties_block(case, see_sensitive), logs_block(case), items_block(case), result_block(case),
            help_block(case), referrals_block(case), reviews_block(case), visits_block(case),
            case_attachments_block(case), trace_block(case)]


def referrals_block(case: Case):
    from cases.referrals import referrals_block as block

    return block(case)
