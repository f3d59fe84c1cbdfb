"""Case facts and person identity: what warning rules are written over.

Every fact has a Chinese name (the rule language uses them as they are: ``报告次数 >= 3``);
``CASE_FACTS`` / ``PARTY_FACTS`` document them for the rule editor and its validation. Facts are
computed for a batch of cases at once (parties, logs, items, results, help requests and visits
prefetched; person counts in one grouped query) so the daily run over all cases stays cheap; only
the duplicate model is asked per case (``extensions.dedup.api``)."""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

CASE_FACTS = {
    "涉及人数": "涉及人数：登记的涉及人数与重复案件模型“同案不同人”群组人数中的较大者",
    "同案人数": "重复案件模型“同案不同人”群组中的纠纷数（含本案；分别登记的同一群体纠纷）",
    "当事人数": "登记的当事人条数",
    "涉及金额": "涉及金额（元）：调解清单诉求金额合计、调解结果金额、金额扩展字段、标题与简要情况中写明的金额（约41000元、1.2万）中的最大值",
    "报告次数": "本案登记前后N天内同一纠纷被报告的次数（含本案，按重复案件模型“同一案件”）",
    "报警次数": "本案登记前后N天内同一纠纷的110报警次数（报警渠道）",
    "近期报告次数": "近N天（从今天往回数）同一纠纷被报告的次数（含本案）",
    "近期报警次数": "近N天（从今天往回数）同一纠纷的110报警次数",
    "暴力关键词数": "标题、简要情况、调解日志中命中的预警关键词个数（jieba 分词）",
    "命中关键词": "命中的关键词（文字）",
    "民转刑": "命中“民转刑”类关键词，或案件标签含“民转刑”",
    "已超期": "未办结且已过办理期限（仍在来源平台办理的汇聚案件不按本地期限计）",
    "来源平台办理": "汇聚案件仍在来源平台办理（来源属于“来源平台办理渠道”，本地尚无调解记录或提级）",
    "超期天数": "已超过办理期限的天数（未超期为 0）",
    "提级次数": "申请提级的次数",
    "调解失败次数": "本案及其“同一案件”中调解结果为失败（调解结果字典附加属性 counts_as_failure）的件数",
    "涉重点人员": "当事人是在管重点人员（按证件号码或电话盲索引）",
    "重点人员": "涉及的重点人员姓名（文字）",
    "当事人最多纠纷数": "本案当事人中，近N天纠纷数最多者的纠纷数（含本案）",
    "案件标签": "案件标签名称列表，如 包含(案件标签, '群体性')",
    "案件类型": "案件类型编码",
    "案件状态": "案件状态编码",
    "已办结": "处于办结状态（流程中的 closed 状态）",
    "已化解": "已办结且调解成功",
    "待回访": "已化解但还没有回访记录",
    "待回访提示": "“，待回访”或空（用于提示语）",
    "窗口天数": "本规则的统计天数",
}
PARTY_FACTS = {
    "纠纷数": "近N天作为当事人的案件数",
    "报告次数": "近N天涉及此人的线索数（所有渠道，按证件号码/电话识别）",
    "报警次数": "其中报警渠道的线索数",
    "信访次数": "其中信访渠道的线索数",
    "提级或失败案件数": "此人的案件中申请过提级或调解失败的件数",
    "红色案件数": "此人的案件中当前为最严重等级的件数",
    "橙色案件数": "此人的案件中当前为第二等级的件数",
    "重点人员": "此人是在管重点人员",
    "识别依据": "证件号码 / 联系电话 / 姓名+住址",
    "窗口天数": "本规则的统计天数",
}


# --- identity ------------------------------------------------------------------------------------
def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip().replace(" ", "")


def is_masked(value: str) -> bool:
    """A value delivered already masked (138****5678) identifies nobody."""
    v = _plain(value)
    return "*" in v or "×" in v


