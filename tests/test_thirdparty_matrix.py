"""Third-party permission matrix: every URL of the system (walked from the URL configuration with
the helpers of tests/test_permission_matrix.py, so a screen added tomorrow is covered) × {own-org
third-party mediator, own-org org admin, other-org mediator, anonymous, grassroots mediator,
district admin} × dispatch orders in every state (open 报名中, not started 未开始, closed 已截止,
awarded to the own org, awarded to the other org, withdrawn after an award to the own org).

A third-party account sees open orders (masked), its own organisation's sign-ups and the cases
awarded to its own organisation — nothing else by any path:
- an object URL (case, party, log, attachment, trace, order, voucher, verification …) of something
  it may not see answers 403/404/405 (or a login page), also at the end of redirects; a POST there
  never answers 200 and changes nothing;
- no page (lists, searches, exports, history, similar cases, message centre …) shows a case-only
  text (the address, a mediation log, the case number) of a case not awarded to its organisation,
  nor the text of an order it may not see (one exception: the number of a case whose award was
  withdrawn stays on the organisation's revoked voucher — the voucher certifies it);
- non-third-party users never get the third-party screens (thirdparty:*), anonymous users are sent
  to a login page;
- what a third party may see opens on its own screens and shows its text (the order's or the
  case's marker) — a screen refusing everything fails (exceptions: TP_CASE_PAGES, TP_REFUSED,
  TP_WITHOUT_TEXT, each with its reason);
- "changed nothing" compares every row of every model that belongs to a region
  (tests/fingerprint.py) and the other organisations' profiles;
- nothing answers 5xx.
The matrix (pattern × state → statuses) is written to test-output/thirdparty-matrix/."""
from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from .test_permission_matrix import (DENIED, EXEMPT, NO_POST, REDIRECTS, SENTINEL, STATIC_PREFIXES, _history_id,
                                     body_text, build, follow, other_object_values, param_kinds, template, walk)
from .test_thirdparty_screens import STATES, tp_world  # noqa: F401  (fixture)

USERS = ["demo_tp_mediator", "demo_tp_admin", "tp_rival", "anonymous", "demo_mediator", "demo_district"]
THIRD_PARTY = {"demo_tp_mediator", "demo_tp_admin", "tp_rival"}
# a case-only text per state: in the case's address and in a log, never in the order's text
CASE_MARKS = {key: f"《案内{key}》" for key in STATES}
# what each third-party user may see, by state: orders (the order's own masked text) and cases
ORDER_VISIBLE = {
    "own_org": {"open", "not_started", "own", "other", "withdrawn"},   # bid on own/other/withdrawn; not closed
    "rival": {"open", "not_started", "closed", "own", "other", "withdrawn"},
}
CASE_VISIBLE = {"own_org": {"own"}, "rival": {"other"}}
SEARCH_TERMS = ["", "?q=合同", "?q=案内", "?q=11010519491231002X"]
# What a third party may see opens on its own screens (thirdparty:*; the staff screens under
# /admin/ may refuse it) and shows the object's text. Exceptions, by URL name, with the reason:
TP_CASE_PAGES = {  # an order's case pages: only once the order is awarded to the own organisation
    "thirdparty:case": "案件页：发单中选本组织后才开放",
    "thirdparty:m_case": "同上（手机）",
    "thirdparty:m_result": "提交调解结果：同上",
    "thirdparty:m_voucher": "确认凭证：中选本组织后才有（页面显示凭证编号，不含发单正文）",
}
TP_REFUSED: dict[str, str] = {}
# pages that show an object by its number rather than its text
TP_SHOWN_BY_NUMBER = {"thirdparty:m_voucher": "voucher_number"}
TP_WITHOUT_TEXT = {
    "admin:cases_party_history": "变更历史：只列改动，不重复对象的正文",
    "cases:attachment": "附件下载：文件本身，不是页面",
    "h5:attachment": "附件下载：同上",
}


def side_of(user: str) -> str:
    return "rival" if user == "tp_rival" else "own_org"


