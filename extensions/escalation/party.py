"""当事人升级预警 (M-7.3): per person — identified by the ID-number blind index, else the phone
blind index, else name + address (``facts.person_key``) — the facts over their cases and the
clues naming them, the same rule evaluation as cases (target "party"), and the 预警名单
(PartyWarning: only people with a colour other than the default). PersonCase links persons to
cases; they are refreshed whenever a case is evaluated, so the list is recomputed incrementally."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db import transaction
from django.db.models import Q

from extensions.escalation import config as config_mod
from extensions.escalation import facts as F

CHUNK = 1000


def _link_attrs(case, rows) -> None:
    """``case._person_keys`` and ``case._key_bidxs`` (usable ID / phone blind indexes, for the
    key-person check) from (person_key, phone_bidx) rows."""
    case._person_keys = sorted({k for k, _ in rows})
    case._key_bidxs = {k.split(":", 1)[1] for k, _ in rows if not k.startswith("name:")} | {p for _, p in rows if p}


def attach_links(cases) -> None:
    """Person links from the stored PersonCase rows (when they were just refreshed)."""
    from extensions.escalation.models import PersonCase

    rows = defaultdict(list)
    for case_id, key, phone in PersonCase.objects.filter(case__in=[c.pk for c in cases]).values_list(
            "case_id", "person_key", "phone_bidx"):
        rows[case_id].append((key, phone))
    for c in cases:
        _link_attrs(c, rows.get(c.pk, []))


def sync_links(cases, relinked: set | None = None) -> set[str]:
    """Refresh the PersonCase rows of ``cases`` from their parties (decrypted: a masked value
    identifies nobody); sets the link attributes. Returns every person key that gained or lost a
    case, or still has one of them; ``relinked`` (when given) receives only the keys that gained
    or lost one."""
    from cases.models import Party
    from extensions.escalation.models import PersonCase

    by_case = defaultdict(list)
    for p in Party.objects.filter(case__in=[c.pk for c in cases]).only(
            "case_id", "name", "address", "id_number", "id_number_bidx", "phone", "phone_bidx"):
        by_case[p.case_id].append(p)
    wanted: dict[tuple[str, int], PersonCase] = {}
    for case in cases:
        rows = []
        for p in by_case.get(case.pk, []):
            found = F.person_key(p)
            if found is None:
                continue
            key, phone = found[1], F.usable_phone_bidx(p)
            rows.append((key, phone))
            wanted.setdefault((key, case.pk), PersonCase(person_key=key, case_id=case.pk, party_id=p.pk,
                                                          phone_bidx=phone, region_path=case.region_path))
        _link_attrs(case, rows)
    existing = {(pc.person_key, pc.case_id): pc for pc in PersonCase.objects.filter(case__in=[c.pk for c in cases])}
    stale = [pc.pk for k, pc in existing.items() if k not in wanted]
    new = [pc for k, pc in wanted.items() if k not in existing]
    moved = [pc for k, pc in existing.items() if k in wanted and (
        pc.region_path, pc.party_id, pc.phone_bidx) != (wanted[k].region_path, wanted[k].party_id, wanted[k].phone_bidx)]
    for pc in moved:
        w = wanted[(pc.person_key, pc.case_id)]
        pc.region_path, pc.party_id, pc.phone_bidx = w.region_path, w.party_id, w.phone_bidx
    if relinked is not None:
        relinked.update(k for k, _ in wanted.keys() - existing.keys())
        relinked.update(k for k, _ in existing.keys() - wanted.keys())
    if not (stale or new or moved):
        return {k for k, _ in wanted} | {k for k, _ in existing}
    with transaction.atomic():
        if stale:
            PersonCase.objects.filter(pk__in=stale).delete()
        if new:
            PersonCase.objects.bulk_create(new, ignore_conflicts=True)
        if moved:
            PersonCase.objects.bulk_update(moved, ["region_path", "party", "phone_bidx"])
    return {k for k, _ in wanted} | {k for k, _ in existing}


def index_all() -> set[str]:
    """Person links of every case (first pass of the daily run, so that every case's person
    counts see every other case)."""
    from cases.models import Case

    keys: set[str] = set()
    pks = list(Case.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(pks), CHUNK):
        cases = list(Case.objects.filter(pk__in=pks[start:start + CHUNK]).only("pk", "region_path"))
        keys |= sync_links(cases)
    return keys


def keys_for_clue_parties(clue_ids) -> set[str]:
    """Person keys already known that the clues' people match (by ID or phone blind index)."""
    from clues.models import ClueParty
    from extensions.escalation.models import PersonCase

    ids, phones = set(), set()
    for cp in ClueParty.objects.filter(clue__in=list(clue_ids)):
        if cp.id_number_bidx and not F.is_masked(cp.id_number or ""):
            ids.add(cp.id_number_bidx)
        if cp.phone_bidx and not F.is_masked(cp.phone or ""):
            phones.add(cp.phone_bidx)
    keys = {f"id:{b}" for b in ids} | {f"phone:{b}" for b in phones}
    keys |= set(PersonCase.objects.filter(phone_bidx__in=list(phones)).values_list("person_key", flat=True))
    return keys