def person_key(party) -> tuple[str, str] | None:
    """(identity kind, key) of a party: the ID-number blind index, else the phone blind index,
    else name + address. A masked or empty value is skipped; a name alone identifies nobody
    (two 张伟 in one district are two people)."""
    id_number = party.id_number or ""
    if _plain(id_number) and not is_masked(id_number) and party.id_number_bidx:
        return "id", f"id:{party.id_number_bidx}"
    phone = party.phone or ""
    if len(_plain(phone)) >= 7 and not is_masked(phone) and party.phone_bidx:
        return "phone", f"phone:{party.phone_bidx}"
    name, address = _plain(party.name), _plain(party.address)
    if name and address:
        # keyed hash, not the text: the home address is encrypted at rest and must not sit in
        # clear in the person keys (PersonCase, PartyWarning)
        from secure.crypto import blind_index

        return "name", f"name:{blind_index(f'{name}|{address}', 'name_address')}"
    return None


def usable_phone_bidx(party) -> str:
    phone = party.phone or ""
    return party.phone_bidx if len(_plain(phone)) >= 7 and not is_masked(phone) else ""


# --- per-run context -------------------------------------------------------------------------------
class Context:
    """What every case of a run shares: states and outcomes from metadata, the key-person index,
    the configuration and 'now'.

    The key-person index is filled on demand (``need_key_people``): a run over many records loads
    every active 重点人 once (``load_all_key_people``), the re-evaluation of one changed case only
    the few blind indexes its parties carry — the register may hold thousands of people."""

    def __init__(self, config, now: dt.datetime | None = None):
        from cases.states import closed_states, success_outcomes
        from lowcode import registry

        self.config = config
        self.now = now or timezone.now()
        self.closed = closed_states()
        self.success = set(success_outcomes())
        self.failure = {c for c, e in registry.get_dictionary("mediation_outcome").items()
                        if e.attrs.get("counts_as_failure")}
        self.tag_labels = {c: e.label for c, e in registry.get_dictionary("case_tag").items()}
        self.key_people: dict[str, str] = {}   # blind index → name, for the indexes asked so far
        self.failed: dict[int, bool] = {}      # case pk → mediation failed, for the cases asked so far
        self._key_all = False
        self._key_asked: set[str] = set()
        self.police = set(config.setting("police_channels", []) or [])
        self.source_handled = set(config.setting("source_handled_channels", []) or [])
        self.amount_fields = list(config.setting("amount_fields", []) or [])

    def need_failed(self, pks) -> None:
        """Remember which of these cases' mediation failed — one query for a chunk's duplicates
        instead of a count per case (≈ 6 ms each)."""
        from cases.models import MediationResult

        missing = {pk for pk in pks if pk not in self.failed}
        if not missing:
            return
        failed = set(MediationResult.objects.filter(case__in=missing, outcome__in=self.failure)
                     .values_list("case_id", flat=True)) if self.failure else set()
        self.failed.update({pk: pk in failed for pk in missing})

    def since(self, days: int) -> dt.datetime:
        return self.now - dt.timedelta(days=days)

    def load_all_key_people(self) -> None:
        from extensions.escalation.models import KeyPerson

        if self._key_all:
            return
        for kp in KeyPerson.objects.filter(active=True).only("name", "id_number_bidx", "phone_bidx"):
            for bidx in (kp.id_number_bidx, kp.phone_bidx):
                if bidx:
                    self.key_people[bidx] = kp.name
        self._key_all = True

    def need_key_people(self, bidxs) -> None:
        """Make ``key_people`` answer for these blind indexes (one query for the unasked ones)."""
        from django.db.models import Q

        from extensions.escalation.models import KeyPerson

        if self._key_all:
            return
        missing = {b for b in bidxs if b} - self._key_asked
        if not missing:
            return
        if len(missing) > 2000:  # a large batch: the whole register is the cheaper query
            self.load_all_key_people()
            return
        self._key_asked |= missing
        rows = KeyPerson.objects.filter(Q(id_number_bidx__in=missing) | Q(phone_bidx__in=missing), active=True)
        for kp in rows.only("name", "id_number_bidx", "phone_bidx"):
            for bidx in (kp.id_number_bidx, kp.phone_bidx):
                if bidx:
                    self.key_people[bidx] = kp.name


def tokens(text: str) -> set[str]:
    import jieba

    return {t for t in jieba.lcut(text or "") if t.strip()}