@pytest.fixture
def matrix_world(tp_world):
    """tp_world plus, per state, case-only rows (a log and a photo carrying the case mark, a
    mediation item) and the objects a URL parameter may name."""
    from django.core.files.base import ContentFile

    from cases.models import Attachment, Case, CaseEvent, MediationItem, MediationLog, Party
    from dispatch.models import Bid, DispatchOrder, Voucher

    staff = tp_world["staff"]
    sides = {}
    for key in STATES:
        order = tp_world[key]
        case = Case.objects.get(pk=order.case_id)
        Case.objects.filter(pk=case.pk).update(address=f"示范区解放路{CASE_MARKS[key]}")
        log = MediationLog.objects.create(case=case, content=f"属地调解日志{CASE_MARKS[key]}", created_by=staff)
        attachment = Attachment.objects.create(case=case, log=log, purpose="log", name=f"照片{CASE_MARKS[key]}.txt",
                                               file=ContentFile(f"附件{CASE_MARKS[key]}".encode(), name="x.txt"),
                                               size=8, uploaded_by=staff)
        side = {"cases": [case], Case: case, Party: case.parties.first(), MediationLog: log, Attachment: attachment,
                MediationItem: MediationItem.objects.create(case=case, content=f"调解事项{CASE_MARKS[key]}"),
                CaseEvent: case.events.order_by("pk").first(), DispatchOrder: order,
                Bid: order.bids.order_by("pk").first()}
        voucher = Voucher.objects.filter(order=order).first()
        if voucher is not None:
            side[Voucher] = voucher
            side["voucher_number"] = voucher.number
        sides[key] = side
    tp_world["sides"] = sides
    return tp_world


# --- which object a parameter names ----------------------------------------------------------------------
def dispatch_aliases():
    from dispatch.models import Bid, DispatchOrder, Voucher

    return {"order": DispatchOrder, "orders": DispatchOrder, "dispatchorder": DispatchOrder,
            "bid": Bid, "bids": Bid, "voucher": Voucher, "vouchers": Voucher}


def kinds_for(p, url: str):
    """param_kinds of the region matrix, plus the dispatch objects it may not know (yet)."""
    kinds = []
    segments = url.strip("/").split("/")
    aliases = dispatch_aliases()
    for i, (kind, what) in enumerate(param_kinds(p, url)):
        if kind == "unknown":
            name = p.params[i]
            before = segments[segments.index(SENTINEL.format(i)) - 1]
            if name == "number" and before in ("verify", "vouchers", "voucher"):
                kind, what = "voucher_number", None
            elif before in aliases or name.removesuffix("_pk").removesuffix("_id") in aliases:
                kind, what = "object", aliases.get(before) or aliases[name.removesuffix("_pk").removesuffix("_id")]
        kinds.append((kind, what))
    return kinds


def values_for(kinds, side: dict) -> list[str] | None:
    """Parameter values from one state's objects (None: this state has no such object)."""
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Case

    values, previous = [], None
    for kind, what in kinds:
        if kind == "value":
            values.append(what[0])
        elif kind == "content_type":
            values.append(str(ContentType.objects.get_for_model(Case).pk))
        elif kind == "history":
            values.append(str(_history_id(previous)))
        elif kind == "voucher_number":
            if "voucher_number" not in side:
                return None
            values.append(side["voucher_number"])
        elif kind == "object" and what in side:
            previous = side[what]
            values.append(str(previous.pk))
        else:
            return None
    return values


def case_linked(kinds) -> bool:
    from cases import models as m
    from notices.models import Notice

    linked = {m.Case, m.Party, m.MediationLog, m.MediationItem, m.MediationResult, m.HelpRequest, m.Visit,
              m.Attachment, m.CaseEvent, m.Review, m.CaseFile, Notice}
    return any(k == "object" and w in linked for k, w in kinds)


def dispatch_object(kinds):
    from dispatch.models import Bid, DispatchOrder, Voucher

    for k, w in kinds:
        if k == "voucher_number" or (k == "object" and w is Voucher):
            return "voucher"
        if k == "object" and w is Bid:
            return "bid"
        if k == "object" and w is DispatchOrder:
            return "order"
    return None


def may_see(user: str, state: str, kinds) -> bool:
    """Whether ``user`` may open the object of ``state`` that this URL names."""
    if user not in THIRD_PARTY:
        return True  # staff and grassroots: their region scope (tests/test_permission_matrix.py)
    side = side_of(user)
    if case_linked(kinds):
        return state in CASE_VISIBLE[side]
    what = dispatch_object(kinds)
    if what == "order":
        return state in ORDER_VISIBLE[side]
    if what == "voucher":  # the organisation's own vouchers, revoked ones included (对账中心)
        return state in ({"own", "withdrawn"} if side == "own_org" else {"other"})
    if what == "bid":     # the first bid of the order: the own org's on own/withdrawn/other, the rival's on closed
        return state in ({"own", "other", "withdrawn"} if side == "own_org" else {"closed"})
    return True


