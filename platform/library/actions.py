"""典型案例 and 重点事 actions (the ``cases.actions`` style: the write, the case trace and the
notifications in one transaction; screens on PC and H5 are thin callers).

The review of a proposal is Workflow metadata of the entity ``typical_case`` (states, transitions,
roles, decisions, opinions) read by ``lowcode.workflow``, plus the domain rules of the case
reviews: the proposal must be in the user's scope, and a decision is made above the proposer's
level (a district proposal is decided by another district user)."""
from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.scope import region_prefix, scope_queryset
from cases import actions as case_actions
from cases import states
from cases.actions import ActionRefused
from cases.models import Case
from library import anonymise, search
from library.models import KeyMatter, TypicalCase
from lowcode import fieldtypes, registry
from lowcode.workflow import Transition, WorkflowSpec, workflow_for
from notices.actions import notify
from orgs.models import Region

ENTITY = "typical_case"


def workflow() -> WorkflowSpec:
    wf = workflow_for(registry.get_meta(ENTITY), None)
    if wf is None:
        raise ActionRefused("典型案例没有配置审核流程，请联系业务配置管理员")
    return wf


def initial_state() -> str:
    wf = workflow()
    return next(iter(wf.states))


def may_use_library(user) -> bool:
    """The library is for the staff of the region tree (third parties and departments: no)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or (user.has_perm("cases.view_case") and region_prefix(user) is not None)


def visible_typicals(user):
    """Approved typical cases for every library user; proposals only in the user's scope."""
    qs = TypicalCase.objects.select_related("region", "proposed_by", "decided_by", "case")
    if not may_use_library(user):
        return qs.none()
    if user.is_superuser:
        return qs
    from django.db.models import Q

    return qs.filter(Q(status="approved") | Q(region_path__startswith=region_prefix(user)))


def in_scope(user, tc: TypicalCase) -> bool:
    return scope_queryset(user, TypicalCase.objects.filter(pk=tc.pk)).exists()


def may_decide(user, tc: TypicalCase) -> bool:
    level = case_actions.user_level(user)
    if tc.level <= Region.Level.DISTRICT:
        return level <= Region.Level.DISTRICT and user.pk != tc.proposed_by_id
    return level < tc.level


def available_actions(tc: TypicalCase, user) -> list[Transition]:
    if not in_scope(user, tc):
        return []
    wf = workflow()
    return [t for t in wf.allowed(tc.status, case_actions.roles_of(user), {})
            if not t.decision or may_decide(user, tc)]