def keyword_hits(texts: list[str], keywords: dict[str, str]) -> list[str]:
    """Keywords found as whole jieba tokens (so 打人 matches 当场打人 but not 打人参 …)."""
    from extensions.escalation.config import teach_jieba

    found = set()
    for text in texts:
        # tokenising is the expensive part: only texts that contain a keyword at all
        if not text or not any(w in text for w in keywords):
            continue
        teach_jieba(keywords)
        toks = tokens(text)
        found |= {w for w in keywords if w in toks}
    return sorted(found)


def _number(value) -> float:
    if value is None or value == "" or isinstance(value, bool):
        return 0.0
    try:
        return float(Decimal(str(value)))
    except Exception:  # noqa: BLE001 — a malformed extra value counts as nothing
        return 0.0


_TEXT_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(万元|万|元|块钱|块)")


def text_amounts(text: str) -> list[float]:
    """Amounts (yuan) written in a text: 涉及金额约41000元 → 41000, 1.2万 → 12000, 3000块 → 3000.
    Counts (3个月, 5人) are no amounts."""
    text = unicodedata.normalize("NFKC", text or "").replace(",", "")
    out = []
    for num, unit in _TEXT_AMOUNT.findall(text):
        value = float(num) * (10000 if unit.startswith("万") else 1)
        out.append(value)
    return out


def amount_of(case, ctx: Context) -> float:
    items = sum(_number(a) for a in case._claims)
    result = case._result
    candidates = [items, _number(result.amount) if result is not None else 0.0]
    candidates += [_number((case.extra or {}).get(code)) for code in ctx.amount_fields]
    # an aggregated case carries its amount only in words ("涉及金额约41000元")
    candidates += text_amounts(f"{case.title or ''} {case.description or ''}")
    return max(candidates)


def handled_at_source(case, ctx: Context) -> bool:
    """An aggregated case still handled on its source platform (province, ODR, X里调解…): our
    local time limits do not apply until it is worked on here (a mediation log, a 提级)."""
    aggregated = bool((case.extra or {}).get("aggregation"))
    return (aggregated and case.source in ctx.source_handled and not case._logs and not case._helps)


def load(cases) -> None:
    """Attach what the facts read, in one query per kind of row (no per-case queries, no model
    instances for children): log texts, claim amounts, help-request kinds, visits, the result,
    the number of parties. Person links (``_person_keys``, ``_key_bidxs``) come from
    ``party.sync_links`` (which decrypts the parties) or ``party.attach_links`` (stored links)."""
    from cases.models import HelpRequest, MediationItem, MediationLog, MediationResult, Party, Visit

    ids = [c.pk for c in cases]
    logs, claims, helps, parties = (defaultdict(list) for _ in range(4))
    for case_id, content in MediationLog.objects.filter(case__in=ids).values_list("case_id", "content"):
        logs[case_id].append(content)
    for case_id, amount in MediationItem.objects.filter(case__in=ids).values_list("case_id", "claim_amount"):
        claims[case_id].append(amount)
    for case_id, kind in HelpRequest.objects.filter(case__in=ids).values_list("case_id", "kind"):
        helps[case_id].append(kind)
    visited = set(Visit.objects.filter(case__in=ids).values_list("case_id", flat=True))
    party_n = dict(Party.objects.filter(case__in=ids).values("case_id").annotate(n=Count("pk"))
                   .values_list("case_id", "n"))
    results = {r.case_id: r for r in MediationResult.objects.filter(case__in=ids)
               .only("case_id", "outcome", "amount")}
    for c in cases:
        c._logs, c._claims, c._helps = logs.get(c.pk, []), claims.get(c.pk, []), helps.get(c.pk, [])
        c._visited, c._party_n, c._result = c.pk in visited, party_n.get(c.pk, 0), results.get(c.pk)


def person_counts(keys: set[str], since: dt.datetime) -> dict[str, int]:
    """Cases per person registered since ``since`` — one grouped query."""
    from extensions.escalation.models import PersonCase

    if not keys:
        return {}
    rows = (PersonCase.objects.filter(person_key__in=list(keys), case__registered_at__gte=since)
            .values("person_key").annotate(n=Count("case_id", distinct=True)))
    return {r["person_key"]: r["n"] for r in rows}


