"""Permission matrix: every screen × every role × own / other region, generated from the URL
configuration — a screen added tomorrow (H5, admin, anything under config.urls) is in the
matrix without touching this file, or this file fails and says which parameter it cannot fill.

How a URL pattern is classified (``classify_all``):
- exempt: public or session-ending pages, listed in EXEMPT with the reason;
- object pattern: it takes the id of a Case or of a row linked to a case (Party, Review,
  MediationLog, Attachment, CaseFile, Notice …). The model comes from the admin path
  (admin/<app>/<model>/<id>/…), the parameter name (item_pk → 调解清单) or the path segment
  before the id (cases/<pk>/, attachments/<pk>/, messages/<pk>/ …, see segment_models);
- other-object pattern: an id of something that is not region data (groups, dictionaries,
  schedules, users …): reachable only by logging in, never a server error;
- list pattern: no id; built plainly and with searches.

What is asserted, per user (anonymous, 社区调解员 demo_mediator 湖滨社区, 街道管理员 demo_street
东湖街道, 区级管理员 demo_district, 第三方调解员 demo_tp_mediator, 部门用户 demo_dept, and the
three administrators of 三员分立 demo_sysadmin, demo_secadmin, demo_auditor, who see no case data;
their privilege-escalation probes are in tests/test_privilege_escalation.py):
- anonymous: every non-exempt URL redirects to a login page (or answers 401/403/405), GET and POST,
  and a POST changes nothing;
- an object of another region (溪口社区 for the community and the street; a neighbouring district,
  邻区, for the district-level users; any case for the third party, who has no case rights):
  GET answers 403/404/405 — or a redirect that ends there or at a login page — never a 200, and
  nothing of it is on the page; a POST with every field a handling form might take (the decision
  "审核通过", an opinion, a log, a result, region = the other region …) never answers 200 (it may
  refuse by redirecting) and changes nothing anywhere outside the user's region;
- a URL mixing an own id with another region's id (…/cases/<own>/items/<other's item>/…): the same;
- lists and every other page a user opens: never a title, log, result… of a case outside the
  user's region (every text of those cases carries a marker such as 【矩阵乙】; parties share one
  name and ID number across regions, so "similar cases" and ID searches are tested too) — also
  when opened again after all the POSTs; a POST (admin bulk actions on other regions' ids, add
  forms with another region) changes nothing there;
- an own object (own region, for the users with case rights) opens — a page that shows it shows
  its text (the region's marker), so a deny-everything regression fails too;
- "changed nothing" compares every row under the other regions of every model that belongs to
  a region (tests/fingerprint.py finds them by their path to a region; a model without one is
  named there with the reason); the bulk-action POSTs carry what the actions' confirmation steps
  need (apply, reason, assignee, tags) so only the scope can stop them;
- nothing answers 5xx.

The district admin sees all of 示范区 by design, so for demo_district (and demo_dept, who sits at
the district) "other region" is the neighbouring district 邻区, which no demo user belongs to.

The matrix (pattern × user → statuses) is written to test-output/permission-matrix/.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

USERS = ["anonymous", "demo_mediator", "demo_street", "demo_district", "demo_tp_mediator", "demo_dept",
         # 三员: no case rights at all (the system admin sits at the district; the others nowhere)
         "demo_sysadmin", "demo_secadmin", "demo_auditor"]
# Patterns in the URL configuration today (see the matrix file); the walk must never find fewer.
MIN_PATTERNS = 161
MIN_OBJECT_PATTERNS = 37

# Exempt from the matrix — keep this short; everything else is checked.
EXEMPT = {
    "admin:login": "登录页：必须对匿名用户开放",
    "h5:login": "H5 登录页：必须对匿名用户开放",
    "admin:logout": "退出登录：会结束测试客户端的会话；不涉及任何数据",
    "h5:logout": "H5 退出登录：同上",
    "thirdparty:m_login": "第三方 H5 登录页：必须对匿名用户开放",
    "thirdparty:m_logout": "第三方 H5 退出登录：同上",
    "admin:jsi18n": "admin 的 JavaScript 翻译目录：静态内容，不含数据",
    "": "根路径只重定向到 /admin/（由 admin 自己要求登录）",
    "verify": "确认凭证核验页：公开（只显示有效/无效与凭证本身的信息，不含当事人）",
    "verify_voucher": "确认凭证核验结果：同上，公开",
    "ops:health_live": "负载均衡存活探针：公开，只回答 ok，不含数据",
    "ops:health_ready": "负载均衡就绪探针：公开，只回答各项检查 正常/异常 与中文原因，不含数据与密钥（tests/test_ops_health.py）",
    "admin/(?P<url>.*)$": "admin 的兜底 URL（补斜杠、其余 404），不是一个页面",
}
# Not posted to: the request would act on the logged-in test user's own account, not on data.
NO_POST = {
    "admin:password_change": "修改本人密码",
    "admin:password_change_done": "修改密码完成页",
}
STATIC_PREFIXES = (settings.STATIC_URL.lstrip("/"), settings.MEDIA_URL.lstrip("/"))

# Values for parameters that are not object ids.
VALUE_PARAMS = {
    "entity": ["case", "party"],              # lowcode/form-rules/<entity>/, try-expression/<entity>/
    "kind": ["region", "org", "user"],        # admin/orgs/<model>/import/template/<kind>/ (day-one import)
    "code": ["ywtg", "wlsq"],                 # integrations/sso/<code>/: an outside system's code (SSO entry)
}

MARK = {"own": "【矩阵甲】", "other": "【矩阵乙】", "far": "【矩阵丙】"}
# users whose role opens the cases of their region: their own objects must be shown
SEES_CASES = {"demo_mediator", "demo_street", "demo_district"}
# Own-region object screens a user of SEES_CASES is refused by design (403/404; 405 — a POST-only
# endpoint — is never a refusal), and screens that answer without the object's text. Keys: a URL
# name, a name prefix ending in ":", or a route ending in "/"; value: (users or "*", reason).
DISTRICT_ONLY = ("demo_mediator", "demo_street")
OWN_REFUSED = {
    "delete/": ("*", "删除：案件、办理记录、线索、发单不能删除（业务角色没有这些删除权限）"),
    "thirdparty:": ("*", "第三方调解端：只对第三方账号开放"),
    "admin:view_on_site": ("*", "admin 的“在网站上查看”：这些模型没有对外页面"),
    "admin:cases_case_handle": ("*", "办理页需要 ?action= 或 ?form= 参数，无参数为 404"),
    "admin/cases/case/^([^/]+)/history/([^/]+)/$": ("*", "矩阵为两件案件都填第一件的历史编号，第二件的 URL 不成立"),
    "admin:clues_rawrecord_": (DISTRICT_ONLY, "原始记录：区级（渠道原文含未清洗的个人信息）"),
    "admin:dispatch_": (DISTRICT_ONLY, "发单与竞单：区级的功能"),
    "dispatch:voucher": (DISTRICT_ONLY, "确认凭证：区级与中选组织"),
    "admin:dispatch_dispatchorder_award": ("*", "选定：只接受 POST（GET 为 404）"),
    "admin:dispatch_dispatchorder_withdraw": ("*", "撤回：只接受 POST（GET 为 404）"),
    "admin:dispatch_dispatchorder_evaluate": ("*", "评价：只接受 POST（GET 为 404）"),
    "admin:notices_notice_": ("*", "消息按收件人：同一区域里别人的消息也看不到（本人的消息见 h5/消息中心）"),
    "h5/messages/<int:pk>/": ("*", "同上：消息按收件人"),
    "api/v1/": ("*", "对外接口（一单位一平台）：只认已登记外部系统的签名请求，登录会话一律 401（tests/test_api.py）"),
}
OWN_WITHOUT_TEXT = {
    "/history/": ("*", "变更历史：列出谁在何时改了什么，不重复对象的正文"),
    "admin:cases_party_delete": ("*", "当事人删除确认页：只有姓名（各区域同名同号）"),
}


def listed(table: dict, c: "Classified", username: str) -> bool:
    for key, (users, _why) in table.items():
        hit = (c.pattern.key == key or (key.endswith(":") or key.endswith("_")) and c.pattern.key.startswith(key)
               or key.endswith("/") and (c.pattern.route.endswith(key) or key in c.pattern.route)
               or c.pattern.route == key)
        if hit and (users == "*" or username in users):
            return True
    return False
REGIONS = {"own": "湖滨社区", "other": "溪口社区", "far": "邻区社区"}
SHARED_ID = "11010519491231002X"         # the same applicant in every region
SEARCHES = ["", f"?q={SHARED_ID}", "?q=矩阵", "?q=矩阵&box=all&tab=mediating"]
DENIED = {401, 403, 404, 405}
REDIRECTS = {301, 302, 303, 307, 308}


# --- walking the URL configuration ---------------------------------------------------------------
@dataclass
class Pattern:
    route: str               # the concatenated pattern text, for reading
    name: str | None         # "namespace:name" when it has one
    callback: object
    params: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.name if self.name is not None else self.route


def walk(patterns=None, prefix: str = "", namespaces: tuple = ()) -> list[Pattern]:
    out = []
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            ns = namespaces + ((p.namespace,) if p.namespace else ())
            out += walk(p.url_patterns, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern):
            name = ":".join(namespaces + (p.name,)) if p.name else None
            out.append(Pattern(prefix + str(p.pattern), name, p.callback, _params(p)))
    return out


def _params(p: URLPattern) -> list[str]:
    """Parameter names in URL order ("_1", "_2" … for positional regex groups)."""
    regex = p.pattern.regex
    names = {i: n for n, i in regex.groupindex.items()}
    return [names.get(i, f"_{i}") for i in range(1, regex.groups + 1)]


SENTINEL = "987650{}"  # digits: valid for int, str, slug, path and [^/]+ parameters


def value_options(p: Pattern, name: str) -> list[str] | None:
    """Allowed values of a parameter that is not an id (None: it is an id)."""
    if name in VALUE_PARAMS:
        return list(VALUE_PARAMS[name])
    m = re.search(r"\(\?P<%s>([\w|]+)\)" % re.escape(name), p.route)
    return m.group(1).split("|") if m else None  # a parameter restricted to fixed words


def build(p: Pattern, values: list[str]) -> str | None:
    """The URL for these parameter values (None when it cannot be built)."""
    from django.urls import NoReverseMatch

    if p.name is not None:
        positional = all(n.startswith("_") for n in p.params)
        try:
            return reverse(p.name, args=values) if positional else \
                reverse(p.name, kwargs=dict(zip(p.params, values)))
        except NoReverseMatch:
            return None
    text = p.route  # unnamed route patterns: substitute <conv:name> in order
    for v in values:
        text = re.sub(r"<(?:\w+:)?\w+>", v, text, count=1)
    return None if re.search(r"[(^$<]", text) else "/" + text


def template(p: Pattern) -> str | None:
    """The URL with a numbered sentinel per id parameter (fixed-word parameters: their first word)."""
    values = []
    for i, name in enumerate(p.params):
        options = value_options(p, name)
        values.append(options[0] if options else SENTINEL.format(i))
    return build(p, values)


# --- which model a parameter is the id of ----------------------------------------------------------
def segment_models():
    from notices.models import Notice

    from cases import models as m
    from clues.models import Clue, RawRecord
    from dispatch.models import AwardedOrder, Bid, DispatchOrder, Voucher
    from extensions.escalation.models import CaseWarning, KeyPerson, WarningEvent

    table = {
        m.Case: ["case", "cases"], m.Party: ["party", "parties"], m.Review: ["review", "reviews"],
        m.MediationLog: ["log", "logs", "mediationlog"], m.MediationItem: ["item", "items", "mediationitem"],
        m.MediationResult: ["result", "results", "mediationresult"],
        m.HelpRequest: ["help", "helps", "helprequest"], m.Visit: ["visit", "visits"],
        m.Attachment: ["attachment", "attachments", "file", "files"],
        m.CaseEvent: ["event", "events", "caseevent", "trace"],
        m.CaseFile: ["casefile", "casefiles", "archive", "archives"],
        Notice: ["notice", "notices", "message", "messages"],
        Clue: ["clue"], RawRecord: ["rawrecord"],  # region data too (线索库, scoped by the clue's region)
        # 发单 (scoped by the case's region; third parties: dispatch.scope)
        DispatchOrder: ["order", "orders", "dispatchorder"], AwardedOrder: ["awardedorder"],
        Bid: ["bid", "bids"], Voucher: ["voucher", "vouchers"],
        CaseWarning: ["casewarning"], WarningEvent: ["warningevent"], KeyPerson: ["keyperson"],  # 升级预警
    }
    return {alias: model for model, aliases in table.items() for alias in aliases}


def param_kinds(p: Pattern, url: str) -> list[tuple[str, object]]:
    """For each parameter: ("object", model) / ("history", None) / ("value", [values]) /
    ("content_type", None) / ("unknown", reason)."""
    from django.apps import apps

    aliases = segment_models()
    segments = url.strip("/").split("/")
    out = []
    for i, name in enumerate(p.params):
        options = value_options(p, name)
        if options is not None:
            out.append(("value", options))
            continue
        if name == "content_type_id":
            out.append(("content_type", None))
            continue
        pos = segments.index(SENTINEL.format(i))
        before = segments[pos - 1] if pos else ""
        if before == "history" and i > 0:
            out.append(("history", None))
            continue
        if i > 0 and out[i - 1][0] == "content_type":
            from cases.models import Case

            out.append(("object", Case))
            continue
        hint = re.sub(r"_(pk|id)$", "", name)
        if hint in aliases:
            out.append(("object", aliases[hint]))
            continue
        if pos >= 2:  # admin/<app_label>/<model_name>/<id>/…
            try:
                out.append(("object", apps.get_model(segments[pos - 2], before)))
                continue
            except (LookupError, ValueError):
                pass
        if before in aliases:
            out.append(("object", aliases[before]))
            continue
        out.append(("unknown", f"参数 {name}（在“{before}/”之后）"))
    return out


@dataclass
class Classified:
    pattern: Pattern
    kind: str                 # exempt / list / object / other_object / unknown
    url: str | None = None    # the sentinel template
    kinds: list = field(default_factory=list)
    reason: str = ""


def classify_all() -> list[Classified]:
    out = []
    linked = set(segment_models().values())
    for p in walk():
        if p.key in EXEMPT or p.route in EXEMPT:
            out.append(Classified(p, "exempt", reason=EXEMPT.get(p.key) or EXEMPT[p.route]))
            continue
        if p.route.startswith(STATIC_PREFIXES):
            out.append(Classified(p, "exempt", reason="静态文件/媒体文件（开发服务器）"))
            continue
        url = template(p)
        if url is None:
            out.append(Classified(p, "unknown", reason="无法生成 URL（无名称的正则 URL）"))
            continue
        kinds = param_kinds(p, url)
        unknown = [k[1] for k in kinds if k[0] == "unknown"]
        if unknown:
            out.append(Classified(p, "unknown", url, kinds, "；".join(unknown)))
        elif any(k[0] == "object" and k[1] in linked for k in kinds):
            out.append(Classified(p, "object", url, kinds))
        elif any(k[0] == "object" for k in kinds):
            out.append(Classified(p, "other_object", url, kinds))
        else:
            out.append(Classified(p, "list", url, kinds))
    return out


# --- the data: the same kinds of rows in three regions ------------------------------------------------
@pytest.fixture
def regions_data(world, settings, tmp_path):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from cases.models import (Attachment, Case, CaseEvent, CaseFile, HelpRequest, MediationItem, MediationLog,
                              MediationResult, Party, Review, Visit)
    from clues.models import Channel, Clue, ClueParty, RawRecord
    from notices.models import Notice
    from orgs.models import Region

    settings.MEDIA_ROOT = tmp_path / "media"
    far_district = Region.objects.create(code="339902", name="邻区", level=1)
    far_street = Region.objects.create(code="339902001", name="邻区街道", level=2, parent=far_district)
    Region.objects.create(code="339902001001", name="邻区社区", level=3, parent=far_street)

    mediator_group = Group.objects.get(name="社区调解员")
    locals_ = {"own": User.objects.get(username="demo_mediator")}
    for variant, username in (("other", "matrix_xikou"), ("far", "matrix_linqu")):
        u = User.objects.create_user(username, password="x-unused-1", display_name=f"{REGIONS[variant]}调解员",
                                     region=Region.objects.get(name=REGIONS[variant]), is_staff=True)
        u.groups.add(mediator_group)
        locals_[variant] = u

    data = {}
    now = timezone.now()
    for variant, region_name in REGIONS.items():
        mark, region = MARK[variant], Region.objects.get(name=region_name)
        who = locals_[variant]
        a = Case.objects.create(title=f"{region_name}宅基地纠纷{mark}", description=f"调解中的纠纷{mark}",
                                case_type="housing", region=region, registrant=who, status="mediating",
                                address="示范区解放路1号")
        b = Case.objects.create(title=f"{region_name}邻里噪音纠纷{mark}", description=f"待审核的纠纷{mark}",
                                case_type="neighbor", region=region, registrant=who, status="pending_review",
                                address="示范区解放路1号")
        for case in (a, b):
            Party.objects.create(case=case, name="王建国", id_number=SHARED_ID, phone="13800138000",
                                 address="示范区解放路1号")
        log = MediationLog.objects.create(case=a, content=f"调解日志{mark}", place=f"调解室{mark}", created_by=who)
        attachment = Attachment.objects.create(case=a, log=log, purpose="log", name=f"照片{mark}.txt",
                                               file=ContentFile(f"附件内容{mark}".encode(), name="x.txt"),
                                               size=10, uploaded_by=who)
        result = MediationResult.objects.create(case=b, outcome="success", agreement=f"调解协议{mark}",
                                                submitted_by=who)
        review = Review.objects.create(case=b, kind="result", state="pending_review", submitted_by=who,
                                       submitted_at=now)
        casefile = CaseFile.objects.create(name=f"宅基地纠纷档案{mark}", case_type="housing", region=region,
                                           created_by=who)
        casefile.cases.add(a)
        channel, _ = Channel.objects.get_or_create(key="hotline12345", defaults={"name": "12345热线", "kind": "event"})
        raw = RawRecord.objects.create(channel=channel, source_id=f"M-{variant}", record_key=f"hotline12345:M-{variant}",
                                       payload={"诉求标题": f"线索原文{mark}"}, payload_hash=variant)
        clue = Clue.objects.create(record_key=raw.record_key, raw=raw, channel=channel, source_id=raw.source_id,
                                   title=f"{region_name}来电线索{mark}", text=f"线索内容{mark}", region=region,
                                   region_path=region.path, occurred_at=now)
        ClueParty.objects.create(clue=clue, name="王建国", phone="13800138000", id_number=SHARED_ID)
        data[variant] = {
            Clue: clue,
            RawRecord: raw,
            "cases": [a, b],
            Party: a.parties.get(),
            MediationLog: log,
            MediationItem: MediationItem.objects.create(case=a, content=f"调解事项{mark}", claim_amount=1000),
            MediationResult: result,
            Review: review,
            HelpRequest: HelpRequest.objects.create(case=a, kind="escalate", reason=f"求助原因{mark}",
                                                    requested_by=who),
            Visit: Visit.objects.create(case=a, way="phone", satisfaction="satisfied", notes=f"回访情况{mark}",
                                        visitor=who),
            Attachment: attachment,
            CaseEvent: CaseEvent.objects.create(case=a, kind="transition", message=f"开始调解{mark}", actor=who),
            CaseFile: casefile,
            Notice: Notice.objects.create(recipient=who, kind="review", title=f"待审核：{b.title}",
                                          body=f"请审核{mark}", case=b),
            "region": region,
        }
    # 升级预警 rows of each region (extensions.escalation): a case's colour, a history row, a 重点人
    from extensions.escalation import evaluate as escalation
    from extensions.escalation.models import CaseWarning, KeyPerson, WarningEvent

    escalation.evaluate_cases([c.pk for v in REGIONS for c in data[v]["cases"]], notify=False)
    for variant in REGIONS:
        a, mark = data[variant]["cases"][0], MARK[variant]
        data[variant][CaseWarning] = CaseWarning.objects.get(pk=a.pk)
        data[variant][WarningEvent] = WarningEvent.objects.create(
            case=a, to_level="red", reasons=[f"预警原因{mark}"], region_path=a.region_path)
        data[variant][KeyPerson] = KeyPerson.objects.create(
            name=f"重点人{mark}", phone="13800138000", reason=f"列管原因{mark}", region=data[variant]["region"])
    # 发单 of each region: awarded to an organisation no demo user belongs to (so the demo third
    # party sees none of them), with its bid and voucher
    from dispatch.models import AwardedOrder, Bid, DispatchOrder, Voucher
    from orgs.models import Organization
    from tests.dispatch_helpers import awarded_order_rows

    matrix_org = Organization.objects.create(name="矩阵调解所", kind="third", region=data["own"]["region"])
    matrix_tp = User.objects.create_user("matrix_tp", password="x-unused-1", organization=matrix_org)
    for variant in REGIONS:
        order, bid, voucher = awarded_order_rows(data[variant]["cases"][0], matrix_org, matrix_tp)
        data[variant].update({DispatchOrder: order, AwardedOrder: AwardedOrder.objects.get(pk=order.pk),
                              Bid: bid, Voucher: voucher})
    # each demo user's own notice (the message centre is per recipient, not per region)
    for username in ("demo_mediator", "demo_street", "demo_district", "demo_dept"):
        own_case = data["own"]["cases"][1]
        data.setdefault("notices", {})[username] = Notice.objects.create(
            recipient=User.objects.get(username=username), kind="review", title=f"待审核：{own_case.title}",
            body=f"请审核{MARK['own']}", case=own_case)
    return data


# --- judging responses ---------------------------------------------------------------------------------
LOGIN_PATHS = None


def is_login(location: str) -> bool:
    global LOGIN_PATHS
    if LOGIN_PATHS is None:
        LOGIN_PATHS = {reverse("admin:login")}
        try:
            LOGIN_PATHS.add(reverse("h5:login"))
            LOGIN_PATHS.add(reverse("thirdparty:m_login"))
        except Exception:  # noqa: BLE001
            pass
        LOGIN_PATHS.add(reverse(settings.LOGIN_URL) if ":" in settings.LOGIN_URL else settings.LOGIN_URL)
    path = location.split("?")[0].split("://", 1)[-1]
    path = path[path.find("/"):] if "://" in location else path
    return path in LOGIN_PATHS


def body_text(response) -> str:
    """The text a user gets: HTML/JSON, or the cells of an Excel download."""
    # (never response.close(): the test client has closed it — a second close() would fire
    # request_finished and close the test's database connection on PostgreSQL)
    if getattr(response, "streaming", False):
        raw = b"".join(response.streaming_content)  # the test client's wrapper closes the file
    else:
        raw = response.content
    ctype = response.get("Content-Type", "")
    if "spreadsheetml" in ctype or raw[:2] == b"PK":
        try:
            import openpyxl

            wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
            return "\n".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
                             for c in row if c is not None)
        except Exception:  # noqa: BLE001 - not a workbook after all
            pass
    for enc in ("utf-8", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def follow(client: Client, response, hops: int = 5):
    """Follow redirects with GET; returns (final response, [statuses], texts seen, reached_login)."""
    statuses, texts = [response.status_code], []
    while response.status_code in REDIRECTS and hops:
        location = response["Location"]
        if is_login(location):
            return response, statuses, texts, True
        response = client.get(location)
        statuses.append(response.status_code)
        texts.append(body_text(response))
        hops -= 1
    return response, statuses, texts, False


def fingerprint(prefixes: list[str]) -> dict[str, list]:
    """Every row under ``prefixes`` of every model that belongs to a region (tests/fingerprint.py:
    cases and everything linked to them, clues, raw records, orders, bids, vouchers, grants,
    warnings, key persons, history rows …)."""
    from tests import fingerprint as fp

    return fp.fingerprint(prefixes)


# --- one user's view of the world ------------------------------------------------------------------------
@dataclass
class Perspective:
    username: str
    client: Client
    visible: list[dict]         # data of the regions in scope, own region first (empty: no case rights)
    other: dict                 # data of a region out of scope
    invisible_marks: list[str]  # markers of every region out of scope
    invisible_prefixes: list[str]

    @property
    def own(self) -> dict | None:
        return self.visible[0] if self.visible else None


def perspective(username: str, data: dict) -> Perspective:
    from accounts.models import User
    from notices.models import Notice

    client = Client()
    regions = {v: d for v, d in data.items() if v in MARK}
    if username == "anonymous":
        return Perspective(username, client, [regions["own"]], regions["own"], list(MARK.values()),
                           [d["region"].path for d in regions.values()])
    u = User.objects.get(username=username)
    client.force_login(u)
    prefix = u.region.path if u.region_id else None
    in_scope = [v for v in ("own", "other", "far") if prefix and regions[v]["region"].path.startswith(prefix)]
    out_of_scope = [v for v in ("other", "far", "own") if v not in in_scope]
    visible = [dict(regions[v]) for v in in_scope]
    if visible and username in data.get("notices", {}):
        visible[0][Notice] = data["notices"][username]
    return Perspective(username, client, visible, regions[out_of_scope[0]],
                       [MARK[v] for v in out_of_scope], [regions[v]["region"].path for v in out_of_scope])


def object_values(kind_list, side: dict) -> list[list[str]]:
    """Concrete values for the parameters, from one region's rows (Case ids: both cases)."""
    from django.contrib.contenttypes.models import ContentType

    from cases.models import Case

    combos: list[list[str]] = [[]]
    previous = None
    for kind, what in kind_list:
        if kind == "value":
            options = list(what)
        elif kind == "content_type":
            options = [str(ContentType.objects.get_for_model(Case).pk)]
        elif kind == "history":
            options = [str(_history_id(previous))]
        elif kind == "object":
            objs = side["cases"] if what is Case else [side[what]]
            options = [str(o.pk) for o in objs]
            previous = objs[0]
        else:
            raise AssertionError(kind)
        combos = [c + [o] for c in combos for o in options]
    return combos


