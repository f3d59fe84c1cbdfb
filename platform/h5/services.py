"""The few writes the case service layer (cases.actions) has no function for yet: registering a
case with its parties from the H5 forms, and the mediation list (调解清单). They follow the
actions' rules: the case in the user's scope, the handling permission, a trace entry."""
from __future__ import annotations

from django.db import transaction

from cases import actions, states
from cases.actions import ActionRefused
from cases.models import Case, MediationItem


def register_case(form, formset, user) -> Case:
    """Save a validated case form and party formset, as CaseAdmin.save_model/save_formset do:
    the registrant and organisation are the user's, the party count covers the parties."""
    with transaction.atomic():
        case = form.save(commit=False)
        case.registrant = user
        case.organization = case.organization or getattr(user, "organization", None)
        case.save()
        form.save_m2m()
        formset.instance = case
        formset.save()
        count = case.parties.count()
        if count > case.party_count:
            Case.objects.filter(pk=case.pk).update(party_count=count)
            case.party_count = count
        actions.trace(case, "register", f"{user}：登记案件", user, "", case.status)
    return case


def require_handler(case: Case, user) -> None:
    if not actions.in_scope(user, case):
        raise ActionRefused("案件不在您的管辖范围内")
    if not user.has_perm("cases.change_case"):
        raise ActionRefused("您没有办理案件的权限")


def require_open(case: Case, what: str) -> None:
    if states.is_closed(case):
        raise ActionRefused(f"案件已办结（{actions.state_label(case.status)}），不能再{what}")


def add_item(case: Case, user, form) -> MediationItem:
    require_handler(case, user)
    require_open(case, "修改调解清单")
    with transaction.atomic():
        item = form.save(commit=False)
        item.case = case
        item.save()
        actions.trace(case, "item", f"{user}：添加调解事项“{item.content}”", user)
    return item


def remove_item(case: Case, user, item_id: int) -> None:
    require_handler(case, user)
    require_open(case, "修改调解清单")
    with transaction.atomic():
        item = MediationItem.objects.filter(case=case, pk=item_id).first()
        if item is None:
            raise ActionRefused("该调解事项不存在或已删除")
        item.delete()
        actions.trace(case, "item", f"{user}：删除调解事项“{item.content}”", user)


def add_log(case: Case, user, data: dict):
    """A mediation log with its photos/attachments (actions.add_log), while the case is open."""
    require_handler(case, user)
    require_open(case, "记录调解日志")
    return actions.add_log(case, user, content=data["content"], occurred_at=data.get("occurred_at"),
                           place=data.get("place", ""), participants=data.get("participants", ""),
                           uploads=data.get("files") or ())
