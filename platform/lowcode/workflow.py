"""Workflow metadata → the transitions a user may fire on a record now (Frappe's Workflow
Transition: state, action, next state, allowed roles, condition)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from lowcode import expressions
from lowcode.registry import EntityMeta


@dataclass(frozen=True)
class Transition:
    action: str
    source: tuple[str, ...]
    target: str
    roles: tuple[str, ...]
    condition: str
    review_role: str


def workflow_for(meta: EntityMeta, scope_value: str | None) -> dict | None:
    for scope in meta.scope_chain(scope_value) + [""]:
        if scope in meta.workflows:
            return meta.workflows[scope]
    return None


def transitions(meta: EntityMeta, scope_value: str | None) -> list[Transition]:
    wf = workflow_for(meta, scope_value)
    if not wf:
        return []
    return [Transition(t["action"], tuple(t.get("from", ())), t["to"], tuple(t.get("roles", ())),
                       t.get("condition", ""), t.get("review_role", "")) for t in wf["transitions"]]


def allowed_transitions(meta: EntityMeta, scope_value: str | None, state: str,
                        roles: tuple[str, ...], values: Mapping[str, Any]) -> list[Transition]:
    """Transitions from ``state`` that one of ``roles`` may fire and whose condition holds."""
    return [t for t in transitions(meta, scope_value)
            if state in t.source and (not t.roles or set(roles) & set(t.roles))
            and expressions.holds(t.condition, values)]
