"""UI slots: named places on a screen that a domain app declares and extensions fill.

The screen-side twin of ``lowcode.hooks``: the engine keeps only names and ordered fillers, so a
domain screen shows what an extension adds without importing it (import contract
``domain-is-extension-free``). The app that owns a screen declares its slots in its
``AppConfig.ready``; an extension fills them in its own ``ready`` (INSTALLED_APPS lists the domain
apps before ``extensions``), and the screen reads them when it renders::

    slots.declare("cases.workbench_panels", "callable (request) -> safe HTML, a card on the 工作台")
    slots.add("cases.workbench_panels", workbench.panel, order=20)
    [panel(request) for panel in slots.items("cases.workbench_panels")]

What a filler must be (a callable and its arguments, a list-filter class, a relation name) is part
of the slot's declaration — the declared slots are listed in docs/architecture.md. Fillers come
out by ``order``, then in the order they were added. Adding the same filler again keeps one (a
named function or class is known by module and name, so a reloaded module replaces its old copy
rather than doubling it); the new ``order`` wins. A slot name nobody declared is refused with the list of
declared ones: a typo must fail at start-up, not make a panel silently disappear.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_ORDER = 100


class UnknownSlot(LookupError):
    """A slot name that no app declared."""


@dataclass
class _Slot:
    doc: str
    fillers: dict[Any, tuple[int, int, Any]] = field(default_factory=dict)  # identity → (order, seq, item)


_slots: dict[str, _Slot] = {}
_seq = 0


def declare(name: str, doc: str) -> str:
    """Declare the slot ``name`` (``"<app label>.<place>"``); ``doc`` says what a filler must be.
    Declaring again keeps the fillers."""
    if name in _slots:
        _slots[name].doc = doc
    else:
        _slots[name] = _Slot(doc)
    return name


def _slot(name: str) -> _Slot:
    try:
        return _slots[name]
    except KeyError:
        known = ", ".join(sorted(_slots)) or "none"
        raise UnknownSlot(f"UI slot {name!r} is not declared (declared: {known}); the app that declares it "
                          "must come before the one filling it in INSTALLED_APPS") from None


def _identity(item: Any) -> Any:
    """A named function or class is known by where it is defined (a reload makes a new object of
    the same definition); anything else (a lambda, a closure, a string) by itself."""
    module, qualname = getattr(item, "__module__", None), getattr(item, "__qualname__", None)
    return (module, qualname) if module and qualname and "<" not in qualname else item


def add(name: str, item: Any, *, order: int = DEFAULT_ORDER) -> None:
    """Put ``item`` into the slot ``name``; lower ``order`` comes first."""
    global _seq
    slot = _slot(name)
    key = _identity(item)
    previous = slot.fillers.get(key)
    if previous is None:
        _seq += 1
    slot.fillers[key] = (order, previous[1] if previous else _seq, item)


def remove(name: str, item: Any) -> None:
    _slot(name).fillers.pop(_identity(item), None)


def items(name: str) -> list:
    """The fillers of ``name`` in display order."""
    return [item for _, _, item in sorted(_slot(name).fillers.values(), key=lambda f: f[:2])]


def declared() -> dict[str, str]:
    """Every declared slot and what its fillers must be."""
    return {name: slot.doc for name, slot in sorted(_slots.items())}
