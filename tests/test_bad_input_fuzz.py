"""Bad-input fuzz generated from the URL configuration (issue 11, "Done means" 3; finding 9).

Every URL pattern (tests/test_permission_matrix.py walks the URL conf and fills ids with real rows
of the user's own region; third-party pages get the demo organisation's orders) is opened as the
first role that can open it; every <form> on the page (parsed with html.parser) gets the corpus:

  edge dates 0001-01-01 / 9999-12-31 / 2099 / 2026-02-30, negative and huge numbers, 1e309, NaN,
  control and bidi characters, 100,000 characters, wrong types (JSON, markup, SQL), empty values.

Per form: one submission per corpus class with every field set from that class, then single-field
submissions (one bad field among the page's own values). GET forms (list filters, searches) get
the same as query parameters. Asserted:
- nothing answers 5xx, also after following redirects;
- a POST is answered with a message: a form error, a flash message, or a 4xx page in Chinese;
- nothing half-written: on a refused POST the row counts of every table of the system's apps
  are unchanged;
- nothing stored anywhere holds a control/bidi character or a date the system refuses.

Runs on SQLite only: what it checks does not depend on the database (PostgreSQL CI skips it).
Findings are written to test-output/bad-input-fuzz/."""
from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin, urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import Resolver404, resolve

from tests.test_permission_matrix import (REDIRECTS, Classified, body_text, classify_all, fill, is_login,
                                          object_values, other_object_values, regions_data)  # noqa: F401
from tests.test_thirdparty_screens import tp_world  # noqa: F401  (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.backend]  # backend: PostgreSQL refuses NUL bytes and over-long values that SQLite stores

ROLES = ["demo_district", "demo_mediator", "demo_street", "demo_config", "demo_tp_admin", "demo_tp_mediator",
         "demo_dept"]
PUBLIC_FORMS = ["/admin/login/", "/h5/login/", "/tp/m/login/", "/verify/"]

CORPUS: dict[str, list[str]] = {
    "edge_date_low": ["0001-01-01", "0001-01-01T00:00", "0001-01-01 00:00:00"],
    "edge_date_high": ["9999-12-31", "9999-12-31T23:59", "9999-12-31 23:59:59"],
    "far_future": ["2099-01-01", "2099-01-01T10:00"],
    "impossible_date": ["2026-02-30", "2026-13-45T25:61"],
    "negative": ["-1", "-99999999.99", "-0.01"],
    "huge": ["1e309", "99999999999999999999999999999", "NaN", "Infinity"],
    "control": ["标题\x07响铃", "a\x1b[31mb", "c\x85d", "e\x00f", "g\x7fh"],
    "bidi": ["合同\u202e纠纷", "\u2066abc\u2069", "名\u200f字", "\u061c标题", "\u202a嵌入\u202c"],
    "oversize": ["长" * 100_000],
    "wrong_type": ["abc", '{"a": 1}', "[1, 2]", "<script>alert(1)</script>", "' or 1=1--"],
    "empty": [""],
}
# (NUL is refused by Django's own form fields; SQLite's LIKE cannot look for it)
FORBIDDEN_STORED = ["\u202e", "\u2066", "\u200f", "\u061c", "\u202a", "\x07", "\x1b", "\x85", "\x7f"]
SINGLE_FIELD_POSTS = 5       # per form: one bad field among the page's own values
MESSAGE_MARKERS = ("errorlist", 'role="alert"', "alert-", "callout-", "未保存", "h5-flash", "h5-error", "invalid-feedback",
                   "errornote", "messagelist", "is-invalid", "weui-cell_warn", "text-danger", "weui-toptips")
ERROR_MARKERS = ("errorlist", "errornote", "alert-danger", "callout-danger", "alert-warning", "alert-error", "h5-flash__item_error",
                 "h5-flash__item_warning", "h5-error", "invalid-feedback", "is-invalid", "weui-cell_warn",
                 "text-danger")
SKIP_ACTIONS = re.compile(r"/(logout|password_change|password|delete|revert|otp|2fa|unlock)/|/delete/|/history/")
CJK = re.compile(r"[\u4e00-\u9fff]")