def cases_with_verdicts(cases) -> set[int]:
    """The cases the duplicate model holds anything about — asked in bulk per chunk (through its
    read API, like everything this extension reads of it), so ``same_records`` is only asked where
    it can answer."""
    from extensions.dedup.api import with_verdicts

    return with_verdicts("case", [c.pk for c in cases])


def group_sizes(cases) -> dict[int, int]:
    """Disputes in each case's 同案不同人 group (the duplicate model's, through its read API)."""
    from extensions.dedup.api import group_sizes as sizes

    return sizes("case", [c.pk for c in cases])


def same_refs(case) -> list:
    return same_refs_many([case]).get(case.pk, [])


def same_refs_many(cases) -> dict[int, list]:
    """case pk → the records held the same dispute, for a whole chunk at once (a few queries in
    all; one call per case cost ≈ 26 ms, most of a warning re-check of an ingest chunk)."""
    from extensions.dedup.api import same_records_many

    return same_records_many("case", [c.pk for c in cases], reasons=False)  # facts count, never quote


def case_facts(case, ctx: Context, window: int, person_n: dict[str, int], refs: list) -> dict:
    """The facts of one case for rules with ``window`` days (JSON-safe values)."""
    since = ctx.since(window)
    keywords = ctx.config.keywords
    texts = [case.title, case.description] + case._logs
    hits = keyword_hits(texts, keywords)
    tag_labels = [ctx.tag_labels.get(t, t) for t in (case.tags or [])]
    criminal = any(keywords.get(w) == "criminal" for w in hits) or any("民转刑" in t for t in tag_labels)
    # the dispute's own time: its other reports within the window around this report (a dispute
    # reported by four channels in one week last spring was reported four times) …
    own = case.registered_at or ctx.now
    span = dt.timedelta(days=window)
    around = [r for r in refs if r.reported_at is not None and abs(r.reported_at - own) <= span]
    self_police = 1 if case.source in ctx.police else 0
    reports = 1 + len(around)
    police = sum(1 for r in around if r.channel in ctx.police) + self_police
    # … and recency, counted back from today
    recent = [r for r in refs if r.reported_at is not None and r.reported_at >= since]
    self_recent = 1 if own >= since else 0
    result = case._result
    failed_self = 1 if result is not None and result.outcome in ctx.failure else 0
    same_case_pks = {r.pk for r in refs if r.kind == "case"}
    ctx.need_failed(same_case_pks)  # a no-op when case_verdicts asked for the whole chunk
    failed_same = sum(1 for pk in same_case_pks if ctx.failed[pk])  # one result per case
    open_ = case.status not in ctx.closed
    at_source = handled_at_source(case, ctx)
    overdue = bool(open_ and not at_source and case.deadline and case.deadline < ctx.now)
    key_names = sorted({ctx.key_people[b] for b in case._key_bidxs if b in ctx.key_people})
    party_max = max((person_n.get(k, 0) for k in case._person_keys), default=0)
    resolved = (not open_) and result is not None and result.outcome in ctx.success
    visit_pending = resolved and not case._visited
    return {
        "涉及人数": max(case.party_count or 0, getattr(case, "_group_size", 0)),
        "同案人数": getattr(case, "_group_size", 0) or 1,
        "当事人数": case._party_n,
        "涉及金额": round(amount_of(case, ctx), 2),
        "报告次数": reports,
        "报警次数": police,
        "近期报告次数": self_recent + len(recent),
        "近期报警次数": sum(1 for r in recent if r.channel in ctx.police) + (self_police if self_recent else 0),
        "暴力关键词数": len(hits),
        "命中关键词": "、".join(hits),
        "民转刑": criminal,
        "已超期": overdue,
        "超期天数": (ctx.now - case.deadline).days if overdue else 0,
        "来源平台办理": at_source,
        "提级次数": case._helps.count("escalate"),
        "调解失败次数": failed_self + failed_same,
        "涉重点人员": bool(key_names),
        "重点人员": "、".join(key_names),
        "当事人最多纠纷数": party_max,
        "案件标签": tag_labels,
        "案件类型": case.case_type,
        "案件状态": case.status,
        "已办结": not open_,
        "已化解": resolved,
        "待回访": visit_pending,
        "待回访提示": "，待回访" if visit_pending else "",
        "窗口天数": window,
    }
