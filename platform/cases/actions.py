"""Case handling actions (Zulip's ``do_*`` style): each does the write, the trace entry on the
case and the notifications, in one transaction. Views stay thin and call these.

Who may do what comes from Workflow metadata (lowcode.workflow) plus two domain rules:
- the case must be in the user's region scope;
- a review decision is made above the level handling the case (a street admin reviews a
  community's result; the district reviews what a street handles), never by the submitter's level.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.utils import timezone

from accounts import roles
from accounts.scope import scope_queryset
from cases.models import (Attachment, Case, CaseEvent, CaseFile, HelpRequest, MediationLog,
                          MediationResult, Review, Visit)
from lowcode import fieldtypes, hooks, registry
from lowcode.forms import expression_values
from lowcode.lists import raw_value
from lowcode.workflow import Transition, WorkflowSpec, workflow_for
from notices.actions import case_label, notify
from orgs.models import Region


class ActionRefused(Exception):
    """A refusal with its reason in Chinese, shown to the user as it is."""


DATABASE_BUSY = "系统繁忙：其他人正在办理同一案件，请稍后重试"


def busy_as_refusal(func):
    """SQLite serialises writers; one that still finds the database locked after the busy timeout
    (settings: BEGIN IMMEDIATE + timeout) is told to retry instead of getting a server error."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            raise ActionRefused(DATABASE_BUSY) from exc
    return wrapper


# --- context -----------------------------------------------------------------------------
def roles_of(user) -> tuple[str, ...]:
    """The user's role codes (what workflow transitions name)."""
    return roles.codes_of(user)


def user_level(user) -> int:
    """The user's Region.Level; superusers act above the district, users without a region below all."""
    if user.is_superuser:
        return Region.ABOVE_ALL
    return user.region.level if getattr(user, "region", None) is not None else Region.BELOW_ALL


def workflow(case: Case) -> WorkflowSpec:
    wf = workflow_for(registry.get_meta("case"), case.case_type)
    if wf is None:
        raise ActionRefused("该案件类型没有配置流程，请联系业务配置管理员")
    return wf


def case_values(case: Case) -> dict:
    meta = registry.get_meta("case")
    return expression_values(meta, {code: raw_value("case", case, spec) for code, spec in meta.fields.items()})


def state_label(state: str) -> str:
    items = registry.get_dictionary("case_status")
    return items[state].label if state in items else state


def in_scope(user, case: Case) -> bool:
    return scope_queryset(user, Case.objects.filter(pk=case.pk)).exists()


def may_fire(user, case: Case, t: Transition) -> bool:
    if t.decision:
        return user_level(user) < case.level
    return True


def available_actions(case: Case, user) -> list[Transition]:
    if not in_scope(user, case):
        return []
    wf = workflow(case)
    return [t for t in wf.allowed(case.status, roles_of(user), case_values(case)) if may_fire(user, case, t)]


def refusal_reason(case: Case, user, action: str) -> str:
    wf = workflow(case)
    t = wf.find(case.status, action)
    if t is None:
        return f"当前状态“{state_label(case.status)}”下不能执行“{action}”"
    if not t.allows_role(roles_of(user)):
        shown = roles.names(t.roles)
        return f"您的角色不能执行“{action}”（可执行角色：{'、'.join(shown.get(r, r) for r in t.roles)}）"
    if t.decision and not may_fire(user, case, t):
        return "审核需由上级处理，您不能审核本级办理的案件"
    if not in_scope(user, case):
        return "案件不在您的管辖范围内"
    return f"不满足“{action}”的条件：{t.condition}"