# --- forms on a page -------------------------------------------------------------------------------------
@dataclass
class Form:
    method: str
    action: str
    fields: list[dict] = field(default_factory=list)    # {"name", "kind", "value", "options"}
    submit: tuple[str, str] | None = None

    def defaults(self) -> dict:
        data: dict[str, list[str]] = {}
        for f in self.fields:
            if f["kind"] in ("checkbox", "radio") and not f.get("checked"):
                continue
            if f["kind"] == "file":
                continue
            data.setdefault(f["name"], []).append(f["value"])
        if self.submit and self.submit[0]:
            data.setdefault(self.submit[0], [self.submit[1]])
        return data

    def fuzzable(self) -> list[str]:
        names = []
        for f in self.fields:
            if f["kind"] in ("file", "submit") or f["name"] in ("csrfmiddlewaretoken",) or f["name"] in names:
                continue
            names.append(f["name"])
        return names


class FormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: dict | None = None
        self.textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.current = Form(a.get("method", "get").lower(), a.get("action", ""))
            self.forms.append(self.current)
        elif self.current is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image", "button"):
                if self.current.submit is None or a["name"] == "_save":   # the admin's 保存, not 预览
                    self.current.submit = (a["name"], a.get("value", ""))
                return
            self.current.fields.append({"name": a["name"], "kind": kind, "value": a.get("value", ""),
                                        "checked": "checked" in a})
        elif tag == "button" and a.get("type", "submit") == "submit":
            if self.current.submit is None or a.get("name") == "_save":
                self.current.submit = (a.get("name", ""), a.get("value", ""))
        elif tag == "select" and a.get("name"):
            self.select = {"name": a["name"], "kind": "select", "value": None, "options": []}
            self.current.fields.append(self.select)
        elif tag == "option" and self.select is not None:
            self.select["options"].append(a.get("value", ""))
            if "selected" in a or self.select["value"] is None:
                self.select["value"] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self.textarea = {"name": a["name"], "kind": "textarea", "value": ""}
            self.current.fields.append(self.textarea)

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select" and self.select is not None:
            self.select["value"] = self.select["value"] or ""
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def forms_on(html: str) -> list[Form]:
    parser = FormParser()
    parser.feed(html)
    return [f for f in parser.forms if f.fields or f.submit]


# --- what the database holds ----------------------------------------------------------------------------
def project_models():
    from django.apps import apps

    roots = (str(Path(settings.BASE_DIR) / "platform"), str(Path(settings.BASE_DIR) / "extensions"))
    return [m for m in apps.get_models() if m._meta.app_config.path.startswith(roots)
            and m._meta.app_label != "secure" and not m._meta.proxy and m._meta.managed]


def row_counts(models) -> dict[str, int]:
    """Rows of every table of the system's apps (the audit trail aside), in one query."""
    tables = sorted({m._meta.db_table for m in models})
    sql = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {connection.ops.quote_name(t)}" for t in tables)
    with connection.cursor() as cur:
        cur.execute(sql)
        return dict(cur.fetchall())


def stored_violations(models) -> list[str]:
    """Rows holding a control/bidi character in a text column, or a date outside the range."""
    from django.db import models as m
    from django.db.models import Q

    from lowcode.fieldtypes import latest_date

    out = []
    latest = latest_date() + dt.timedelta(days=2)
    for model in models:
        # plain text columns (encrypted ones hold ciphertext; their plaintext passed the same form)
        text = [f.name for f in model._meta.concrete_fields if isinstance(f, (m.CharField, m.TextField))
                and type(f).__module__.startswith("django.") and not f.choices]
        dates = [f for f in model._meta.concrete_fields if isinstance(f, m.DateField)]
        q = Q()
        for name, ch in itertools.product(text, FORBIDDEN_STORED):
            q |= Q(**{f"{name}__contains": ch})
        for f in dates:
            q |= Q(**{f"{f.name}__lt": lo_of(f)}) | Q(**{f"{f.name}__gt": hi_of(f, latest)})
        if not q:
            continue
        for row in model._default_manager.filter(q)[:3]:
            bad = [n for n in text if any(ch in (getattr(row, n) or "") for ch in FORBIDDEN_STORED)]
            bad += [f.name for f in dates if getattr(row, f.name) is not None and not (
                lo_of(f) <= getattr(row, f.name) <= hi_of(f, latest))]
            out.append(f"{model._meta.label} #{row.pk}.{'/'.join(bad)}")
    return out


def lo_of(f):
    from django.db import models as m

    from lowcode.fieldtypes import EARLIEST_DATE

    return dt.datetime.combine(EARLIEST_DATE, dt.time.min, tzinfo=dt.timezone.utc) \
        if isinstance(f, m.DateTimeField) else EARLIEST_DATE


def hi_of(f, latest):
    from django.db import models as m

    return dt.datetime.combine(latest, dt.time.min, tzinfo=dt.timezone.utc) if isinstance(f, m.DateTimeField) else latest