def _history_id(obj) -> int:
    history = getattr(obj, "history", None)
    return history.order_by("-history_id").values_list("history_id", flat=True).first() if history else 1


def other_object_values(kind_list) -> list[str] | None:
    """Any existing row for ids of models that are not region data (or a missing id)."""
    values, previous = [], None
    for kind, what in kind_list:
        if kind == "value":
            values.append(what[0])
        elif kind == "object":
            previous = what.objects.order_by("pk").first()
            values.append(str(previous.pk) if previous else "999999")
        elif kind == "history":
            values.append(str(_history_id(previous)) if previous else "1")
        else:
            return None
    return values


def fill(c: "Classified", values: list[str]) -> str:
    url = build(c.pattern, values)
    assert url is not None, f"{c.pattern.route}：无法用 {values} 生成 URL"
    return url


def post_data(side: dict, pk_list: list[int]) -> dict:
    """Everything a handling form might want: if a view accepted another region's object, this
    is enough for it to change something."""
    return {
        "post": "yes", "action": "审核通过", "opinion": "越权审核意见", "title": "被越权修改的标题",
        "description": "越权", "content": "越权写入的调解日志", "place": "越权", "participants": "越权",
        "outcome": "success", "agreement": "越权协议", "amount": "1", "kind": "escalate", "reason": "越权求助",
        "way": "phone", "satisfaction": "satisfied", "notes": "越权回访", "case_type": "neighbor",
        "region": str(side["region"].pk), "name": "越权档案", "tags": "group", "claim_amount": "1",
        "occurred_at": "2026-01-01 10:00", "visited_at": "2026-01-01 10:00", "party_count": "1",
        "source": "local", "_selected_action": [str(pk) for pk in pk_list], "index": "0", "select_across": "0",
        # the confirmation step of a bulk action (打标, 归档, 分派, 转为案件, 关闭): without "apply" it
        # only shows its form, and a refusal would prove nothing
        "apply": "1", "add": "group", "assignee": "",
    }


