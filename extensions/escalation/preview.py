"""Preview before saving: how many open cases (or people) in the admin's scope each colour would hold
with the edited record in place of the saved one, against the colours they hold now, and
examples of what moves. Nothing is written.

Case facts are taken from the stored evaluation (``CaseWarning.facts_by_window``), so the
preview covers every current case without recomputing facts; cases never evaluated, or a rule
window nobody computed yet, are computed live for at most LIVE_LIMIT cases (said on the page)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


from accounts.scope import scope_q
from lowcode import registry
from secure.samples import mask_name
from extensions.escalation import config as config_mod
from extensions.escalation import facts as F

LIVE_LIMIT = 300
CASE_LIMIT = 50000
PERSON_LIMIT = 5000
EXAMPLES = 8


@dataclass
class Preview:
    target: str
    rows: list = field(default_factory=list)        # [(level, before, after)]
    examples: list = field(default_factory=list)    # [(label, url, before level, after level, reasons)]
    total: int = 0
    notes: list = field(default_factory=list)


def _scoped(qs, user, path: str):
    q = scope_q(user, path, qs.model)
    return qs if q is None else qs.filter(q)


def preview(user, replace) -> Preview:
    from extensions.escalation.evaluate import decide

    before_cfg = config_mod.load()
    after_cfg = config_mod.load(replace=replace)
    target = getattr(replace, "target", None) or "case"
    out = Preview(target=target)
    if target == "case":
        changes = _case_preview(user, before_cfg, after_cfg, decide, out)
    else:
        changes = _party_preview(user, before_cfg, after_cfg, decide, out)
    before = Counter(b for b, _, _, _ in changes)
    after = Counter(a for _, a, _, _ in changes)
    levels = sorted(after_cfg.levels.values(), key=lambda lv: lv.order)
    out.rows = [(lv, before.get(lv.key, 0), after.get(lv.key, 0), _delta(after.get(lv.key, 0) - before.get(lv.key, 0)))
                for lv in levels]
    out.total = len(changes)
    moved = [c for c in changes if c[0] != c[1]]
    out.examples = [(label, url, after_cfg.level(b), after_cfg.level(a), reasons)
                    for b, a, (label, url), reasons in moved[:EXAMPLES]]
    if not moved:
        out.notes.append("这次修改不会改变任何一件的颜色。")
    return out


def _delta(n: int) -> str:
    return f"+{n}" if n > 0 else (str(n) if n < 0 else "不变")


def _case_preview(user, before_cfg, after_cfg, decide, out):
    """Open cases (在办) in scope, newest first, at most CASE_LIMIT."""
    from django.urls import reverse

    from cases.models import Case
    from cases.states import open_states
    from extensions.escalation import party
    from extensions.escalation.evaluate import case_verdicts
    from extensions.escalation.models import CaseWarning

    open_ = open_states()
    rows = (_scoped(CaseWarning.objects.filter(case__status__in=open_), user, "case__region_path")
            .order_by("-case__registered_at").values_list("case_id", "level", "facts_by_window")[:CASE_LIMIT])
    windows = after_cfg.windows("case")
    changes, missing = [], []
    for case_id, level, stored_json in rows.iterator(chunk_size=2000):
        stored = {int(k): v for k, v in (stored_json or {}).items()}
        if not all(win in stored for win in windows):
            missing.append(case_id)
            continue
        v = decide(after_cfg, "case", {win: stored[win] for win in windows})
        changes.append((level, v.level, case_id, v.reasons))
    if len(changes) + len(missing) >= CASE_LIMIT:
        out.notes.append(f"只计算了最近登记的 {CASE_LIMIT} 件在办案件")
    never = list(_scoped(Case.objects.filter(warning__isnull=True, status__in=open_), user, "region_path")
                 .order_by("-registered_at").values_list("pk", flat=True)[:LIVE_LIMIT])
    live_ids = (missing + never)[:LIVE_LIMIT]
    if live_ids:
        cases = list(Case.objects.filter(pk__in=live_ids))
        party.attach_links(cases)  # stored links; a never-evaluated case counts as its parties alone
        verdicts = case_verdicts(cases, F.Context(after_cfg))
        current = dict(CaseWarning.objects.filter(case__in=live_ids).values_list("case_id", "level"))
        for c in cases:
            changes.append((current.get(c.pk, ""), verdicts[c.pk].level, c.pk, verdicts[c.pk].reasons))
    skipped = len(missing) + len(never) - len(live_ids)
    if never or missing:
        out.notes.append(f"{len(live_ids)} 件尚无可用的研判结果，已现场计算"
                         + (f"；另有 {skipped} 件未计入（运行 evaluate_warnings 后可全部计入）" if skipped > 0 else ""))
    # links for the examples only
    # examples by number and type, never by title (it names the parties); a link only for users who
    # may open cases (a business configuration admin sees counts and numbers only)
    moved = [c for c in changes if c[0] != c[1]][:EXAMPLES]
    types = registry.get_dictionary("case_type")
    titles = dict((pk, f"{no}（{types[t].label if t in types else t}）") for pk, no, t in
                  Case.objects.filter(pk__in=[c[2] for c in moved]).values_list("pk", "exchange_id", "case_type"))
    linked = user.has_perm("cases.view_case")
    return [(b, a, (titles.get(pk, ""), reverse("admin:cases_case_detail", args=[pk]) if linked else "")
             if (b != a) else ("", ""), r) for b, a, pk, r in changes]


def _party_preview(user, before_cfg, after_cfg, decide, out):
    from django.urls import reverse

    from extensions.escalation import party
    from extensions.escalation.models import PartyWarning, PersonCase

    keys = list(_scoped(PersonCase.objects.all(), user, "case__region_path")
                .order_by("-case__registered_at").values_list("person_key", flat=True)[:PERSON_LIMIT * 3])
    keys = list(dict.fromkeys(keys))[:PERSON_LIMIT]
    current = dict(PartyWarning.objects.filter(person_key__in=keys).values_list("person_key", "level"))
    ctx = F.Context(after_cfg)
    verdicts = party.person_verdicts(keys, ctx)
    from cases.models import Party

    names = dict(Party.objects.filter(pk__in=[d["party"] for _, d in verdicts.values()]).values_list("pk", "name"))
    linked = user.has_perm("cases.view_case")  # the party warning list is a case screen
    changes = []
    for key, (v, d) in verdicts.items():
        level = v.level if v.rule is not None else after_cfg.default_level
        pw = current.get(key, before_cfg.default_level)
        url = reverse("admin:escalation_partywarning_changelist")
        changes.append((pw, level, (f"{mask_name(names.get(d['party'], ''))}（按{party.IDENTITY_LABELS[key.split(':', 1)[0]]}识别）",
                                    url if linked else ""), v.reasons))
    if len(keys) == PERSON_LIMIT:
        out.notes.append(f"只计算了最近的 {PERSON_LIMIT} 名当事人")
    return changes