def forbidden_marks(user: str, world) -> list[str]:
    """Texts that must never reach ``user``'s screens."""
    if user not in THIRD_PARTY:
        return []
    side = side_of(user)
    marks = [STATES[k] for k in STATES if k not in ORDER_VISIBLE[side]]
    for key in STATES:
        if key not in CASE_VISIBLE[side]:
            marks.append(CASE_MARKS[key])
            # the case number is on the organisation's own (revoked) voucher and award notice: the
            # voucher certifies it and the organisation keeps it for reconciliation (对账中心)
            if not (side == "own_org" and key == "withdrawn"):
                marks.append(world["sides"][key]["cases"][0].exchange_id)
    return marks


def fingerprint(user=None) -> dict[str, list]:
    """Every row of every model that belongs to a region (tests/fingerprint.py: cases and their
    rows, orders, bids, vouchers, evaluations, grants, clues, warnings, history …) plus the
    organisations' profiles — except what the user may change: their own messages (read) and
    their own organisation's profile (the org admin edits it)."""
    from notices.models import Notice
    from tests import fingerprint as fp
    from partners.models import OrgProfile

    snap = fp.fingerprint([""])
    profiles = OrgProfile.objects.all()
    if user is not None:
        snap["notices.Notice"] = sorted(map(repr, Notice.objects.exclude(recipient=user).values_list()))
        profiles = profiles.exclude(organization_id=user.organization_id)
    snap["thirdparty.OrgProfile"] = sorted(map(repr, profiles.values_list()))
    return snap


POST_DATA = {
    "post": "yes", "action": "审核通过", "opinion": "越权", "content": "越权日志", "outcome": "success",
    "agreement": "越权协议", "plan": "越权报名", "quoted_fee": "1", "reason": "越权撤回", "score": "5",
    "comment": "越权评价", "name": "越权当事人", "role": "respondent", "party_kind": "person",
    "occurred_at": "2026-01-01T10:00", "op": "disable", "select_across": "0", "index": "0",
    "apply": "1", "add": "group",  # the confirmation step of a bulk action (see the region matrix)
}


# public pages the region matrix exempts but whose content this matrix checks (no case data)
PUBLIC = {"verify", "verify_voucher"}


def patterns():
    out = []
    for p in walk():
        if p.key not in PUBLIC and (p.key in EXEMPT or p.route in EXEMPT or p.route.startswith(STATIC_PREFIXES)):
            continue
        url = template(p)
        if url is None:
            continue
        out.append((p, url, kinds_for(p, url)))
    return out


def test_the_walk_finds_every_third_party_screen(world):
    keys = {p.key for p, _, _ in patterns()}
    assert {"thirdparty:pool", "thirdparty:order", "thirdparty:case", "thirdparty:m_case", "thirdparty:m_result",
            "thirdparty:statements", "thirdparty:analysis"} <= keys
    unresolved = [p.route for p, _, kinds in patterns() if any(k == "unknown" for k, _ in kinds)]
    assert not unresolved, f"无法为这些 URL 填参数：{unresolved}"