def keys_without_cases() -> set[str]:
    from extensions.escalation.models import PartyWarning, PersonCase

    return set(PartyWarning.objects.exclude(
        person_key__in=PersonCase.objects.values("person_key")).values_list("person_key", flat=True))


# --- facts -----------------------------------------------------------------------------------------
def _person_data(keys: list[str], ctx: F.Context, oldest: dt.datetime) -> dict[str, dict]:
    """Everything the facts need about ``keys``, in a handful of queries."""
    from cases.models import HelpRequest, MediationResult
    from clues.models import ClueParty
    from extensions.escalation.models import CaseWarning, PersonCase

    links = list(PersonCase.objects.filter(person_key__in=keys)
                 .values("person_key", "case_id", "party_id", "phone_bidx", "case__registered_at"))
    case_ids = {r["case_id"] for r in links}
    escalated = set(HelpRequest.objects.filter(case__in=case_ids, kind="escalate").values_list("case_id", flat=True))
    failed = set(MediationResult.objects.filter(case__in=case_ids, outcome__in=ctx.failure)
                 .values_list("case_id", flat=True)) if ctx.failure else set()
    colours = dict(CaseWarning.objects.filter(case__in=case_ids).values_list("case_id", "level"))
    data: dict[str, dict] = {k: {"cases": [], "phones": set(), "party": None} for k in keys}
    for r in links:
        d = data[r["person_key"]]
        d["cases"].append((r["case_id"], r["case__registered_at"]))
        d["party"] = d["party"] or r["party_id"]
        if r["phone_bidx"]:
            d["phones"].add(r["phone_bidx"])
    id_bidx = {k[3:] for k in keys if k.startswith("id:")}
    phones = {k[6:] for k in keys if k.startswith("phone:")} | {p for d in data.values() for p in d["phones"]}
    clue_rows = list(ClueParty.objects.filter(Q(id_number_bidx__in=id_bidx) | Q(phone_bidx__in=phones),
                                              clue__occurred_at__gte=oldest)
                     .values("clue_id", "id_number_bidx", "phone_bidx", "clue__channel", "clue__occurred_at"))
    by_id, by_phone = defaultdict(list), defaultdict(list)
    for r in clue_rows:
        if r["id_number_bidx"]:
            by_id[r["id_number_bidx"]].append(r)
        if r["phone_bidx"]:
            by_phone[r["phone_bidx"]].append(r)
    ctx.need_key_people({k.split(":", 1)[1] for k in keys if not k.startswith("name:")}
                        | {p for d in data.values() for p in d["phones"]})
    for k, d in data.items():
        rows = []
        if k.startswith("id:"):
            rows += by_id.get(k[3:], [])
        if k.startswith("phone:"):
            rows += by_phone.get(k[6:], [])
        for p in d["phones"]:
            rows += by_phone.get(p, [])
        d["clues"] = {r["clue_id"]: (r["clue__channel"], r["clue__occurred_at"]) for r in rows}
        d["escalated_or_failed"] = sum(1 for c, _ in d["cases"] if c in escalated or c in failed)
        d["colours"] = [colours.get(c) for c, _ in d["cases"]]
        bidxs = {k.split(":", 1)[1]} if not k.startswith("name:") else set()
        d["key_person"] = any(b in ctx.key_people for b in bidxs | d["phones"])
    return data


