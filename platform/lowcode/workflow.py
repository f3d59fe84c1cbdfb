"""Workflow metadata → states, transitions and timers of a record (Frappe's Workflow:
state, action, next state, allowed roles, condition), plus review steps and chase timers."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from lowcode import expressions
from lowcode.registry import EntityMeta


@dataclass(frozen=True)
class State:
    name: str
    review: str = ""      # a review step: its outgoing transitions are the decisions
    closed: bool = False  # handling is over: no time limit, no chasing


@dataclass(frozen=True)
class Transition:
    action: str
    source: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    condition: str = ""
    form: str = ""            # what the action collects (e.g. "result", "help")
    decision: str = ""        # approve / return / reject: a decision on a review step
    opinion: bool = False     # an opinion is required
    effects: tuple[str, ...] = ()

    def allows_role(self, roles) -> bool:
        return not self.roles or bool(set(roles) & set(self.roles))


@dataclass(frozen=True)
class Timer:
    state: str
    remind_after_hours: float | None = None
    escalate_after_hours: float | None = None
    stale_after_days: float | None = None


@dataclass(frozen=True)
class WorkflowSpec:
    state_field: str
    states: dict[str, State]
    transitions: tuple[Transition, ...]
    timers: tuple[Timer, ...]

    def state(self, name: str) -> State:
        return self.states.get(name) or State(name)

    def allowed(self, state: str, roles, values: Mapping[str, Any]) -> list[Transition]:
        """Transitions from ``state`` that one of ``roles`` may fire and whose condition holds."""
        return [t for t in self.transitions
                if state in t.source and t.allows_role(roles) and expressions.holds(t.condition, values)]

    def find(self, state: str, action: str) -> Transition | None:
        return next((t for t in self.transitions if t.action == action and state in t.source), None)

    def review_states(self) -> list[str]:
        return [s.name for s in self.states.values() if s.review]

    def open_states(self) -> list[str]:
        return [s.name for s in self.states.values() if not s.closed]

    def reviewer_roles(self, state: str) -> set[str]:
        return {r for t in self.transitions if state in t.source and t.decision for r in t.roles}


def _state(entry) -> State:
    if isinstance(entry, str):
        return State(entry)
    return State(entry["name"], entry.get("review", ""), bool(entry.get("closed", False)))


def _transition(t: dict) -> Transition:
    return Transition(t["action"], tuple(t.get("from", ())), t["to"], tuple(t.get("roles", ())),
                      t.get("condition", ""), t.get("form", ""), t.get("decision", ""),
                      bool(t.get("opinion", False)), tuple(t.get("effects", ())))


def workflow_for(meta: EntityMeta, scope_value: str | None) -> WorkflowSpec | None:
    """The most specific workflow: the scope's own, then its parents', then the default."""
    for scope in meta.scope_chain(scope_value) + [""]:
        wf = meta.workflows.get(scope)
        if wf:
            states = {s.name: s for s in map(_state, wf["states"])}
            timers = tuple(Timer(t["state"], t.get("remind_after_hours"), t.get("escalate_after_hours"),
                                 t.get("stale_after_days")) for t in wf.get("timers") or ())
            return WorkflowSpec(wf["state_field"], states, tuple(map(_transition, wf["transitions"])), timers)
    return None


def allowed_transitions(meta: EntityMeta, scope_value: str | None, state: str,
                        roles: tuple[str, ...], values: Mapping[str, Any]) -> list[Transition]:
    wf = workflow_for(meta, scope_value)
    return wf.allowed(state, roles, values) if wf else []