def bulk_data(me: "Perspective", side: dict, pk_list: list[int]) -> dict:
    """``post_data`` for a bulk action on a list: the choices a valid confirmation needs come from
    the user's own world (assignee: the user; region: the user's own), so only the scope of the
    selected ids can stop it."""
    from accounts.models import User

    data = post_data(side, pk_list)
    if me.username != "anonymous":
        data["assignee"] = str(User.objects.get(username=me.username).pk)
    if me.own is not None:
        data["region"] = str(me.own["region"].pk)
    return data


# --- the matrix -----------------------------------------------------------------------------------------
def test_every_url_pattern_is_classified_and_covered(world):
    classified = classify_all()
    counts = {k: sum(c.kind == k for c in classified) for k in ("object", "other_object", "list", "exempt", "unknown")}
    covered_n = len(classified) - counts["exempt"] - counts["unknown"]
    summary = (f"# {len(classified)} 个 URL 模式：覆盖 {covered_n} 个 × {len(USERS)} 个用户（{'、'.join(USERS)}）；"
               f"案件相关对象 {counts['object']}，其他对象 {counts['other_object']}，列表/表单 {counts['list']}，"
               f"豁免 {counts['exempt']}，无法生成 {counts['unknown']}")
    print(summary)
    write_report("patterns", [summary] + [f"{c.kind:13} {c.pattern.route}  [{c.pattern.key}]"
                              + (f"  — {c.reason}" if c.reason else "") for c in classified])
    unknown = [f"{c.pattern.route} ({c.pattern.key})：{c.reason}" for c in classified if c.kind == "unknown"]
    assert not unknown, ("权限矩阵无法为这些新页面生成 URL——在 tests/test_permission_matrix.py 的 "
                         "segment_models()/VALUE_PARAMS 里登记参数，或（仅限公开页面）加入 EXEMPT：\n"
                         + "\n".join(unknown))
    covered = [c for c in classified if c.kind != "exempt"]
    assert len(classified) >= MIN_PATTERNS, f"URL 配置里只找到 {len(classified)} 个 URL 模式，少于 {MIN_PATTERNS}"
    assert len(covered) >= MIN_PATTERNS - len(EXEMPT)
    assert sum(c.kind == "object" for c in classified) >= MIN_OBJECT_PATTERNS
    # the screens issue 3 is about are found
    keys = {c.pattern.key for c in covered}
    assert {"admin:cases_case_changelist", "admin:cases_case_detail", "admin:cases_party_change"} <= keys