@pytest.mark.parametrize("username", USERS)
def test_thirdparty_matrix(username, matrix_world):
    from accounts.models import User

    client = Client()
    if username != "anonymous":
        client.force_login(User.objects.get(username=username))
    anonymous = username == "anonymous"
    marks = forbidden_marks(username, matrix_world)
    sides = matrix_world["sides"]
    failures, rows = [], []
    me = None if anonymous else User.objects.get(username=username)
    baseline = fingerprint(me)

    def leaked(label, texts):
        for text in texts:
            hit = next((m for m in marks if m in text), None)
            if hit:
                i = text.find(hit)
                failures.append(f"{label}：页面含有不应看到的数据 {hit}（…{text[max(0, i - 60):i + 20]}…）")
                return

    def changed(label):
        nonlocal baseline
        now = fingerprint(me)
        if now != baseline:
            from tests.fingerprint import changed as which

            failures.append(f"{label}：POST 改动了不应改动的数据（{'、'.join(which(baseline, now))}）")
            baseline = now

    def deny(label, response, strict=True) -> str:
        final, statuses, texts, login = follow(client, response)
        shown = "→".join(map(str, statuses)) + ("→登录" if login else "")
        if any(s >= 500 for s in statuses):
            failures.append(f"{label}：服务器错误 {shown}")
        elif strict and not (login or final.status_code in DENIED):
            failures.append(f"{label}：应拒绝（403/404 或登录页），实际 {shown}")
        elif not strict and response.status_code == 200:
            failures.append(f"{label}：应拒绝，实际 200")
        leaked(label, ([] if response.status_code in REDIRECTS else [body_text(response)]) + texts)
        return shown

    def shown(label, key, response, state) -> None:
        """What the user may see opens and shows its text (the order's or the case's marker) — a
        screen refusing everything would pass the rest of the matrix."""
        refusable = (not key.startswith("thirdparty:") or key in TP_REFUSED
                     or key in TP_CASE_PAGES and state not in CASE_VISIBLE[side_of(username)])
        if response.status_code in DENIED - {405} and not refusable:
            failures.append(f"{label}：可见的对象被拒绝（{response.status_code}）")
        elif response.status_code == 200 and key in TP_SHOWN_BY_NUMBER:
            number = sides[state].get(TP_SHOWN_BY_NUMBER[key], "")
            if not number or number not in body_text(response):
                failures.append(f"{label}：页面没有显示该对象的编号 {number}")
        elif response.status_code == 200 and key not in TP_WITHOUT_TEXT:
            text = body_text(response)
            if STATES[state] not in text and CASE_MARKS[state] not in text:
                failures.append(f"{label}：页面没有显示该对象的内容（{STATES[state]} / {CASE_MARKS[state]}）")

    def work(label, response) -> str:
        if response.status_code >= 500:
            failures.append(f"{label}：服务器错误 {response.status_code}")
        elif response.status_code == 200:
            leaked(label, [body_text(response)])
        return str(response.status_code)

    for p, url, kinds in patterns():
        label, cells = p.route, []
        tp_screen = (p.name or "").startswith("thirdparty:") and p.name not in ("thirdparty:m_login",
                                                                                "thirdparty:m_logout")
        objectish = any(k in ("object", "voucher_number") for k, _ in kinds)
        if p.key in PUBLIC:  # the public voucher check: anyone, never a party or case-only text
            for state, side in sides.items():
                values = values_for(kinds, side) if kinds else []
                target = build(p, values) if values is not None else None
                if target is None:
                    continue
                r = client.get(target)
                text = body_text(r)
                cells.append(f"{state}:{r.status_code}")
                if r.status_code >= 500:
                    failures.append(f"{label} {target}：服务器错误 {r.status_code}")
                hit = next((m for m in list(CASE_MARKS.values()) + ["王建国", "13800138000"] if m in text), None)
                if hit:
                    failures.append(f"{label} {target}：公开的凭证核验页显示了案件/当事人信息 {hit}")
            rows.append(f"{label}  {' '.join(cells)}")
            continue
        if objectish:
            for state, side in sides.items():
                values = values_for(kinds, side)
                if values is None:
                    continue
                target = build(p, values)
                if target is None:
                    continue
                here = f"{label} [{state}] {target}"
                if anonymous:
                    cells.append(state + ":" + deny(here + " GET", client.get(target)))
                    if p.key not in NO_POST and p.name != "verify_voucher":
                        deny(here + " POST", client.post(target, POST_DATA))
                        changed(here)
                elif may_see(username, state, kinds) and not (tp_screen and username not in THIRD_PARTY):
                    response = client.get(target)
                    cells.append(state + ":" + work(here + " GET", response))
                    if username in THIRD_PARTY and (case_linked(kinds) or dispatch_object(kinds)):
                        shown(here, p.key, response, state)
                else:
                    cells.append(state + ":" + deny(here + " GET", client.get(target)))
                    if p.key not in NO_POST:
                        deny(here + " POST", client.post(target, POST_DATA), strict=False)
                        changed(here)
        else:
            values = other_object_values(kinds) if kinds else []
            if values is None:
                continue
            target = build(p, values)
            if target is None:
                continue
            if anonymous:
                if p.name in ("verify",):
                    cells.append(work(f"{label} GET", client.get(target)))
                else:
                    cells.append(deny(f"{label} GET", client.get(target)))
            elif tp_screen and username not in THIRD_PARTY:
                cells.append(deny(f"{label} GET", client.get(target)))
            else:
                for search in SEARCH_TERMS:
                    cells.append(work(f"{label}{search} GET", client.get(target + search)))
                if p.key not in NO_POST and username in THIRD_PARTY:
                    # a POST naming the cases and orders the user may not touch (admin bulk actions…)
                    side = side_of(username)
                    foreign = [sides[k] for k in STATES if k not in CASE_VISIBLE[side]]
                    data = {**POST_DATA, "_selected_action": [str(s["cases"][0].pk) for s in foreign],
                            "user": str(matrix_world["rival" if side == "own_org" else "mediator"].pk)}
                    r = client.post(target, data)
                    if r.status_code >= 500:
                        failures.append(f"{label} POST：服务器错误 {r.status_code}")
                    changed(f"{label} POST")
        rows.append(f"{label}  {' '.join(cells)}")

    out = Path(settings.BASE_DIR) / "test-output" / "thirdparty-matrix"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{username}.txt").write_text("\n".join(rows + [""] + failures) + "\n", encoding="utf-8")
    assert not failures, f"{username}：{len(failures)} 处不符合第三方权限矩阵：\n" + "\n".join(failures[:60])