# --- judging a response ------------------------------------------------------------------------------------
@dataclass
class Outcome:
    statuses: list[int]
    text: str
    rejected: bool
    has_message: bool


def outcome(client: Client, response) -> Outcome:
    statuses, final = [response.status_code], response
    hops = 3
    while final.status_code in REDIRECTS and hops and not is_login(final["Location"]):
        final = client.get(final["Location"])
        statuses.append(final.status_code)
        hops -= 1
    ctype = final.get("Content-Type", "")
    text = body_text(final) if "html" in ctype or "json" in ctype or "text" in ctype else ""
    error = any(m in text for m in ERROR_MARKERS)
    # a success redirects (PRG); anything else — a re-rendered form, a 4xx, a redirect to a page
    # saying why not — is a refusal, after which nothing may have been written
    rejected = response.status_code not in REDIRECTS or error or final.status_code >= 400 or \
        is_login(final.get("Location", ""))
    has_message = (any(m in text for m in MESSAGE_MARKERS) and bool(CJK.search(text))) or \
        (final.status_code >= 400 and bool(CJK.search(text))) or "attachment" in final.get("Content-Disposition", "")
    return Outcome(statuses, text, rejected, has_message)


# --- the walk ------------------------------------------------------------------------------------------------
@dataclass
class Page:
    url: str
    username: str
    client: Client
    forms: list[Form]
    user: object = None

    def login_again(self) -> None:
        """A submission may have ended the session (e.g. a rights change): start each form afresh."""
        if self.user is not None:
            self.client.force_login(self.user)


def page_urls(c: Classified, data: dict, tp: dict) -> list[str]:
    """Concrete URLs for a pattern: own-region rows; for the third-party end, the demo
    organisation's orders (awarded and open)."""
    from dispatch.models import DispatchOrder

    from accounts.models import User

    if c.kind == "other_object":
        values = other_object_values(c.kinds)
        if values is not None and ("object", User) in c.kinds:   # never the acting user's own account
            other = User.objects.exclude(username__in=ROLES).order_by("pk").first()
            values = [str(other.pk) if k == ("object", User) else v for k, v in zip(c.kinds, values)]
        return [fill(c, values)] if values is not None else []
    if c.pattern.route.startswith("tp/") and any(k == ("object", DispatchOrder) for k in c.kinds):
        return [fill(c, [str(tp[key].pk) if k == ("object", DispatchOrder) else v
                         for k, v in zip(c.kinds, object_values(c.kinds, data["own"])[0])])
                for key in ("own", "open")]
    return [fill(c, values) for values in object_values(c.kinds, data["own"])[:1]]


def open_pages(data, tp) -> tuple[list[Page], list[str]]:
    from accounts.models import User

    clients, users = {}, {}
    for name in ROLES:
        u = User.objects.filter(username=name).first()
        if u is not None:
            clients[name] = Client(raise_request_exception=False)
            clients[name].force_login(u)
            users[name] = u
    pages, failures, seen = [], [], set()
    for c in classify_all():
        if c.kind in ("exempt", "unknown") or SKIP_ACTIONS.search("/" + c.pattern.route):
            continue
        for url in page_urls(c, data, tp):
            for name, client in clients.items():
                response = client.get(url)
                if response.status_code >= 500:
                    failures.append(f"GET {url}（{name}）：服务器错误 {response.status_code}")
                    break
                if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
                    continue
                found = [f for f in forms_on(response.content.decode()) if _key(url, f) not in seen]
                if found:
                    seen.update(_key(url, f) for f in found)
                    pages.append(Page(url, name, client, found, users[name]))
                    break
    anonymous = Client(raise_request_exception=False)
    for url in PUBLIC_FORMS:
        response = anonymous.get(url)
        pages.append(Page(url, "anonymous", anonymous, forms_on(response.content.decode())))
    return pages, failures


def _key(url: str, form: Form) -> tuple:
    target = urljoin(url, form.action or url)
    try:
        route = resolve(urlsplit(target).path).route
    except Resolver404:
        route = urlsplit(target).path
    return (form.method, route, tuple(sorted(form.fuzzable())))


def values_for(names: list[str], corpus_class: str, shift: int) -> dict[str, str]:
    values = CORPUS[corpus_class]
    return {n: values[(i + shift) % len(values)] for i, n in enumerate(names)}


def single_field_plan(names: list[str], shift: int) -> list[tuple[str, str, str]]:
    flat = [(cls, v) for cls, vs in CORPUS.items() if cls != "empty" for v in vs]
    picked = names[shift % max(len(names), 1):] + names[:shift % max(len(names), 1)]
    return [(n, *flat[(shift * 7 + i * 5) % len(flat)]) for i, n in enumerate(picked[:SINGLE_FIELD_POSTS])]