def test_every_model_is_fingerprinted_or_explained(db):
    from tests import fingerprint as fp

    assert not fp.unexplained(), ("这些模型找不到所属区域，POST 是否改动了它们无从检查——给它们一个到区域的外键路径，"
                                  f"或在 tests/fingerprint.py 的 NOT_REGION_DATA 里写明原因：{fp.unexplained()}")
    labels = {m._meta.label for m in fp.region_models()}
    assert {"clues.Clue", "clues.RawRecord", "clues.ClueParty", "dispatch.DispatchOrder", "dispatch.Bid",
            "dispatch.Voucher", "escalation.KeyPerson", "escalation.CaseWarning", "escalation.WarningEvent",
            "cases.Case", "cases.HistoricalCase", "notices.Notice"} <= labels


def test_the_bulk_posts_of_the_matrix_change_own_rows(regions_data):
    """The matrix's bulk-action POST is complete: with the user's own ids it does what it says
    (so with another region's ids only the scope stops it)."""
    from cases.models import Case, CaseFile
    from clues.models import Clue

    me = perspective("demo_mediator", regions_data)
    own = regions_data["own"]
    clue, case = own[Clue], own["cases"][0]
    offered = admin_actions(me.client.get("/admin/clues/clue/").content.decode())
    offered += admin_actions(me.client.get("/admin/cases/case/").content.decode())
    assert {"assign_selected", "close_selected", "tag_selected", "archive_selected"} <= set(offered)

    def bulk(url, action, pk):
        response = me.client.post(url, {**bulk_data(me, own, [pk]), "action": action})
        assert response.status_code == 302, f"{action}：确认步骤没有完成（{response.status_code}）"

    bulk("/admin/clues/clue/", "assign_selected", clue.pk)
    assert Clue.objects.get(pk=clue.pk).assignee.username == "demo_mediator"
    bulk("/admin/clues/clue/", "close_selected", clue.pk)
    assert Clue.objects.get(pk=clue.pk).status == "closed"
    bulk("/admin/cases/case/", "tag_selected", case.pk)
    assert "group" in Case.objects.get(pk=case.pk).tags
    bulk("/admin/cases/case/", "archive_selected", case.pk)
    assert CaseFile.objects.get(name="越权档案").cases.filter(pk=case.pk).exists()


