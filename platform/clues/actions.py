"""Clue library actions (service layer, like cases.actions): 分派, 转为案件, 关闭. Each one re-reads
the clues under the acting user's scope, writes in one transaction, leaves a trace (the clue's
history with a change reason; on a converted case a CaseEvent) and notifies whom it concerns.
Refusals are ActionRefused with the reason in Chinese.

Scope of clues (``scoped_clues``): by ``Clue.region_path`` like every region-owned row. A clue
without a region (ingest falls back to the district, so this is rare: no region configured at
ingest time) is seen only by superusers and district-level users (region level 1) — someone at
the top has to place it; street and community users never see it.
"""
from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.scope import scope_q
from cases.actions import ActionRefused, trace
from clues.models import Clue
from notices.actions import case_label, notify
from orgs.models import Region

HISTORY_REASON = {"assign": "分派线索", "convert": "线索转为案件", "close": "关闭线索"}
OPEN_STATUSES = ("new", "assigned")

__all__ = ["ActionRefused", "scoped_clues", "assign_clues", "convert_clue", "close_clues",
           "region_ok_for_case", "users_for_assignment"]


def is_district_level(user) -> bool:
    region = getattr(user, "region", None)
    return bool(user.is_authenticated and user.is_active and region is not None
                and region.level == Region.Level.DISTRICT)


def scoped_clues(user, queryset: QuerySet | None = None) -> QuerySet:
    """The clues ``user`` may see (see the module doc for clues without region)."""
    qs = Clue.objects.all() if queryset is None else queryset
    q = scope_q(user, "region_path")
    if q is None:
        return qs
    if is_district_level(user):
        q |= Q(region_path="")
    return qs.filter(q)


def users_for_assignment(user):
    """Active users the acting user may assign clues to: those whose region is in the acting
    user's subtree (superusers: every user with a region)."""
    users = get_user_model().objects.filter(is_active=True, region__isnull=False)
    q = scope_q(user, "region__path")
    return (users if q is None else users.filter(q)).select_related("region").order_by("region__path", "username")


def _locked(clues, user) -> list[Clue]:
    pks = [c.pk for c in clues]
    if not pks:
        raise ActionRefused("没有选择线索")
    rows = list(scoped_clues(user, Clue.objects.select_for_update().filter(pk__in=pks)).order_by("pk"))
    if len(rows) != len(set(pks)):
        raise ActionRefused("所选线索中有不存在或不在您管辖范围内的记录，未做任何处理")
    return rows


def _refuse_closed(rows: list[Clue], what: str) -> None:
    done = [c for c in rows if c.status not in OPEN_STATUSES]
    if done:
        names = "、".join(f"{c.record_key}（{c.get_status_display()}）" for c in done[:5])
        more = f"等 {len(done)} 条" if len(done) > 5 else ""
        raise ActionRefused(f"以下线索已转案件或已关闭，不能{what}：{names}{more}")


def _save(clue: Clue, user, reason: str, fields: list[str]) -> None:
    clue._change_reason = reason
    clue._history_user = user
    clue.save(update_fields=[*fields, "updated_at"])


def _check_handler(user) -> None:
    if not user.has_perm("clues.change_clue"):
        raise ActionRefused("您没有处理线索的权限")


@transaction.atomic
def assign_clues(clues, user, assignee) -> int:
    """分派: the clues go to ``assignee`` (who must be in the user's scope and able to see them)."""
    _check_handler(user)
    if assignee is None or not assignee.is_active:
        raise ActionRefused("请选择有效的处理人")
    if not users_for_assignment(user).filter(pk=assignee.pk).exists():
        raise ActionRefused(f"处理人“{assignee}”不在您的管辖范围内")
    rows = _locked(clues, user)
    _refuse_closed(rows, "分派")
    visible = set(scoped_clues(assignee, Clue.objects.filter(pk__in=[c.pk for c in rows]))
                  .values_list("pk", flat=True))
    outside = [c.record_key for c in rows if c.pk not in visible]
    if outside:
        raise ActionRefused(f"处理人“{assignee}”无权查看以下线索（不在其区域内）：{'、'.join(outside[:5])}")
    for clue in rows:
        clue.status, clue.assignee = "assigned", assignee
        _save(clue, user, f"{HISTORY_REASON['assign']}：{assignee}", ["status", "assignee"])
    first = rows[0]
    title = f"分派给您 {len(rows)} 条线索" if len(rows) > 1 else f"分派给您一条线索：{first.record_key}"
    notify([assignee], "system", title[:200], f"分派人：{user}")
    return len(rows)


