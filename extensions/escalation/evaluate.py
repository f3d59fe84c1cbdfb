"""Deciding colours. Rules run in priority order; the first one whose condition holds decides
the colour, every rule that holds is a reason. No rule → the default level (绿).

``evaluate_cases`` is the one entry point for cases (hook, daily job, command): it refreshes the
person links of the cases, computes their facts, stores the current colour, and on a change of
colour writes the warning history and notifies the handlers and their superiors."""
from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import threading
from dataclasses import dataclass, field

from django.db import transaction

from extensions.escalation import config as config_mod
from extensions.escalation import facts as F
from lowcode.expressions import CONSTANTS, FUNCTIONS, OPERATORS, holds
from simpleeval import EvalWithCompoundTypes, SimpleEval

logger = logging.getLogger(__name__)
CHUNK = 500
PLACEHOLDER = re.compile(r"\{([^{}\s]+)\}")


@dataclass
class Verdict:
    level: str
    rule: config_mod.Rule | None
    reasons: list[str]
    facts: dict
    by_window: dict = field(default_factory=dict)


def render(template: str, values: dict) -> str:
    """Message template with {事实名称} placeholders (plain names only: no attribute access)."""
    def sub(m):
        value = values.get(m.group(1))
        if value is None:
            return m.group(0)
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, float):
            return f"{value:g}"
        if isinstance(value, list):
            return "、".join(map(str, value))
        return str(value)
    return PLACEHOLDER.sub(sub, template or "")


@functools.lru_cache(maxsize=1024)
def _parsed(condition: str):
    return SimpleEval.parse(condition)


class Conditions:
    """The engine's expression language (lowcode.expressions: same operators, functions, constants
    and "an erroring condition does not hold"), with one evaluator per set of facts and every
    condition parsed once — the daily run checks a dozen rules on hundreds of thousands of cases."""

    _local = threading.local()  # one evaluator per thread, its names swapped per set of facts

    def __init__(self, values: dict):
        names = dict(CONSTANTS)
        names.update(values)
        self.values = values
        evaluator = getattr(self._local, "evaluator", None)
        if evaluator is None:
            evaluator = self._local.evaluator = EvalWithCompoundTypes(operators=OPERATORS, functions=FUNCTIONS)
        self.names = names
        self.evaluator = evaluator

    def _eval(self, condition: str):
        self.evaluator.names = self.names
        return self.evaluator.eval(condition, previously_parsed=_parsed(condition))

    def holds(self, condition: str) -> bool:
        if not condition or not condition.strip():
            return True
        try:
            return bool(self._eval(condition))
        except Exception:  # noqa: BLE001 — as lowcode.expressions.holds: an erroring condition is false
            return holds(condition, self.values)


def decide(cfg: config_mod.Config, target: str, facts_by_window: dict[int, dict]) -> Verdict:
    matched = []
    conditions = {w: Conditions({**cfg.settings, **f}) for w, f in facts_by_window.items()}
    for rule in cfg.rules_for(target):
        c = conditions[rule.window_days]
        if c.holds(rule.condition):
            matched.append((rule, render(rule.message or rule.name, c.values)))
    default_window = min(facts_by_window)
    by_window = {str(w): f for w, f in facts_by_window.items()}
    if not matched:
        return Verdict(cfg.default_level, None, [], facts_by_window[default_window], by_window)
    rule = matched[0][0]
    return Verdict(rule.level, rule, [msg for _, msg in matched], facts_by_window[rule.window_days], by_window)


# --- cases ---------------------------------------------------------------------------------------
@dataclass
class RunReport:
    """``persons``: every person key of the evaluated cases (before and after their links were
    refreshed) — whose 预警名单 row may have moved. ``relinked``: the keys that gained or lost a
    case (only these change other cases' 当事人最多纠纷数). ``recoloured``: the keys of cases whose
    colour changed (only these change other people's 红色/橙色案件数)."""
    evaluated: int = 0
    changed: int = 0
    notified: int = 0
    persons: set = field(default_factory=set)
    relinked: set = field(default_factory=set)
    recoloured: set = field(default_factory=set)
    regrouped: set = field(default_factory=set)     # keys of cases whose same-dispute facts moved
    same_cases: set = field(default_factory=set)    # the same-dispute cases of those cases

    def as_dict(self) -> dict:
        return {"evaluated": self.evaluated, "changed": self.changed, "notified": self.notified,
                "persons": len(self.persons)}


def evaluate_cases(pks, *, now: dt.datetime | None = None, cfg: config_mod.Config | None = None,
                   notify: bool = True, report: RunReport | None = None, links_current: bool = False) -> RunReport:
    """``links_current``: the person links were just refreshed for every case (daily run)."""
    from cases.models import Case

    cfg = cfg or config_mod.load()
    ctx = F.Context(cfg, now)
    report = report or RunReport()
    pks = list(pks)
    if len(pks) > CHUNK:
        ctx.load_all_key_people()  # one query for the run instead of one per chunk
    for start in range(0, len(pks), CHUNK):
        chunk = list(Case.objects.filter(pk__in=pks[start:start + CHUNK]))
        if chunk:
            _evaluate_chunk(chunk, ctx, notify, report, links_current)
    return report


