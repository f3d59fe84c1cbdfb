"""The writes the third-party ends need that no other service layer has: the organisation's
profile and a party added to an awarded case. Everything else is a call into ``dispatch.actions``,
``dispatch.accounts`` or ``cases.actions``. Same rules as those: checks first, then the write and
the case trace in one transaction; refusals are ``ActionRefused`` with a Chinese message."""
from __future__ import annotations

from django.db import transaction

from cases import actions, states
from cases.actions import ActionRefused
from cases.models import Case, Party
from dispatch import accounts as tp_accounts
from dispatch.scope import is_org_admin, third_party_org
from partners.models import OrgProfile


def profile_of(org) -> OrgProfile:
    return OrgProfile.objects.filter(organization=org).first() or OrgProfile(organization=org)


def save_org_info(user, form) -> OrgProfile:
    """组织信息: the org admin updates the own organisation's contact (dispatch.accounts) and
    profile; name, kind, region and status stay with the district."""
    org = third_party_org(user)
    if org is None or not is_org_admin(user) or form.instance.organization_id != org.pk:
        raise ActionRefused("只有本组织的管理员可以修改组织信息")
    with transaction.atomic():
        tp_accounts.update_org(user, org, contact=form.cleaned_data.get("contact", ""))
        profile = form.save(commit=False)
        profile.updated_by = user
        profile.save()
    return profile


def add_party(case: Case, user, form) -> Party:
    """调解当事人: a party added by the awarded organisation while the case is open (the case
    is reachable only through the award's grant, so ``in_scope`` is the award check)."""
    if not actions.in_scope(user, case):
        raise ActionRefused("案件不在您的办理范围内")
    if not user.has_perm("cases.add_party"):
        raise ActionRefused("您没有添加当事人的权限")
    waiting_for_voucher = case.status == states.decided_state("dispatch")  # 已发单: not confirmed yet
    if states.is_closed(case) or waiting_for_voucher:
        raise ActionRefused(f"案件当前为“{actions.state_label(case.status)}”，不能添加当事人"
                            + ("（请先确认凭证）" if waiting_for_voucher else ""))
    with transaction.atomic():
        party = form.save(commit=False)
        party.case = case
        party.save()
        count = case.parties.count()
        if count > case.party_count:
            Case.objects.filter(pk=case.pk).update(party_count=count)
        actions.trace(case, "party", f"{user}：添加当事人“{party.name}”", user)
    return party