@transaction.atomic
def close_clues(clues, user, reason: str) -> int:
    """关闭 with a reason (kept in the clue's history and in extra["closed"])."""
    _check_handler(user)
    reason = (reason or "").strip()
    if not reason:
        raise ActionRefused("请填写关闭原因")
    rows = _locked(clues, user)
    _refuse_closed(rows, "关闭")
    now = timezone.now()
    for clue in rows:
        clue.status = "closed"
        clue.extra = {**(clue.extra or {}), "closed": {"reason": reason[:500], "by": user.pk,
                                                       "at": now.isoformat()}}
        _save(clue, user, f"{HISTORY_REASON['close']}：{reason}"[:100], ["status", "extra"])
    assignees = {c.assignee_id: c.assignee for c in rows if c.assignee_id and c.assignee_id != user.pk}
    if assignees:
        notify(assignees.values(), "system", f"线索已关闭（{len(rows)} 条）", f"关闭原因：{reason}")
    return len(rows)


def region_ok_for_case(region) -> bool:
    return region is not None and region.holds_cases


@transaction.atomic
def convert_clue(clue, user, *, region=None, case_type: str = ""):
    """转为案件: a registered case from the clue (title, text, type, address, region, parties with
    their decrypted phones); the clue keeps the link and becomes 已转案件; the case gets a trace.
    ``region`` is required when the clue's own region is above community level."""
    from accounts.scope import regions_for
    from cases.models import Case, Party
    from lowcode.registry import get_dictionary

    _check_handler(user)
    if not user.has_perm("cases.add_case"):
        raise ActionRefused("您没有登记案件的权限，不能把线索转为案件")
    clue = _locked([clue], user)[0]
    _refuse_closed([clue], "转为案件")
    if region is None:
        region = clue.region
        if not region_ok_for_case(region):
            raise ActionRefused("线索所属区域不到社区一级，请选择案件所属的社区（或网格）")
    if not region_ok_for_case(region):
        raise ActionRefused("案件所属区域必须是社区或网格")
    if not regions_for(user).filter(pk=region.pk).exists():
        raise ActionRefused(f"区域“{region}”不在您的管辖范围内")
    types = get_dictionary("case_type")
    case_type = case_type or clue.type_code
    if case_type not in types:
        case_type = "other" if "other" in types else next(iter(types), "")
    if not case_type:
        raise ActionRefused("案件类型字典为空，请联系业务配置管理员")
    parties = list(clue.parties.all())
    title = (clue.title or clue.type_label or clue.text[:40] or clue.record_key)[:200]
    case = Case(title=title, description=clue.text, case_type=case_type, source=clue.channel_id,
                address=(getattr(clue.address_standard, "text", "") or clue.address or clue.address_raw)[:255],
                occurred_at=clue.occurred_at, region=region, registrant=user,
                organization=getattr(user, "organization", None), party_count=max(1, len(parties)),
                extra={"from_clue": {"record_key": clue.record_key, "clue_id": clue.pk,
                                     "type_label": clue.type_label,
                                     "address_quality": clue.address_quality}})
    case._change_reason = HISTORY_REASON["convert"]
    case._history_user = user
    case.save()
    for i, p in enumerate(parties):
        extra = {}
        if not p.name_known:
            extra["name_known"] = False
        if p.phone_masked:
            extra["phone_masked"] = p.phone_masked
        party = Party(case=case, role="applicant" if i == 0 else "respondent", name=(p.name or "不详")[:100],
                      phone=p.phone or "", id_number=p.id_number or "", extra=extra)
        party._change_reason = HISTORY_REASON["convert"]
        party.save()
    clue.status, clue.converted_case = "converted", case
    _save(clue, user, f"{HISTORY_REASON['convert']}：{case.exchange_id}", ["status", "converted_case"])
    trace(case, "transition", f"由线索 {clue.record_key}（{clue.channel}）转为案件", actor=user,
          to_state=case.status)
    if clue.assignee_id and clue.assignee_id != user.pk:
        notify([clue.assignee], "system", f"线索已转为案件：{case_label(case)}"[:200], case.exchange_id, case=case)
    return case
