"""The case-state vocabulary, read from metadata and nowhere else: which 案件状态 are closed or
open, which are review steps (and of which kind), which a newly registered case starts in, which
are counted as 调解中, and which 调解结果 count as success.

Sources: the workflows' states (``closed: true``, ``review: <kind>``; the first state listed is
where a case starts, as in Frappe's Workflow) and the dictionaries' attrs (case_status
``counts_as_mediating``, mediation_outcome ``counts_as_success``). A state a business admin adds
or renames in the workflow reaches every list, figure and check that asks here, without code.

Sets over all workflows (for SQL filters) are unions: a state name closed in any workflow is
closed. For one case, ``is_closed`` asks the workflow its type follows."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from django.utils import timezone

from lowcode import registry
from lowcode.workflow import WorkflowSpec, workflow_for


@dataclass(frozen=True)
class Vocabulary:
    closed: frozenset[str]
    open: frozenset[str]          # not closed in some workflow; named positively so the status index serves
    initial: frozenset[str]       # where a registered case starts (登记)
    review_kinds: dict[str, str]  # review state → its kind (result / escalation / dispatch …)
    decided: dict[tuple[str, str], str]  # (review kind, decision) → the state the decision leads to


def workflows() -> list[tuple[str, WorkflowSpec]]:
    """(scope, workflow) of every workflow the case entity has, the default ("") first."""
    return _workflows(registry.current_version())


@lru_cache(maxsize=4)
def _workflows(version: str) -> list[tuple[str, WorkflowSpec]]:
    meta = registry.get_meta("case")
    found = ((scope, workflow_for(meta, scope or None)) for scope in sorted(meta.workflows, key=bool))
    return [(scope, wf) for scope, wf in found if wf is not None]


@lru_cache(maxsize=4)
def _vocabulary(version: str) -> Vocabulary:
    closed, open_, initial, kinds, decided = set(), set(), set(), {}, {}
    for _, wf in _workflows(version):  # the default workflow first: its answers win
        for s in wf.states.values():
            (closed if s.closed else open_).add(s.name)
            if s.review:
                kinds.setdefault(s.name, s.review)
        for t in wf.transitions:
            for source in t.source:
                if t.decision and wf.state(source).review:
                    decided.setdefault((wf.state(source).review, t.decision), t.target)
        if wf.states:
            initial.add(next(iter(wf.states)))
    return Vocabulary(frozenset(closed), frozenset(open_), frozenset(initial), kinds, decided)


def vocabulary() -> Vocabulary:
    return _vocabulary(registry.current_version())


def closed_states() -> frozenset[str]:
    return vocabulary().closed


def open_states() -> frozenset[str]:
    return vocabulary().open


def initial_states() -> frozenset[str]:
    return vocabulary().initial


def review_states(kind: str | None = None) -> list[str]:
    """Review steps, or those of one review kind (e.g. "result": the review that ends handling)."""
    return [s for s, k in vocabulary().review_kinds.items() if kind is None or k == kind]


def decided_state(review_kind: str, decision: str = "approve") -> str:
    """Where a review of this kind leads when decided so: an approved dispatch review → the state
    a case waits in for its third party (已发单); a returned one → back to mediation."""
    try:
        return vocabulary().decided[(review_kind, decision)]
    except KeyError:
        raise LookupError(f"流程中没有“{review_kind}”审核的“{decision}”决定") from None


def in_progress_states() -> frozenset[str]:
    """Past the start and not closed (in any workflow): being mediated, in review, waiting on a
    help request — every state that is neither 登记 nor 已办结 lands here."""
    v = vocabulary()
    return v.open - v.initial - v.closed


@lru_cache(maxsize=64)
def _workflow_for_type(version: str, case_type: str) -> WorkflowSpec | None:
    return workflow_for(registry.get_meta("case"), case_type)


def workflow_of(case) -> WorkflowSpec | None:
    """The workflow a case follows (cached per metadata version), None if none is configured."""
    return _workflow_for_type(registry.current_version(), case.case_type or "")


def initial_state(case_type: str | None) -> str:
    """Where a newly registered case of this type starts: the first state of the workflow the
    type follows (its own, an ancestor type's, or the default one)."""
    wf = _workflow_for_type(registry.current_version(), case_type or "")
    if wf is None or not wf.states:
        raise LookupError(f"案件类型“{case_type or '（空）'}”没有可用的流程，请业务配置管理员在“流程”中配置")
    return next(iter(wf.states))


def is_closed(case) -> bool:
    wf = workflow_of(case)
    return bool(wf and wf.state(case.status).closed)


def is_overdue(case, now: dt.datetime | None = None) -> bool:
    return bool(case.deadline and case.deadline < (now or timezone.now()) and not is_closed(case))


def mediating_states() -> list[str]:
    """States counted in the 调解中 figure: case_status items with attrs.counts_as_mediating."""
    return [c for c, e in registry.get_dictionary("case_status").items() if e.attrs.get("counts_as_mediating")]


def success_outcomes() -> list[str]:
    """Outcomes counted as 成功: mediation_outcome items with attrs.counts_as_success."""
    return [c for c, e in registry.get_dictionary("mediation_outcome").items() if e.attrs.get("counts_as_success")]
