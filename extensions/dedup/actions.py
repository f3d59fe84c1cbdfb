"""Staff decisions on verdicts — one function per user action, each one transaction.

    decide(pair, user, "confirm" | "reject")   a "same" confirmation merges the two records'
                                               一件事档案 (links only; no record changes)
    split(key, user)                           takes a record out of its file again; its
                                               confirmed "same" pairs inside the file become
                                               rejected, so the model never re-proposes them
A case involved gets a CaseEvent (its trace shows who merged / split it and when).
"""
from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from extensions.dedup.models import DedupGroup, GroupMember, Pair, Signature


class DecisionError(ValueError):
    """Shown to the user as is (Chinese)."""


def _trace(keys, message: str, user) -> None:
    from cases.models import CaseEvent

    ids = Signature.objects.filter(key__in=list(keys), kind="case").values_list("obj_id", flat=True)
    CaseEvent.objects.bulk_create([CaseEvent(case_id=pk, kind="dedup", message=message[:500], actor=user)
                                   for pk in ids])


def _merge(keys: list[str], user) -> DedupGroup:
    members = {m.key: m for m in GroupMember.objects.select_for_update().filter(key__in=keys)}
    groups = sorted({m.group_id for m in members.values()})
    if groups:
        group = DedupGroup.objects.get(pk=groups[0])
        if len(groups) > 1:  # two files describe one dispute: fold the later ones in
            GroupMember.objects.filter(group_id__in=groups[1:]).update(group=group)
            DedupGroup.objects.filter(pk__in=groups[1:]).delete()
    else:
        sigs = list(Signature.objects.filter(key__in=keys).order_by("reported_at", "key"))
        paths = [s.region_path for s in sigs if s.region_path]
        prefix = paths[0] if paths else ""
        for p in paths[1:]:
            while not p.startswith(prefix):
                prefix = prefix[:-1]
        title = next((s.title for s in sigs if s.title), keys[0])
        group = DedupGroup.objects.create(name=f"一件事档案：{title}"[:200], region_path=prefix, created_by=user)
    now = timezone.now()
    GroupMember.objects.bulk_create([GroupMember(group=group, key=k, added_by=user, added_at=now)
                                     for k in keys if k not in members])
    return group


def decide(pair: Pair, user, decision: str) -> Pair:
    if decision not in ("confirm", "reject"):
        raise DecisionError("未知的操作")
    with transaction.atomic():
        locked = Pair.objects.select_for_update().get(pk=pair.pk)
        if locked.status != "proposed":
            raise DecisionError(f"该研判结果已{locked.get_status_display()}，无需重复操作")
        locked.status = "confirmed" if decision == "confirm" else "rejected"
        locked.decided_by, locked.decided_at = user, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        verdict = locked.get_verdict_display()
        if decision == "confirm" and locked.verdict == "same":
            group = _merge([locked.a_key, locked.b_key], user)
            _trace([locked.a_key, locked.b_key], f"确认{verdict}（{locked.a_key} 与 {locked.b_key}），"
                                                 f"并入{group.name}", user)
        else:
            _trace([locked.a_key, locked.b_key],
                   f"{'确认' if decision == 'confirm' else '否决'}{verdict}（{locked.a_key} 与 {locked.b_key}）", user)
    return locked


def split(key: str, user) -> None:
    with transaction.atomic():
        member = GroupMember.objects.select_for_update().filter(key=key).select_related("group").first()
        if member is None:
            raise DecisionError("该记录不在任何一件事档案中")
        group = member.group
        others = list(GroupMember.objects.filter(group=group).exclude(key=key).values_list("key", flat=True))
        member.delete()
        Pair.objects.filter(Q(a_key=key, b_key__in=others) | Q(b_key=key, a_key__in=others),
                            verdict="same").update(status="rejected", decided_by=user, decided_at=timezone.now())
        _trace([key, *others], f"{key} 移出{group.name}", user)
        if len(others) < 2:
            GroupMember.objects.filter(group=group).delete()
            group.delete()