class ServerErrors:
    """The last exception behind a 500 (got_request_exception), to name it in the failure."""

    def __init__(self):
        from django.core.signals import got_request_exception

        self.last = ""
        got_request_exception.connect(self.record, weak=False)

    def record(self, sender, request=None, **kwargs):
        import sys
        import traceback

        exc = sys.exc_info()[1]
        if exc is not None:
            frames = [f for f in traceback.extract_tb(exc.__traceback__) if "/site-packages/" not in f.filename]
            where = f" @ {Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
            self.last = f"{type(exc).__name__}: {str(exc)[:160]}{where}"

    def take(self) -> str:
        last, self.last = self.last, ""
        return last


# --- the test --------------------------------------------------------------------------------------------------
def test_every_form_on_every_end_survives_the_corpus(regions_data, tp_world, settings):
    if connection.vendor != "sqlite":
        pytest.skip("与数据库无关的检查：只在 SQLite 上运行一次")
    from dispatch import actions as dispatch_actions

    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    errors = ServerErrors()
    dispatch_actions.confirm_voucher(tp_world["own"], tp_world["mediator"])   # the mediating order's forms
    models = project_models()
    pages, failures = open_pages(regions_data, tp_world)
    report = [f"# {len(pages)} 个页面，{sum(len(p.forms) for p in pages)} 个表单"]
    requests = 0
    counts = row_counts(models)
    reported: set[str] = set(stored_violations(models))   # rows the fixtures wrote are not findings

    signatures: dict[tuple, int] = {}
    for page_no, page in enumerate(pages):
        for form_no, form in enumerate(page.forms):
            target = urljoin(page.url, form.action or page.url)
            names = form.fuzzable()
            if not names or urlsplit(target).netloc not in ("", "testserver") or \
                    SKIP_ACTIONS.search(urlsplit(target).path):
                continue
            page.login_again()
            label = f"{form.method.upper()} {urlsplit(target).path}（{page.username}，来自 {page.url}）"
            shift = page_no + form_no
            classes = list(CORPUS)
            # the same form on another screen (the admin's search box and bulk-action form on every
            # list, …): three corpus classes in turn, not all of them again
            signature = (form.method, tuple(sorted(names)))
            seen = signatures.get(signature, 0)
            signatures[signature] = seen + 1
            if seen:
                classes = [classes[(seen * 3 + i) % len(classes)] for i in range(3)]
            plans = [(cls, values_for(names, cls, shift)) for cls in classes]
            if form.method == "post" and not seen:
                plans += [(f"{cls}@{name}", {name: value}) for name, cls, value in single_field_plan(names, shift)]
            for what, changes in plans:
                data = form.defaults()
                for name, value in changes.items():
                    data[name] = [value]
                if form.method == "post":
                    response = page.client.post(target, data)
                else:
                    response = page.client.get(target.split("?")[0] + "?" + urlencode(data, doseq=True))
                requests += 1
                o = outcome(page.client, response)
                where = f"{label} [{what}]"
                if any(s >= 500 for s in o.statuses):
                    failures.append(f"{where}：服务器错误 {'→'.join(map(str, o.statuses))} {errors.take()}")
                    counts = row_counts(models)
                    continue
                if form.method == "post" and not o.has_message:
                    failures.append(f"{where}：没有任何提示（{'→'.join(map(str, o.statuses))}）")
                now = row_counts(models)
                if now != counts and (o.rejected or form.method == "get"):
                    changed = {t: (counts.get(t), n) for t, n in now.items() if counts.get(t) != n}
                    failures.append(f"{where}：被拒绝的提交仍写入了数据 {changed}")
                counts = now
            found = [v for v in stored_violations(models) if v not in reported]
            if found:
                reported.update(found)
                failures.append(f"{label}：提交后数据库中出现控制字符/超范围日期：{'、'.join(found)}")
        report.append(f"{page.username:18} {page.url}  表单 {len(page.forms)}")

    report.append(f"# 共 {requests} 次提交")
    out = Path(settings.BASE_DIR) / "test-output" / "bad-input-fuzz"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.txt").write_text("\n".join(report + [""] + failures) + "\n", encoding="utf-8")
    assert len(pages) >= 40, f"只找到 {len(pages)} 个含表单的页面"
    assert not failures, f"{len(failures)} 处问题：\n" + "\n".join(failures[:80])