# --- notifications -------------------------------------------------------------------------
def reviewers_for(case: Case, state: str, above_level: int | None = None):
    """Who is asked to decide the review step ``state``: users with a reviewer role whose region
    contains the case, at the nearest level above the handling level (or above ``above_level``,
    which is how a review that waits too long goes to the reviewers' superiors)."""
    from accounts.models import User

    reviewer_roles = workflow(case).reviewer_roles(state)
    level = case.level if above_level is None else above_level
    ancestors = [case.region_path[:i + 1] for i, ch in enumerate(case.region_path) if ch == "/"]
    users = list(User.objects.filter(roles.holders(*reviewer_roles), is_active=True, region__path__in=ancestors,
                                     region__level__lt=level).select_related("region").distinct())
    nearest = max((u.region.level for u in users), default=None)
    return [u for u in users if u.region.level == nearest]


def handlers_for(case: Case):
    """Who handles the case now: the registrant if still at their level, else staff at the level."""
    from accounts.models import User

    ancestors = [case.region_path[:i + 1] for i, ch in enumerate(case.region_path) if ch == "/"]
    users = list(User.objects.filter(is_active=True, region__path__in=ancestors, region__level=case.level)
                 .exclude(roles.holders(*roles.NON_HANDLING)).distinct())
    if case.registrant_id and case.registrant.is_active and user_level(case.registrant) >= case.level:
        users.append(case.registrant)
    return users


def trace(case: Case, kind: str, message: str, actor=None, from_state: str = "", to_state: str = "") -> CaseEvent:
    return CaseEvent.objects.create(case=case, kind=kind, message=message[:500], actor=actor,
                                    from_state=from_state, to_state=to_state)


# --- transitions ---------------------------------------------------------------------------
@dataclass
class TransitionDone:
    case: Case
    transition: Transition
    review: Review | None


@busy_as_refusal
def do_transition(case: Case, action: str, user, *, opinion: str = "",
                  review: Review | None = None) -> TransitionDone:
    """Fire ``action`` on ``case`` as ``user``. Exactly once under concurrency: the case row is
    locked and its status compared-and-set; a review is closed only while still pending.
    ``review``: the review row the decision was made on (a review screen) — refused unless that
    very row is still pending, so a stale screen never decides a later resubmission."""
    opinion = (opinion or "").strip()
    # the opinion comes straight from a POST on several screens: the long-text rules apply here
    if fieldtypes.forbidden_char(opinion, multiline=True) is not None:
        raise ActionRefused("意见含有不可见的控制字符或文字方向控制符，请删除后重新输入")
    if len(opinion) > fieldtypes.long_text_max():
        raise ActionRefused(f"意见不能超过 {fieldtypes.long_text_max()} 字")
    with transaction.atomic():
        # of=("self",): PostgreSQL refuses FOR UPDATE on the nullable side of the registrant join
        case = Case.objects.select_for_update(of=("self",)).select_related("region", "registrant").get(pk=case.pk)
        if review is not None and not Review.objects.filter(pk=review.pk, case=case, state=case.status,
                                                            status="pending").exists():
            raise ActionRefused("该审核已由他人处理，请刷新后查看最新结果")
        wf = workflow(case)
        t = next((t for t in available_actions(case, user) if t.action == action), None)
        if t is None:
            raise ActionRefused(refusal_reason(case, user, action))
        if t.opinion and not opinion:
            raise ActionRefused(f"“{action}”需要填写意见")
        source, now = case.status, timezone.now()
        if not Case.objects.filter(pk=case.pk, status=source).update(status=t.target, last_progress_at=now):
            raise ActionRefused("案件已被他人处理，请刷新后查看最新状态")
        case.status, case.last_progress_at = t.target, now

        closed = None
        if wf.state(source).review:
            decision = t.decision or "approve"
            pending = Review.objects.filter(case=case, state=source, status="pending")
            if review is not None:
                pending = pending.filter(pk=review.pk)
            updated = pending.update(
                status=decision, decided_by=user, decided_at=now, action=action, opinion=opinion)
            if not updated:
                raise ActionRefused("该审核已由他人处理")
            closed = Review.objects.filter(case=case, state=source, decided_at=now).order_by("-pk").first()

        if "raise_level" in t.effects and case.level > Region.Level.DISTRICT:
            case.level -= 1
            Case.objects.filter(pk=case.pk).update(level=case.level)

        opened = None
        if wf.state(t.target).review:
            opened = Review.objects.create(case=case, kind=wf.state(t.target).review, state=t.target,
                                          submitted_by=user, submitted_at=now)

        text = f"{user}：{action}（{state_label(source)} → {state_label(t.target)}）"
        trace(case, "review" if closed else "transition", text + (f"，意见：{opinion}" if opinion else ""),
              user, source, t.target)

        # the status moved by update(), which sends no post_save: extensions (warning colours,
        # the duplicate model) must still hear that the case changed, e.g. a case closed on approval
        hooks.fire("records_changed", kind="case", ids=[case.pk])
        if opened is not None:
            notify(reviewers_for(case, t.target), "review", f"待审核：{case_label(case)}",
                   f"{user} 提交了“{action}”，请审核。案件编号 {case.exchange_id}", case)
        if closed is not None and closed.submitted_by_id and closed.submitted_by_id != user.pk:
            notify([closed.submitted_by], "result", f"审核结果：{action} · {case_label(case)}",
                   opinion or f"{user} {action}", case)
        return TransitionDone(case, t, opened)