@pytest.mark.parametrize("username", USERS)
def test_permission_matrix(username, regions_data):
    me = perspective(username, regions_data)
    classified = [c for c in classify_all() if c.kind not in ("exempt", "unknown")]
    failures: list[str] = []
    rows: list[str] = []
    reads: list[tuple[str, str]] = []
    baseline = fingerprint(me.invisible_prefixes)
    anonymous = username == "anonymous"

    def check_text(label: str, texts) -> None:
        for text in texts:
            leaked = [m for m in me.invisible_marks if m in text]
            if leaked:
                i = text.find(leaked[0])
                failures.append(f"{label}：页面含有权限范围外的数据 {leaked[0]}（…{text[max(0, i - 80):i + 20]}…）")
                return

    def check_unchanged(label: str) -> None:
        nonlocal baseline
        now = fingerprint(me.invisible_prefixes)
        if now != baseline:
            from tests.fingerprint import changed

            failures.append(f"{label}：POST 改动了权限范围外的数据（{'、'.join(changed(baseline, now))}）")
            baseline = now

    def must_deny(label: str, response, method: str, strict: bool = True) -> str:
        """GET: 403/404/405 or a login page, also at the end of redirects. POST (strict=False): may
        refuse by redirecting (e.g. back to the user's own case with an error message) but never
        answers 200 itself; that nothing changed is checked by check_unchanged."""
        final, statuses, texts, login = follow(me.client, response)
        shown = "→".join(map(str, statuses)) + ("→登录" if login else "")
        if response.status_code >= 500 or any(s >= 500 for s in statuses):
            failures.append(f"{label} {method}：服务器错误 {shown}")
        elif strict and not (login or final.status_code in DENIED):
            failures.append(f"{label} {method}：应拒绝（403/404 或跳转登录），实际 {shown}")
        elif not strict and response.status_code == 200:
            failures.append(f"{label} {method}：应拒绝，实际 200（视图处理了范围外的对象）")
        if response.status_code not in REDIRECTS:
            texts = [body_text(response)] + texts
        check_text(f"{label} {method}", texts)
        return shown

    def check_shown(c: "Classified", label: str, response, side: dict) -> None:
        """An own object opens (or the screen redirects to where it is handled), and a page that
        answers shows the object's text — a page refusing everyone would pass must_work alone."""
        if response.status_code in DENIED - {405} and not listed(OWN_REFUSED, c, username):
            failures.append(f"{label} GET：本区域的对象被拒绝（{response.status_code}）")
        elif response.status_code == 200 and not listed(OWN_WITHOUT_TEXT, c, username):
            mark = MARK[next(v for v, name in REGIONS.items() if name == side["region"].name)]
            if mark not in getattr(response, "text_seen", ""):
                failures.append(f"{label} GET：页面没有显示本区域对象的内容 {mark}")

    def must_work(label: str, response) -> str:
        """A page the user may or may not be allowed to open: no server error, no foreign data."""
        status = response.status_code
        if status >= 500:
            failures.append(f"{label} GET：服务器错误 {status}")
        elif status == 200:
            response.text_seen = body_text(response)
            check_text(f"{label} GET", [response.text_seen])
        return str(status)

    for c in classified:
        p, label = c.pattern, c.pattern.route
        cells = []
        if c.kind == "object":
            sides = [("own", side) for side in me.visible] + ([] if anonymous else [("other", me.other)])
            for side_name, side in sides:
                for values in object_values(c.kinds, side):
                    url = fill(c, values)
                    if anonymous:
                        cells.append("匿名" + must_deny(f"{label} {url}", me.client.get(url), "GET"))
                        if p.key not in NO_POST:
                            must_deny(f"{label} {url}", me.client.post(url, post_data(side, [])), "POST")
                            check_unchanged(f"{label} {url}")
                    elif side_name == "own":
                        response = me.client.get(url)
                        cells.append("本" + must_work(f"{label} {url}", response))
                        reads.append((label, url))
                        if username in SEES_CASES:
                            check_shown(c, f"{label} {url}", response, side)
                    else:
                        cells.append("外" + must_deny(f"{label} {url}", me.client.get(url), "GET"))
                        if p.key not in NO_POST:
                            pks = [o.pk for o in side["cases"]]
                            must_deny(f"{label} {url}", me.client.post(url, post_data(side, pks)), "POST", strict=False)
                            check_unchanged(f"{label} {url}")
            # an own id next to another region's id (e.g. …/cases/<own>/items/<other's item>/…)
            objects = [i for i, k in enumerate(c.kinds) if k[0] in ("object", "history")]
            if not anonymous and me.own is not None and len(objects) > 1:
                own_values = object_values(c.kinds, me.own)[0]
                other_values = object_values(c.kinds, me.other)[0]
                mixed = own_values[:objects[1]] + other_values[objects[1]:]
                url = fill(c, mixed)
                cells.append("混" + must_deny(f"{label} {url}", me.client.get(url), "GET"))
                if p.key not in NO_POST:
                    must_deny(f"{label} {url}", me.client.post(url, post_data(me.other, [])), "POST", strict=False)
                    check_unchanged(f"{label} {url}")
        elif c.kind == "other_object":
            values = other_object_values(c.kinds)
            url = fill(c, values)
            if anonymous:
                cells.append("匿名" + must_deny(f"{label} {url}", me.client.get(url), "GET"))
            else:
                cells.append(must_work(f"{label} {url}", me.client.get(url)))
        else:  # list / form pages
            value_sets = object_values(c.kinds, me.other) if c.kinds else [[]]
            for values in value_sets:
                url = fill(c, values)
                if anonymous:
                    cells.append("匿名" + must_deny(f"{label} {url}", me.client.get(url), "GET"))
                    if p.key not in NO_POST:
                        must_deny(f"{label} {url}", me.client.post(url, post_data(me.other, [])), "POST")
                        check_unchanged(f"{label} {url}")
                    continue
                bulk: list[str] = []
                for search in SEARCHES:
                    response = me.client.get(url + search)
                    cells.append(must_work(f"{label} {url}{search}", response))
                    if search == "":
                        reads.append((label, url))
                        bulk = admin_actions(getattr(response, "text_seen", ""))
                if p.key in NO_POST:
                    continue
                # a POST with another region's ids: the review decision, and every bulk action offered
                other_ids = _ids_for_changelist(c, me.other) or [o.pk for o in me.other["cases"]]
                for action in ["审核通过"] + bulk:
                    data = bulk_data(me, me.other, other_ids)
                    data["action"] = action
                    response = me.client.post(url, data)
                    if response.status_code >= 500:
                        failures.append(f"{label} {url} POST action={action}：服务器错误 {response.status_code}")
                    check_unchanged(f"{label} {url} POST action={action}")
        rows.append(f"{c.kind:13} {label}  {' '.join(cells)}")

    # the same pages again after all those POSTs: a write must not make a later read leak either
    # (e.g. a form class whose shared field list a view mutated)
    for label, url in reads:
        must_work(f"{label} {url}（在上面的 POST 之后再次打开）", me.client.get(url))

    write_report(username, rows + [""] + failures)
    assert not failures, f"{username}：{len(failures)} 处不符合权限矩阵：\n" + "\n".join(failures)


