"""办理时限检查与催办, run hourly by django-q2 (``cases.tasks.check_deadlines``) or by hand
(``manage.py check_deadlines``).

Every threshold is metadata: a case type's ``time_limit_days`` (dictionary attrs → Case.deadline)
and the workflow's ``timers`` (remind_after_hours / escalate_after_hours for review states,
stale_after_days for handling states). A state without a timer is not chased; a case type
without a time limit has no deadline. Nothing here has a threshold of its own.

Each check is idempotent and safe to run twice at once:
- overdue: one "overdue" event per case, ever (checked again under the case row lock);
- review reminder / escalation: once each per review (compare-and-set on reminded_at /
  escalated_at);
- stale: once per stale period — not again until there was progress after the last "stale" event.
Every reminder and escalation leaves a CaseEvent on the case and notices in the message center.
"""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases import actions
from cases.models import Case, CaseEvent, Review
from lowcode import registry
from lowcode.workflow import WorkflowSpec, workflow_for
from notices.actions import case_label, notify

KINDS = ("overdue", "reminded", "escalated", "stale")


def check_all(now: dt.datetime | None = None) -> dict[str, int]:
    """All checks; counts of what was flagged, reminded and escalated in this run."""
    now = now or timezone.now()
    counts = {"overdue": flag_overdue(now)}
    counts.update(chase_reviews(now))
    counts["stale"] = flag_stale(now)
    return counts


# --- overdue -----------------------------------------------------------------------------
def flag_overdue(now: dt.datetime | None = None) -> int:
    """Open cases past their deadline: one "overdue" event and a notice to the handlers, once."""
    now = now or timezone.now()
    handlers = _Memo(actions.handlers_for, lambda c: (c.region_path, c.level, c.registrant_id))
    flagged = 0
    for wf, types in workflows_in_use():
        closed = closed_states(wf)
        pks = list(Case.objects.filter(case_type__in=types, deadline__lt=now).exclude(status__in=closed)
                   .exclude(Exists(CaseEvent.objects.filter(case=OuterRef("pk"), kind="overdue")))
                   .order_by("deadline").values_list("pk", flat=True))
        for pk in pks:
            with transaction.atomic():
                case = _locked(pk)
                if (case is None or case.status in closed or case.deadline is None or case.deadline >= now
                        or CaseEvent.objects.filter(case=case, kind="overdue").exists()):
                    continue
                to = handlers(case)
                deadline = timezone.localtime(case.deadline).strftime("%Y-%m-%d")
                _event(case, "overdue", f"系统：案件已超过办理期限（{deadline}），已提醒 {_names(to)}", now)
                notify(to, "overdue", f"超期提醒：{case_label(case)}",
                       f"案件 {case.exchange_id}（{actions.state_label(case.status)}）已超过办理期限 {deadline}，"
                       "请尽快办理。", case, digest=True)
                flagged += 1
    return flagged


# --- reviews waiting too long ------------------------------------------------------------------
def chase_reviews(now: dt.datetime | None = None) -> dict[str, int]:
    """Pending reviews past the state's remind_after_hours → the reviewers are reminded; past
    escalate_after_hours → the reviewers' superiors are told. Each once per review."""
    now = now or timezone.now()
    reviewers = _Memo(lambda c, state, above=None: actions.reviewers_for(c, state, above_level=above),
                      lambda c, state, above=None: (c.case_type, c.region_path, c.level, state, above))
    counts = {"reminded": 0, "escalated": 0}
    for wf, types in workflows_in_use():
        for timer in wf.timers:
            if not wf.state(timer.state).review:
                continue
            pending = Review.objects.filter(status="pending", state=timer.state, case__case_type__in=types,
                                            case__status=timer.state)
            if timer.remind_after_hours:
                since = now - dt.timedelta(hours=float(timer.remind_after_hours))
                for pk in list(pending.filter(reminded_at__isnull=True, submitted_at__lt=since)
                               .order_by("submitted_at").values_list("pk", flat=True)):
                    counts["reminded"] += _remind(pk, now, reviewers)
            if timer.escalate_after_hours:
                since = now - dt.timedelta(hours=float(timer.escalate_after_hours))
                for pk in list(pending.filter(escalated_at__isnull=True, submitted_at__lt=since)
                               .order_by("submitted_at").values_list("pk", flat=True)):
                    counts["escalated"] += _escalate(pk, now, reviewers)
    return counts


def nearest_reviewers(case: Case, state: str, reviewers=None) -> tuple[list, int]:
    """The reviewers closest to the case (e.g. the street for a community case) and their level.
    ``actions.reviewers_for`` answers every level above the handling level; the first reminder
    goes to the nearest one, the escalation to the levels above it."""
    everyone = (reviewers or actions.reviewers_for)(case, state)
    if not everyone:
        return [], case.level
    level = max(actions.user_level(u) for u in everyone)
    return [u for u in everyone if actions.user_level(u) == level], level


def _remind(pk: int, now: dt.datetime, reviewers) -> int:
    with transaction.atomic():
        if not Review.objects.filter(pk=pk, status="pending", reminded_at__isnull=True).update(reminded_at=now):
            return 0  # decided meanwhile, or another run reminded it
        review = Review.objects.select_related("case").get(pk=pk)
        case, label = review.case, actions.state_label(review.state)
        to, _ = nearest_reviewers(case, review.state, reviewers)
        waited = _waited(now - review.submitted_at)
        _event(case, "remind", f"系统：{label}已等待 {waited}，已催办 {_names(to)}", now)
        notify(to, "remind", f"催办：{case_label(case)}（{label}）",
               f"案件 {case.exchange_id} 的{label}已等待 {waited}，请尽快审核。", case, digest=True)
    return 1