# --- data actions ------------------------------------------------------------------------------
ALLOWED_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".txt"}


def check_upload(upload) -> None:
    from pathlib import PurePosixPath

    limit = getattr(settings, "ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    suffix = PurePosixPath(upload.name or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ValidationError(f"不支持的附件类型“{suffix or '无扩展名'}”：只能上传图片、PDF、Word、Excel 或文本文件")
    if upload.size > limit:
        raise ValidationError(f"附件“{upload.name}”超过 {limit // (1024 * 1024)} MB 上限")


def _attach(case: Case, uploads, user, purpose: str, log: MediationLog | None = None) -> list[Attachment]:
    out = []
    for upload in uploads or ():
        check_upload(upload)
        out.append(Attachment.objects.create(case=case, log=log, purpose=purpose, file=upload,
                                             name=upload.name[:200], size=upload.size,
                                             content_type=getattr(upload, "content_type", "")[:100],
                                             uploaded_by=user))
    return out


def _require_handler(case: Case, user) -> None:
    if not in_scope(user, case):
        raise ActionRefused("案件不在您的管辖范围内")
    # the function right, or a per-case grant (guardian: the organisation a dispatch was awarded to)
    if not (user.has_perm("cases.change_case") or user.has_perm("cases.change_case", case)):
        raise ActionRefused("您没有办理案件的权限")


def add_log(case: Case, user, *, content: str, occurred_at=None, place: str = "", participants: str = "",
            uploads=()) -> MediationLog:
    _require_handler(case, user)
    if not (content or "").strip():
        raise ValidationError({"content": "请填写调解情况"})
    for upload in uploads or ():
        check_upload(upload)
    with transaction.atomic():
        log = MediationLog.objects.create(case=case, content=content.strip(), place=place, participants=participants,
                                          occurred_at=occurred_at or timezone.now(), created_by=user)
        _attach(case, uploads, user, "log", log)
        Case.objects.filter(pk=case.pk).update(last_progress_at=timezone.now())
        trace(case, "log", f"{user}：记录调解日志", user)
    return log


def submit_result(case: Case, user, *, action: str, outcome: str, agreement: str = "",
                  amount: Decimal | None = None, uploads=()) -> TransitionDone:
    """Save the result and fire the workflow action that collects it (form "result")."""
    _require_handler(case, user)
    outcomes = registry.get_dictionary("mediation_outcome")
    if outcome not in outcomes:
        raise ValidationError({"outcome": "请选择调解结果"})
    for upload in uploads or ():
        check_upload(upload)
    with transaction.atomic():
        MediationResult.objects.update_or_create(case=case, defaults={
            "outcome": outcome, "agreement": agreement, "amount": amount, "submitted_by": user,
            "submitted_at": timezone.now()})
        _attach(case, uploads, user, "result")
        return do_transition(case, action, user)


def request_help(case: Case, user, *, action: str, kind: str, reason: str,
                 expected_fee: Decimal | None = None) -> TransitionDone:
    _require_handler(case, user)
    if not (reason or "").strip():
        raise ValidationError({"reason": "请填写求助原因"})
    with transaction.atomic():
        HelpRequest.objects.create(case=case, kind=kind, reason=reason.strip(), expected_fee=expected_fee,
                                   requested_by=user)
        return do_transition(case, action, user)


# Reasons a case may be visited before it closes (an open 重点事, library.actions.open_key_matter):
# callables (case) -> bool that apps above cases register in their AppConfig.ready.
OPEN_VISIT_RULES: list = []


def may_visit(case: Case) -> bool:
    """回访/走访 is allowed after the case closes, or while a registered rule holds (a key matter)."""
    from cases import states

    return states.is_closed(case) or any(rule(case) for rule in OPEN_VISIT_RULES)


def add_visit(case: Case, user, *, way: str, satisfaction: str, notes: str = "", visited_at=None) -> Visit:
    _require_handler(case, user)
    if not may_visit(case):
        raise ActionRefused(f"案件尚未办结（{state_label(case.status)}），办结后才能回访")
    ways = registry.get_dictionary("visit_way")
    errors = {}
    if way not in ways:
        errors["way"] = "请选择回访方式"
    if satisfaction not in registry.get_dictionary("satisfaction"):
        errors["satisfaction"] = "请选择满意度"
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        visit = Visit.objects.create(case=case, way=way, satisfaction=satisfaction, notes=notes,
                                     visited_at=visited_at or timezone.now(), visitor=user)
        trace(case, "visit", f"{user}：回访（{ways[way].label}）", user)
    return visit


def tag_cases(cases, user, add: list[str], remove: list[str] = ()) -> int:
    """打标: add/remove case tags (codes of the case_tag dictionary) on cases in scope."""
    known = registry.get_dictionary("case_tag")
    unknown = [t for t in list(add) + list(remove) if t not in known]
    if unknown:
        raise ValidationError(f"未知标签：{'、'.join(unknown)}")
    changed = 0
    with transaction.atomic():
        for case in scope_queryset(user, Case.objects.filter(pk__in=[c.pk for c in cases])).select_for_update():
            tags = [t for t in case.tags if t not in remove]
            tags += [t for t in add if t not in tags]
            if tags != case.tags:
                case.tags = tags
                case.save(update_fields=["tags", "updated_at"])
                trace(case, "tag", f"{user}：标签改为 {'、'.join(known[t].label for t in tags) or '无'}", user)
                changed += 1
    return changed


def archive_cases(cases, user, *, name: str, note: str = "", case_file: CaseFile | None = None) -> CaseFile:
    """档案归档: put same-type cases into one case file."""
    cases = list(scope_queryset(user, Case.objects.filter(pk__in=[c.pk for c in cases])))
    if not cases:
        raise ActionRefused("请选择要归档的案件")
    types = {c.case_type for c in cases}
    if len(types) > 1:
        raise ActionRefused("只能把同一类型的案件归入同一档案")
    if case_file is not None and case_file.case_type and case_file.case_type not in types:
        raise ActionRefused("档案的案件类型与所选案件不同")
    with transaction.atomic():
        if case_file is None:
            if not (name or "").strip():
                raise ValidationError({"name": "请填写档案名称"})
            region = user.region or cases[0].region
            case_file = CaseFile.objects.create(name=name.strip(), case_type=types.pop(), region=region,
                                                note=note, created_by=user)
        case_file.cases.add(*cases)
        for case in cases:
            trace(case, "archive", f"{user}：归入档案“{case_file.name}”", user)
    return case_file