def admin_actions(text: str) -> list[str]:
    """Bulk actions offered on an admin changelist (<select name="action">)."""
    m = re.search(r'<select name="action"[^>]*>(.*?)</select>', text, re.S)
    return [v for v in re.findall(r'<option value="([^"]+)"', m.group(1)) if v] if m else []


def _ids_for_changelist(c: Classified, side: dict) -> list[int]:
    """The other region's ids of the changelist's own model (admin/<app>/<model>/)."""
    from django.apps import apps

    from cases.models import Case

    m = re.match(r"admin/(\w+)/(\w+)/$", c.pattern.route)
    if not m:
        return []
    try:
        model = apps.get_model(m.group(1), m.group(2))
    except LookupError:
        return []
    if model is Case:
        return [o.pk for o in side["cases"]]
    return [side[model].pk] if model in side else []


def write_report(name: str, lines: list[str]) -> None:
    out = Path(settings.BASE_DIR) / "test-output" / "permission-matrix"
    out.mkdir(parents=True, exist_ok=True)
    legend = ("# 本=本区域对象 外=其他区域对象 混=本区域 id + 其他区域 id 匿名=未登录；"
              "数字为状态码，→ 为跳转（GET 跟随），登录=跳到登录页\n")
    (out / f"{name}.txt").write_text(legend + "\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.parametrize("username", ["demo_street"])  # a PC role with the second factor; H5: tests/test_sso.py
def test_an_sso_session_sees_exactly_what_a_password_session_sees(username, regions_data, monkeypatch):
    """Every list screen and every own-object screen of the matrix, opened once by the user's
    ordinary session and once by a session opened through 政钉 免登 (the loopback fake; the policy
    trusting 政钉 as the second factor): the same status and the same region markers on every page."""
    from accounts import policy
    from accounts.models import SecurityPolicy, User
    from integrations.models import ExternalAccount, ExternalSystem
    from tests.fakes.zzd import FakeZzd

    monkeypatch.setenv("ZZD_MATRIX_SECRET", "fake-secret")
    SecurityPolicy.objects.update_or_create(pk=1, defaults={"zzd_counts_as_factor": True})
    policy.clear_cache()
    me = perspective(username, regions_data)
    differences = []
    with FakeZzd(employees={"GE_m": {"employeeName": "矩阵", "org": "GO_m", "accountId": 501}}) as fake:
        system = ExternalSystem.objects.create(code="zzd", name="浙政钉", kind="zzd", enabled=True, base_url=fake.url,
                                               login_url=fake.url, app_key="fake-app", secret_env="ZZD_MATRIX_SECRET",
                                               tenant_id="1001", retries=0)
        ExternalAccount.objects.create(system=system, user=User.objects.get(username=username), external_id="501")
        sso = Client()
        assert sso.get("/integrations/zzd/h5/", {"code": fake.issue_code(501)}).status_code == 302
    urls = []
    for c in classify_all():
        if c.kind == "list":
            urls += [fill(c, values) for values in (object_values(c.kinds, me.other) if c.kinds else [[]])]
        elif c.kind == "object":
            urls += [fill(c, values) for side in me.visible for values in object_values(c.kinds, side)]
    for url in urls:
        a, b = me.client.get(url), sso.get(url)
        seen = [{m for m in MARK.values() if m in body_text(r)} if r.status_code == 200 else set() for r in (a, b)]
        if a.status_code != b.status_code or seen[0] != seen[1]:
            differences.append(f"{url}：密码会话 {a.status_code} {sorted(seen[0])}，政钉会话 {b.status_code} {sorted(seen[1])}")
    assert len(urls) > 50 and not differences, "\n".join(differences)