def _escalate(pk: int, now: dt.datetime, reviewers) -> int:
    with transaction.atomic():
        if not Review.objects.filter(pk=pk, status="pending", escalated_at__isnull=True).update(escalated_at=now):
            return 0
        review = Review.objects.select_related("case").get(pk=pk)
        case, label = review.case, actions.state_label(review.state)
        waiting, level = nearest_reviewers(case, review.state, reviewers)
        superiors = reviewers(case, review.state, level)
        waited = _waited(now - review.submitted_at)
        if superiors:
            _event(case, "escalate", f"系统：{label}已等待 {waited}，{_names(waiting)} 尚未审核，"
                                     f"已上报 {_names(superiors)}", now)
            notify(superiors, "remind", f"审核超时上报：{case_label(case)}（{label}）",
                   f"案件 {case.exchange_id} 的{label}已等待 {waited}，{_names(waiting)} 尚未审核，请督促处理。",
                   case, digest=True)
        else:  # the nearest reviewers are the top level: nobody to escalate to, chase them again
            _event(case, "escalate", f"系统：{label}已等待 {waited}，已无上级可上报，再次催办 {_names(waiting)}", now)
            notify(waiting, "remind", f"再次催办：{case_label(case)}（{label}）",
                   f"案件 {case.exchange_id} 的{label}已等待 {waited}，请尽快审核。", case, digest=True)
    return 1


# --- no progress -------------------------------------------------------------------------------
def flag_stale(now: dt.datetime | None = None) -> int:
    """Open cases in a state with stale_after_days and no progress (last_progress_at, else
    registered_at) for that long: a "stale" event and a notice to the handlers — once per stale
    period, i.e. not again until there was progress after the last "stale" event."""
    now = now or timezone.now()
    handlers = _Memo(actions.handlers_for, lambda c: (c.region_path, c.level, c.registrant_id))
    flagged = 0
    for wf, types in workflows_in_use():
        for timer in wf.timers:
            if not timer.stale_after_days or wf.state(timer.state).closed:
                continue
            days = float(timer.stale_after_days)
            cutoff = now - dt.timedelta(days=days)
            pks = list(Case.objects.filter(case_type__in=types, status=timer.state)
                       .annotate(progress=Coalesce("last_progress_at", "registered_at"))
                       .filter(progress__lt=cutoff)
                       .exclude(Exists(CaseEvent.objects.filter(case=OuterRef("pk"), kind="stale",
                                                                created_at__gte=OuterRef("progress"))))
                       .order_by("progress").values_list("pk", flat=True))
            for pk in pks:
                with transaction.atomic():
                    case = _locked(pk)
                    if case is None or case.status != timer.state:
                        continue
                    progress = case.last_progress_at or case.registered_at
                    if progress >= cutoff or CaseEvent.objects.filter(case=case, kind="stale",
                                                                      created_at__gte=progress).exists():
                        continue
                    to = handlers(case)
                    idle = (now - progress).days
                    label = actions.state_label(case.status)
                    _event(case, "stale", f"系统：案件已 {idle} 天无进展（{label}），已提醒 {_names(to)}", now)
                    notify(to, "remind", f"无进展提醒：{case_label(case)}",
                           f"案件 {case.exchange_id} 处于“{label}”，已 {idle} 天没有进展，请尽快办理。", case, digest=True)
                    flagged += 1
    return flagged


# --- helpers -----------------------------------------------------------------------------------
def workflows_in_use() -> list[tuple[WorkflowSpec, list[str]]]:
    """Each distinct workflow with the case types (present in the data) it governs."""
    meta = registry.get_meta("case")
    groups: list[tuple[WorkflowSpec, list[str]]] = []
    for case_type in sorted(Case.objects.order_by().values_list("case_type", flat=True).distinct()):
        wf = workflow_for(meta, case_type)
        if wf is None:
            continue
        for spec, types in groups:
            if spec == wf:
                types.append(case_type)
                break
        else:
            groups.append((wf, [case_type]))
    return groups


def closed_states(wf: WorkflowSpec) -> list[str]:
    return [s.name for s in wf.states.values() if s.closed]


def _locked(pk: int) -> Case | None:
    """The case row, locked until the end of the transaction (a second run waits, then re-checks)."""
    return Case.objects.select_for_update().filter(pk=pk).first()


def _event(case: Case, kind: str, message: str, now: dt.datetime) -> CaseEvent:
    return CaseEvent.objects.create(case=case, kind=kind, message=message[:500], created_at=now)


def _unique(users) -> list:
    seen, out = set(), []
    for u in users:
        if u.pk not in seen:
            seen.add(u.pk)
            out.append(u)
    return out


def _names(users, limit: int = 5) -> str:
    names = [str(u) for u in _unique(users)]
    if not names:
        return "（无可通知人员）"
    return "、".join(names[:limit]) + (f" 等 {len(names)} 人" if len(names) > limit else "")


def _waited(delta: dt.timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} 小时" if hours < 72 else f"{hours // 24} 天"


class _Memo:
    """Recipients per run: many cases share a region, level and workflow."""

    def __init__(self, fn, key):
        self.fn, self.key, self.cache = fn, key, {}

    def __call__(self, *args):
        k = self.key(*args)
        if k not in self.cache:
            self.cache[k] = _unique(self.fn(*args))
        return self.cache[k]