def _check_text(value: str, label: str, limit: int, *, required: bool = True, multiline: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({label: "此项必填"})
    if fieldtypes.forbidden_char(value, multiline=multiline) is not None:
        raise ValidationError({label: "含有不可见的控制字符，请删除后重新输入"})
    if len(value) > limit:
        raise ValidationError({label: f"不能超过 {limit} 字"})
    return value


def check_writeup(case: Case, title: str, writeup: str) -> None:
    found = anonymise.leaks(f"{title}\n{writeup}", case)
    if found:
        raise ValidationError({"writeup": f"案例材料仍含有当事人身份信息：{'、'.join(found)}。"
                                          "请改为“王某”“某处”等匿名写法后再提交"})


def _reviewers(tc: TypicalCase):
    from accounts import roles
    from accounts.models import User

    reviewer_roles = workflow().reviewer_roles(tc.status)
    ancestors = [tc.region_path[:i + 1] for i, ch in enumerate(tc.region_path) if ch == "/"]
    users = [u for u in User.objects.filter(roles.holders(*reviewer_roles), is_active=True, region__path__in=ancestors)
             .select_related("region").distinct() if may_decide(u, tc)]
    nearest = max((u.region.level for u in users), default=None)
    return [u for u in users if u.region.level == nearest]


def propose(case: Case, user, *, reason: str, title: str, writeup: str, method: str = "",
            legal_basis: str = "") -> TypicalCase:
    """推荐典型案例: a closed case in the user's scope, with a reason and an anonymised write-up."""
    if not may_use_library(user) or not user.has_perm("cases.change_case"):
        raise ActionRefused("您没有推荐典型案例的权限")
    if not case_actions.in_scope(user, case):
        raise ActionRefused("案件不在您的管辖范围内")
    if not states.is_closed(case):
        raise ActionRefused(f"案件尚未办结（{case_actions.state_label(case.status)}），办结后才能推荐为典型案例")
    reason = _check_text(reason, "reason", 2000)
    title = _check_text(title, "title", 200, multiline=False)
    writeup = _check_text(writeup, "writeup", 20000)
    method = _check_text(method, "method", 200, required=False, multiline=False)
    legal_basis = _check_text(legal_basis, "legal_basis", 2000, required=False)
    check_writeup(case, title, writeup)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        if TypicalCase.objects.filter(case=case).exclude(status__in=("rejected",)).exists():
            raise ActionRefused("该案件已被推荐为典型案例（审核中或已入库），不能重复推荐")
        tc = TypicalCase.objects.create(
            case=case, status=initial_state(), level=case_actions.user_level(user) if user.region_id else 1,
            title=title, reason=reason, writeup=writeup, method=method, legal_basis=legal_basis,
            case_type=case.case_type, mediation_type=case.mediation_type, tags=list(case.tags or []),
            region=user.region or case.region, proposed_by=user)
        case_actions.trace(case, "typical", f"{user}：推荐为典型案例", user)
        notify(_reviewers(tc), "review", f"待审核典型案例：{tc.title}", f"{user} 推荐了典型案例，请审核。", None)
    return tc


def edit(tc: TypicalCase, user, *, title: str, writeup: str, reason: str, method: str = "",
         legal_basis: str = "") -> TypicalCase:
    """The proposer's side edits the write-up while it is not yet decided (or was returned)."""
    if not in_scope(user, tc) or not user.has_perm("cases.change_case"):
        raise ActionRefused("您不能修改该典型案例")
    if tc.status == "approved" or tc.status == "rejected":
        raise ActionRefused("已审核的典型案例不能再修改")
    tc.title = _check_text(title, "title", 200, multiline=False)
    tc.writeup = _check_text(writeup, "writeup", 20000)
    tc.reason = _check_text(reason, "reason", 2000)
    tc.method = _check_text(method, "method", 200, required=False, multiline=False)
    tc.legal_basis = _check_text(legal_basis, "legal_basis", 2000, required=False)
    check_writeup(tc.case, tc.title, tc.writeup)
    tc.save()
    return tc


def decide(tc: TypicalCase, action: str, user, *, opinion: str = "", typical_level: str = "") -> TypicalCase:
    """Fire a workflow action on a proposal (审核通过 / 退回修改 / 不予采用 / 重新提交). Approval
    needs a 典型级别 and puts the anonymised write-up into the search index."""
    opinion = _check_text(opinion, "opinion", fieldtypes.long_text_max(), required=False)
    with transaction.atomic():
        tc = TypicalCase.objects.select_for_update().select_related("case", "region").get(pk=tc.pk)
        t = next((t for t in available_actions(tc, user) if t.action == action), None)
        if t is None:
            found = workflow().find(tc.status, action)
            if found is not None and found.decision and not may_decide(user, tc):
                raise ActionRefused("典型案例由推荐单位的上级审核，您不能审核本级推荐的案例")
            raise ActionRefused(f"当前状态下不能执行“{action}”")
        if t.opinion and not opinion:
            raise ActionRefused(f"“{action}”需要填写意见")
        now = timezone.now()
        if t.decision == "approve":
            levels = registry.get_dictionary("typical_level")
            if typical_level not in levels:
                raise ValidationError({"typical_level": "请选择典型级别"})
            tc.typical_level = typical_level
            tc.approved_at = now
            check_writeup(tc.case, tc.title, tc.writeup)
        source = tc.status
        if not TypicalCase.objects.filter(pk=tc.pk, status=source).update(status=t.target):
            raise ActionRefused("该典型案例已由他人处理，请刷新后查看")
        tc.status = t.target
        if t.decision:
            tc.decided_by, tc.decided_at, tc.opinion = user, now, opinion
        tc.save()
        case_actions.trace(tc.case, "typical", f"{user}：典型案例“{action}”" + (f"，意见：{opinion}" if opinion else ""),
                           user)
        search.index_typical(tc)
        if tc.status == "approved":
            search.remove("case", [tc.case_id])  # the library entry stands for the closed case now
        if t.decision and tc.proposed_by_id and tc.proposed_by_id != user.pk:
            notify([tc.proposed_by], "result", f"典型案例审核：{action}", f"{tc.title}：{opinion or action}", None)
        elif not t.decision:
            notify(_reviewers(tc), "review", f"待审核典型案例：{tc.title}", f"{user} 重新提交了典型案例。", None)
    return tc


# --- 重点事 ----------------------------------------------------------------------------------------
def mark_key_matter(case: Case, user, *, level: str, leader: str, reason: str) -> KeyMatter:
    if not user.has_perm("cases.change_case") or not case_actions.in_scope(user, case):
        raise ActionRefused("案件不在您的管辖范围内")
    errors = {}
    if level not in registry.get_dictionary("key_matter_level"):
        errors["level"] = "请选择重点级别"
    try:
        leader = _check_text(leader, "leader", 50, multiline=False)
        reason = _check_text(reason, "reason", 2000)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        Case.objects.select_for_update().filter(pk=case.pk).first()
        km = KeyMatter.objects.filter(case=case).first()
        if km is not None and km.state == "open":
            raise ActionRefused("该案件已是管控中的重点事")
        if km is None:
            km = KeyMatter(case=case)
        km.level, km.leader, km.reason, km.state = level, leader, reason, "open"
        km.region_path, km.marked_by, km.marked_at, km.closed_at, km.close_note = \
            case.region_path, user, timezone.now(), None, ""
        km.save()
        case_actions.trace(case, "key_matter", f"{user}：列为重点事（包案领导 {leader}）", user)
    return km


def close_key_matter(km: KeyMatter, user, *, note: str) -> KeyMatter:
    if not user.has_perm("cases.change_case") or not case_actions.in_scope(user, km.case):
        raise ActionRefused("案件不在您的管辖范围内")
    note = _check_text(note, "close_note", 2000)
    with transaction.atomic():
        if not KeyMatter.objects.filter(pk=km.pk, state="open").update(state="closed", closed_at=timezone.now(),
                                                                        close_note=note):
            raise ActionRefused("该重点事已销号")
        km.refresh_from_db()
        case_actions.trace(km.case, "key_matter", f"{user}：重点事销号", user)
    return km


def open_key_matter(case: Case) -> bool:
    """cases.actions asks this (registered in AppConfig.ready): visits on an open key matter."""
    return KeyMatter.objects.filter(case_id=case.pk, state="open").exists()