def case_verdicts(cases, ctx: F.Context) -> dict[int, Verdict]:
    """Verdicts for cases with their person links attached; nothing is written."""
    F.load(cases)
    ctx.need_key_people({b for c in cases for b in c._key_bidxs})
    keys = {k for c in cases for k in c._person_keys}
    counts = {w: F.person_counts(keys, ctx.since(w)) for w in ctx.config.windows("case")}
    out = {}
    maybe = F.cases_with_verdicts(cases)
    try:
        groups = F.group_sizes([c for c in cases if c.pk in maybe]) if maybe else {}
    except Exception:  # noqa: BLE001 — as below: warnings go on without the duplicate model
        logger.exception("escalation: group lookup failed")
        groups = {}
    try:
        same = F.same_refs_many([c for c in cases if c.pk in maybe]) if maybe else {}
    except Exception:  # noqa: BLE001 — the duplicate model being down must not stop warnings
        logger.exception("escalation: duplicate lookup failed for %s cases", len(maybe))
        same = {}
    ctx.need_failed({r.pk for refs in same.values() for r in refs if r.kind == "case"})
    for case in cases:
        case._group_size = groups.get(case.pk, 0)
        refs = same.get(case.pk, [])
        case._same_pks = {r.pk for r in refs if r.kind == "case"}
        by_window = {w: F.case_facts(case, ctx, w, counts[w], refs) for w in ctx.config.windows("case")}
        out[case.pk] = decide(ctx.config, "case", by_window)
    return out


def _evaluate_chunk(cases, ctx: F.Context, notify: bool, report: RunReport, links_current: bool) -> None:
    from extensions.escalation import party
    from extensions.escalation.models import CaseWarning, WarningEvent

    if links_current:
        party.attach_links(cases)
    else:
        report.persons |= party.sync_links(cases, relinked=report.relinked)
    verdicts = case_verdicts(cases, ctx)
    current = {w.case_id: w for w in CaseWarning.objects.filter(case__in=[c.pk for c in cases])}
    new, updated, events, changes = [], [], [], []
    memo: dict = {}  # recipients per (region, handling level, registrant, colour)
    for case in cases:
        v = verdicts[case.pk]
        report.evaluated += 1
        old = current.get(case.pk)
        rule_code = v.rule.code if v.rule else ""
        values = dict(level=v.level, rule=rule_code, reasons=v.reasons, facts=v.facts, facts_by_window=v.by_window,
                      region_path=case.region_path, evaluated_at=ctx.now)
        before = old.level if old is not None else ""
        if old is None:
            new.append(CaseWarning(case=case, changed_at=ctx.now, **values))
        elif (old.level, old.rule, old.reasons, old.facts_by_window, old.region_path) != (
                v.level, rule_code, v.reasons, v.by_window, case.region_path):
            if old.level != v.level:
                old.changed_at = ctx.now
            for k, val in values.items():
                setattr(old, k, val)
            updated.append(old)
        if before != v.level:
            changes.append((case, before, v))
            if not links_current:  # what moved for others: only the hook asks (the daily run does all)
                report.recoloured.update(case._person_keys)
        if not links_current and (old is None or _group_facts(old.facts_by_window) != _group_facts(v.by_window)):
            # this case joined or left a dispute (or its failure count moved): the other reports of
            # that dispute count differently now
            report.regrouped.update(case._person_keys)
            report.same_cases |= case._same_pks
    # one transaction per chunk: rows, history and notices of a colour change are written together
    with transaction.atomic():
        if new:
            CaseWarning.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)  # a concurrent run got there first
        if updated:
            CaseWarning.objects.bulk_update(updated, ["level", "rule", "reasons", "facts", "facts_by_window",
                                                      "region_path", "evaluated_at", "changed_at"], batch_size=500)
        for case, old_level, v in changes:
            report.changed += 1
            sent = 0
            if notify and (old_level or ctx.config.level(v.level).notify):
                from extensions.escalation.notify import notify_change

                sent = notify_change(case, ctx.config, old_level, v, memo)
                report.notified += sent
            events.append(WarningEvent(case=case, from_level=old_level, to_level=v.level,
                                       rule=v.rule.code if v.rule else "", rule_name=v.rule.name if v.rule else "",
                                       reasons=v.reasons, facts=v.facts, region_path=case.region_path,
                                       notified=sent, created_at=ctx.now))
        if events:
            WarningEvent.objects.bulk_create(events, batch_size=500)


GROUP_FACTS = ("报告次数", "报警次数", "调解失败次数")  # facts other cases of the same dispute share


def _group_facts(by_window: dict) -> dict:
    return {str(w): tuple((f or {}).get(name) for name in GROUP_FACTS) for w, f in (by_window or {}).items()}


def evaluate_all(now: dt.datetime | None = None, notify: bool = True) -> RunReport:
    """Every case, then every person (the daily run)."""
    from cases.models import Case
    from extensions.escalation import party

    cfg = config_mod.load()
    report = RunReport()
    report.persons = party.index_all()
    pks = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    evaluate_cases(pks, now=now, cfg=cfg, notify=notify, report=report, links_current=True)
    party.evaluate_all_persons(cfg=cfg, now=now)
    return report