IDENTITY_LABELS = {"id": "证件号码", "phone": "联系电话", "name": "姓名+住址"}


def person_facts(key: str, d: dict, ctx: F.Context, window: int) -> dict:
    since = ctx.since(window)
    order = sorted(ctx.config.levels.values(), key=lambda lv: lv.order)
    first = order[0].key if order else "red"
    second = order[1].key if len(order) > 1 else "orange"
    recent_clues = [ch for ch, when in d["clues"].values() if when is not None and when >= since]
    petition = set(ctx.config.setting("petition_channels", []) or [])
    return {
        "纠纷数": len({c for c, when in d["cases"] if when >= since}),
        "报告次数": len(recent_clues),
        "报警次数": sum(1 for ch in recent_clues if ch in ctx.police),
        "信访次数": sum(1 for ch in recent_clues if ch in petition),
        "提级或失败案件数": d["escalated_or_failed"],
        "红色案件数": d["colours"].count(first),
        "橙色案件数": d["colours"].count(second),
        "重点人员": d["key_person"],
        "识别依据": IDENTITY_LABELS[key.split(":", 1)[0]],
        "窗口天数": window,
    }


def person_verdicts(keys, ctx: F.Context) -> dict:
    """key → (Verdict, data) for persons that still have cases."""
    from extensions.escalation.evaluate import decide

    windows = ctx.config.windows("party")
    oldest = ctx.since(max(windows))
    data = _person_data(list(keys), ctx, oldest)
    out = {}
    for key, d in data.items():
        if not d["cases"]:
            continue
        by_window = {w: person_facts(key, d, ctx, w) for w in windows}
        out[key] = (decide(ctx.config, "party", by_window), d)
    return out


def evaluate_persons(keys, *, cfg: config_mod.Config | None = None, now: dt.datetime | None = None) -> int:
    """Recompute the 预警名单 rows of ``keys``; returns how many people are on the list among them."""
    from cases.models import Party
    from extensions.escalation.models import PartyWarning

    keys = sorted(set(keys))
    if not keys:
        return 0
    cfg = cfg or config_mod.load()
    ctx = F.Context(cfg, now)
    listed = 0
    for start in range(0, len(keys), CHUNK):
        part = keys[start:start + CHUNK]
        verdicts = person_verdicts(part, ctx)
        names = dict(Party.objects.filter(pk__in=[d["party"] for _, d in verdicts.values()])
                     .values_list("pk", "name"))
        keep = {k: vd for k, vd in verdicts.items() if vd[0].rule is not None and vd[0].level != cfg.default_level}
        with transaction.atomic():
            PartyWarning.objects.filter(person_key__in=part).exclude(person_key__in=list(keep)).delete()
            existing = {w.person_key: w for w in PartyWarning.objects.filter(person_key__in=list(keep))}
            for key, (v, d) in keep.items():
                values = {"identity": key.split(":", 1)[0], "name": names.get(d["party"], ""),
                          "party_id": d["party"], "level": v.level, "rule": v.rule.code, "reasons": v.reasons,
                          "facts": v.facts}
                w = existing.get(key)
                if w is None:
                    PartyWarning.objects.create(person_key=key, evaluated_at=ctx.now, **values)
                elif any(getattr(w, f) != val for f, val in values.items()):
                    PartyWarning.objects.filter(pk=w.pk).update(evaluated_at=ctx.now, **values)
        listed += len(keep)
    return listed


def evaluate_all_persons(*, cfg=None, now=None) -> int:
    from extensions.escalation.models import PartyWarning, PersonCase

    keys = set(PersonCase.objects.values_list("person_key", flat=True).distinct())
    keys |= set(PartyWarning.objects.values_list("person_key", flat=True))
    return evaluate_persons(keys, cfg=cfg, now=now)
