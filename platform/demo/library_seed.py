"""Demo data of issue #15: a library of typical cases (proposed by the demo mediators through
library.actions, with the system's anonymised draft, approved by the level above), the
基层减负 Q&A knowledge base, a key matter with a visit, and the search index of the closed cases.
Synthetic only; idempotent (does nothing when typical cases exist)."""
from __future__ import annotations

from django.db import transaction

from cases import states
from cases.models import Case

QA = {
    "台账报表": [
        ("村社区台账太多，哪些可以不做？", "以区里公布的村（社区）工作台账清单为准，清单外的台账一律不再要求；同一事项只保留一本电子台账。", "台账、报表、表格"),
        ("同一个数据被多个部门要求重复填报怎么办？", "通过“一表通”共享已报数据，部门不得要求村社区重复填报；发现重复要求可向区减负办反映。", "重复填报、一表通"),
        ("纸质台账还需要打印留存吗？", "已在系统中记录的工作不再要求打印纸质材料留痕，检查时以系统数据为准。", "留痕、打印"),
    ],
    "考核督查": [
        ("督查检查能不能合并进行？", "同一时期对同一单位的督查检查原则上合并进行，实行年度计划管理，计划外的检查须报批。", "检查、督查、考核"),
        ("考核中能否只看材料不看实效？", "考核以工作实绩和群众评价为主，不以台账材料多少、会议多少作为评价依据。", "实效、材料"),
        ("上级部门能否让社区出具各类证明？", "按证明事项清单办理，清单外的证明社区可以拒绝出具，并告知群众向相关部门申请。", "证明、盖章"),
    ],
    "会议与微信群": [
        ("工作微信群太多，怎么减？", "工作群实行备案管理，同一事项只保留一个群，非工作时间不布置一般性工作，不要求在群里晒图打卡。", "微信群、工作群、打卡"),
        ("社区干部需要参加的会议太多怎么办？", "能合并的会议合并召开，能线上开的不线下开，未经批准不得要求村社区干部参会。", "会议、开会"),
    ],
    "矛盾调解": [
        ("调解协议达成后需要做司法确认吗？", "人民调解协议具有法律约束力；当事人可在协议生效后三十日内共同向人民法院申请司法确认，确认后可申请强制执行。", "司法确认、调解协议"),
        ("邻里纠纷调解不成怎么办？", "告知当事人可向上级调解组织求助（提级），或通过诉讼、仲裁等途径解决，并做好稳控和回访。", "调解不成、提级"),
        ("当事人拒绝签字怎么处理？", "在调解日志中如实记录，说明拒签原因，必要时由两名调解员签名确认，并视情启动回访。", "拒签、签字"),
    ],
}
APPROVE_LEVEL = {2: "street", 1: "district", 0: "district"}


def _reviewer_for(tc):
    from accounts.models import User
    from library import actions

    for user in actions._reviewers(tc):
        return user
    return User.objects.filter(username="demo_district").first()


def _proposer_for(case):
    """A user who handles the case's region: the deepest level above or at it, with case rights."""
    from accounts.models import User
    from library import actions

    ancestors = [case.region_path[:i + 1] for i, ch in enumerate(case.region_path) if ch == "/"]
    users = sorted(User.objects.filter(is_active=True, region__path__in=ancestors).select_related("region"),
                   key=lambda u: (-u.region.level, u.username))
    return next((u for u in users if u.has_perm("cases.change_case") and actions.may_use_library(u)), None)


def _propose_and_review(case, proposer, draft, *, wait: bool, community: bool):
    from library import actions

    tc = actions.propose(case, proposer, reason="调解方法得当，对同类纠纷有参考价值", method="背靠背调解、释法析理",
                         legal_basis="《中华人民共和国人民调解法》第二十二条", **draft)
    if wait:  # a few proposals wait for their review
        return tc
    reviewer = _reviewer_for(tc)
    level = "community" if community and tc.level >= 3 else APPROVE_LEVEL.get(reviewer.region.level, "district")
    return actions.decide(tc, "审核通过", reviewer, opinion="同意入库", typical_level=level)


def seed_library(limit: int = 24) -> dict:
    from accounts.models import User
    from library import actions, anonymise, search
    from library.models import KeyMatter, QACategory, QAEntry, TypicalCase

    if TypicalCase.objects.exists():
        return {"typical": 0, "qa": 0, "key_matters": 0}
    for sort, (category, entries) in enumerate(QA.items(), start=1):
        cat, _ = QACategory.objects.get_or_create(name=category, defaults={"sort": sort * 10})
        for question, answer, synonyms in entries:
            QAEntry.objects.get_or_create(category=cat, question=question,
                                          defaults={"answer": answer, "synonyms": synonyms})
    fallback = User.objects.filter(username="demo_mediator").first()
    made, seen_types = 0, set()
    closed = (Case.objects.filter(status__in=states.closed_states(), result__isnull=False)
              .select_related("region", "registrant", "result").order_by("pk"))
    for case in closed[:400]:
        if made >= limit:
            break
        if case.case_type in seen_types and made < limit // 2:
            continue  # a spread of dispute types first
        proposer = _proposer_for(case)
        if proposer is None or proposer.region.level <= 1:  # the demo proposals come from communities and streets
            continue
        draft = anonymise.draft(case)
        draft["writeup"] = draft["writeup"].replace("（请填写本案的调解方法和可借鉴之处）",
                                                    "调解员先分别听取双方诉求，再依法释理、以情动人，促成双方各让一步。")
        try:
            with transaction.atomic():
                _propose_and_review(case, proposer, draft, wait=made % 6 == 5, community=made % 3 == 0)
        except Exception:  # noqa: BLE001 — a demo case that does not fit (scope, workflow) is skipped
            continue
        seen_types.add(case.case_type)
        made += 1
    key = 0
    open_case = None
    if fallback is not None and fallback.region_id:
        open_case = Case.objects.filter(status__in=states.open_states(),
                                        region_path__startswith=fallback.region.path).order_by("pk").first()
    if open_case is not None and not KeyMatter.objects.filter(case=open_case).exists():
        from cases import actions as case_actions

        actions.mark_key_matter(open_case, fallback, level="major", leader="东湖街道 王副主任",
                                reason="涉及多户居民，情绪激动，需包案稳控")
        case_actions.add_visit(open_case, fallback, way="onsite", satisfaction="basic",
                               notes="上门走访当事人，情绪基本稳定，约定下周再次协调")
        key = 1
    counts = search.rebuild(("case", "qa"))
    return {"typical": made, "qa": counts.get("qa", 0), "key_matters": key, "indexed_cases": counts.get("case", 0)}
