"""Two reviewers decide the same pending review at the same moment: exactly one wins, the other
is told, the transition fires once.

The race is made real, not hoped for: whoever gets the case row lock first is held inside
``actions.do_transition`` until PostgreSQL shows the other request's backend *waiting for a lock*
(pg_locks), then lets go. So every run exercises the contended path (row lock + compare-and-set),
over HTTP against ``live_server`` (two threads, two logged-in sessions, real CSRF) and at the
service level (two threads, two database connections).

The row-lock tests are PostgreSQL only (``-m postgres``; DATABASE_URL=postgres://…). SQLite has no
row locks and serialises writers on the whole file: there the test is that the second reviewer
*waits* (BEGIN IMMEDIATE, busy timeout, WAL — settings.database_from_url) and is then told
"已由他人处理" instead of getting a 500 "database is locked" (finding 12), on a file database.
The refusal-reason tests run on every database."""
from __future__ import annotations

import http.cookies
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client

from cases import actions
from cases.actions import ActionRefused
from cases.models import Case, CaseEvent, Review
from notices.models import Notice

pytestmark = pytest.mark.backend  # depends on the database backend: row locks between concurrent reviewers

LOCK_WAIT_SECONDS = 15


def on_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def postgres_only():
    if not on_postgres():
        pytest.skip("并发审核测试需要 PostgreSQL（SQLite 没有行锁，写操作整库串行，无法形成真正的并发）；"
                    "用 DATABASE_URL=postgres://postgres@127.0.0.1:5432/mdtj_dev 运行")


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def second_street_reviewer():
    """Another 街道管理员 of 东湖街道, next to demo_street."""
    from django.contrib.auth.models import Group

    from accounts.models import User
    from orgs.models import Region

    u = User.objects.create_user("street_b", password="x-unused-1", display_name="东湖街道管理员乙",
                                 region=Region.objects.get(name="东湖街道"), is_staff=True)
    u.groups.add(Group.objects.get(name="街道管理员"))
    return u


def submitted_case(make_case, title: str) -> tuple[Case, Review]:
    mediator = user("demo_mediator")
    case = make_case("湖滨社区", title=title, registrant=mediator)
    actions.do_transition(case, "开始调解", mediator)
    actions.do_transition(case, "提交结果", mediator)
    return Case.objects.get(pk=case.pk), Review.objects.get(case=case, status="pending")


class LockContention:
    """Patch actions.available_actions (called by do_transition right after it has locked the
    case row): the first caller — the lock holder — waits there until another backend of this
    database waits for a lock, i.e. the other reviewer is blocked on the same row."""

    def __init__(self, monkeypatch):
        self.original = actions.available_actions
        self.first = threading.Lock()
        self.seen_waiting = None
        monkeypatch.setattr(actions, "available_actions", self)

    def __call__(self, case, user_):
        if self.first.acquire(blocking=False):
            self.seen_waiting = self._wait_for_a_blocked_backend()
        return self.original(case, user_)

    @staticmethod
    def _wait_for_a_blocked_backend() -> bool:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        with connection.cursor() as cur:
            while time.monotonic() < deadline:
                cur.execute("SELECT pg_stat_clear_snapshot()")
                cur.execute("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                            "WHERE NOT l.granted AND a.datname = current_database() AND a.pid <> pg_backend_pid()")
                if cur.fetchone()[0]:
                    return True
                time.sleep(0.02)
        return False


# --- over HTTP: two browsers' worth of requests against the live server -----------------------
class Browser:
    """A logged-in session (the session cookie of Client.force_login) speaking plain HTTP with
    urllib; keeps cookies; does not follow redirects (the status is what we assert on)."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base_url: str, u):
        c = Client()
        c.force_login(u)
        self.base = base_url
        self.cookies = {settings.SESSION_COOKIE_NAME: c.cookies[settings.SESSION_COOKIE_NAME].value}
        self.opener = urllib.request.build_opener(self._NoRedirect)

    def request(self, path: str, data: dict | None = None) -> tuple[int, str, dict]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body, headers={
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())})
        try:
            resp = self.opener.open(req, timeout=60)
        except urllib.error.HTTPError as e:  # 3xx (not followed), 4xx, 5xx
            resp = e
        for header in resp.headers.get_all("Set-Cookie") or []:
            for name, morsel in http.cookies.SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return resp.status, resp.read().decode("utf-8", "replace"), dict(resp.headers)

    def open_decide_page(self, review: Review) -> str:
        status, html, _ = self.request(f"/admin/cases/review/{review.pk}/decide/")
        assert status == 200, html[:500]
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("reviewers, decisions", [
    (("demo_street", "street_b"), ("审核通过", "审核通过")),
    (("demo_street", "street_b"), ("审核通过", "退回补充")),
    (("demo_street", "demo_district"), ("退回补充", "审核通过")),
], ids=["two-street-approve", "two-street-approve-vs-return", "street-vs-district"])
def test_two_reviewers_post_the_decision_at_once_over_http(postgres_only, live_server, make_case, monkeypatch,
                                                           reviewers, decisions):
    second_street_reviewer()
    case, review = submitted_case(make_case, "并发审核测试案件")
    browsers = [Browser(live_server.url, user(name)) for name in reviewers]
    tokens = [b.open_decide_page(review) for b in browsers]   # both see the pending review
    contention = LockContention(monkeypatch)

    barrier = threading.Barrier(2)
    results: list = [None, None]

    def decide(i):
        data = {"csrfmiddlewaretoken": tokens[i], "action": decisions[i], "opinion": f"{reviewers[i]} 的意见"}
        barrier.wait()
        results[i] = browsers[i].request(f"/admin/cases/review/{review.pk}/decide/", data)

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert contention.seen_waiting, "第二个请求没有在案件行锁上等待：并发没有真正发生"

    statuses = [r[0] for r in results]
    assert sorted(statuses) == [200, 302], [(s, body[:300]) for s, body, _ in results]
    winner = statuses.index(302)
    loser = 1 - winner
    assert results[winner][2]["Location"].endswith("/admin/cases/review/")
    loser_page = results[loser][1]
    assert "已由他人处理" in loser_page or "已处理" in loser_page, loser_page[:2000]

    review.refresh_from_db()
    case.refresh_from_db()
    won_action = decisions[winner]
    assert review.status == {"审核通过": "approve", "退回补充": "return"}[won_action]
    assert review.decided_by.username == reviewers[winner] and review.action == won_action
    assert review.opinion == f"{reviewers[winner]} 的意见"
    assert case.status == {"审核通过": "mediated", "退回补充": "mediating"}[won_action]
    assert CaseEvent.objects.filter(case=case, kind="review").count() == 1
    assert Review.objects.filter(case=case).exclude(status="pending").count() == 1
    assert Notice.objects.filter(case=case, kind="result", recipient__username="demo_mediator").count() == 1


# --- at the service level: two threads, two database connections ---------------------------------
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_threads_fire_the_same_decision_once(postgres_only, make_case, monkeypatch):
    second_street_reviewer()
    case, review = submitted_case(make_case, "服务层并发审核")
    contention = LockContention(monkeypatch)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def decide(username):
        try:
            u = user(username)
            barrier.wait()
            outcomes[username] = actions.do_transition(case, "审核通过", u, review=review)
        except Exception as e:  # noqa: BLE001 - recorded and asserted below
            outcomes[username] = e
        finally:
            connections.close_all()  # this thread's own connection

    threads = [threading.Thread(target=decide, args=(name,)) for name in ("demo_street", "street_b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert contention.seen_waiting, "第二个线程没有在案件行锁上等待：并发没有真正发生"

    done = [o for o in outcomes.values() if isinstance(o, actions.TransitionDone)]
    refused = [o for o in outcomes.values() if isinstance(o, ActionRefused)]
    assert len(done) == 1 and len(refused) == 1, outcomes
    assert re.search(r"[\u4e00-\u9fff]", str(refused[0])), str(refused[0])   # told why, in Chinese
    assert "他人处理" in str(refused[0]) or "不能执行" in str(refused[0])
    case.refresh_from_db()
    assert case.status == "mediated"
    assert CaseEvent.objects.filter(case=case, kind="review").count() == 1
    assert Review.objects.get(pk=review.pk).status == "approve"
    assert Notice.objects.filter(case=case, kind="result").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_threads_without_the_review_row_still_fire_once(postgres_only, make_case, monkeypatch):
    """The phone end fires decisions by action name only (no review row): the case row lock and
    the status compare-and-set alone must make it exactly once."""
    second_street_reviewer()
    case, _ = submitted_case(make_case, "按动作名并发审核")
    contention = LockContention(monkeypatch)
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(username, action, opinion):
        try:
            u = user(username)
            barrier.wait()
            outcomes.append(actions.do_transition(case, action, u, opinion=opinion))
        except Exception as e:  # noqa: BLE001
            outcomes.append(e)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=("demo_street", "退回补充", "请补充协议")),
               threading.Thread(target=decide, args=("street_b", "驳回", "不予认可"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert contention.seen_waiting
    assert sorted(type(o).__name__ for o in outcomes) == ["ActionRefused", "TransitionDone"], outcomes
    assert CaseEvent.objects.filter(case=case, kind="review").count() == 1
    assert Review.objects.filter(case=case).exclude(status="pending").count() == 1


# --- refusals, with their reason (every database) -----------------------------------------------------
def refused(case, action, username, **kw) -> str:
    before = (Case.objects.get(pk=case.pk).status, CaseEvent.objects.filter(case=case).count())
    with pytest.raises(ActionRefused) as info:
        actions.do_transition(case, action, user(username), **kw)
    assert (Case.objects.get(pk=case.pk).status, CaseEvent.objects.filter(case=case).count()) == before
    return str(info.value)


def test_transition_not_allowed_from_the_current_state_is_refused_with_a_reason(make_case):
    case = make_case("湖滨社区", title="刚登记的案件")
    assert refused(case, "审核通过", "demo_street") == "当前状态“已登记”下不能执行“审核通过”"
    assert actions.refusal_reason(case, user("demo_street"), "归档") == "当前状态“已登记”下不能执行“归档”"


def test_transition_not_allowed_for_the_role_is_refused_with_a_reason(make_case):
    case, _ = submitted_case(make_case, "调解员不能审核")
    assert refused(case, "审核通过", "demo_mediator") == \
        "您的角色不能执行“审核通过”（可执行角色：街道管理员、区级管理员）"
    assert refused(case, "审核通过", "demo_dept").startswith("您的角色不能执行")


def test_review_at_the_handling_level_or_outside_the_scope_is_refused(make_case):
    from django.contrib.auth.models import Group

    from accounts.models import User
    from orgs.models import Region

    case, _ = submitted_case(make_case, "同级与越界审核")
    other_street = User.objects.create_user("street_xixi", password="x-unused-1", is_staff=True,
                                            region=Region.objects.get(name="西溪街道"))
    other_street.groups.add(Group.objects.get(name="街道管理员"))
    assert refused(case, "审核通过", "street_xixi") == "案件不在您的管辖范围内"
    Case.objects.filter(pk=case.pk).update(level=2)   # handled by the street now (after 提级)
    assert refused(case, "审核通过", "demo_street") == "审核需由上级处理，您不能审核本级办理的案件"
    assert actions.do_transition(case, "审核通过", user("demo_district")).case.status == "mediated"


def test_decision_that_needs_an_opinion_is_refused_without_one(make_case):
    case, _ = submitted_case(make_case, "退回需要意见")
    assert refused(case, "退回补充", "demo_street", opinion="  ") == "“退回补充”需要填写意见"


def test_a_stale_review_row_cannot_decide_a_later_resubmission(make_case):
    case, first = submitted_case(make_case, "重新提交后的旧审核页")
    actions.do_transition(case, "退回补充", user("demo_street"), opinion="请补充")
    actions.do_transition(case, "提交结果", user("demo_mediator"))
    assert "已由他人处理" in refused(case, "审核通过", "demo_street", review=first)


# --- SQLite: the second reviewer waits for the first, then is told (finding 12) ------------------------
@pytest.fixture
def sqlite_file(transactional_db, tmp_path):
    """``sqlite_file()`` copies the test database to a file, and every connection opened from then
    on (each thread's) opens that file with the settings' OPTIONS — file locking, busy timeout,
    BEGIN mode and journal as in production (the in-memory test database shares one cache and
    locks tables instead). The main thread keeps its in-memory connection (restored afterwards):
    after the switch, do database work through ``in_thread``."""
    import sqlite3

    if connection.vendor != "sqlite":
        pytest.skip("SQLite 的写锁行为测试（PostgreSQL 的并发见上面的 -m postgres 测试）")
    name = connection.settings_dict["NAME"]
    path = tmp_path / "review.sqlite3"

    def switch():
        connection.ensure_connection()
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.close()
        connection.settings_dict["NAME"] = str(path)   # the settings every thread's connection opens

    try:
        yield switch
    finally:
        connection.settings_dict["NAME"] = name


def in_thread(fn):
    """Run ``fn`` in a new thread (a new connection, on the file); return its result or raise."""
    out = {}

    def run():
        try:
            out["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            out["error"] = e
        finally:
            connections.close_all()

    t = threading.Thread(target=run)
    t.start()
    t.join(60)
    if "error" in out:
        raise out["error"]
    return out.get("value")


class WriterOverlap:
    """The first reviewer to reach the workflow check (inside its write transaction) waits there
    until the other request has begun its own transaction, and a moment more: the two writes
    overlap on every run, not by luck."""

    def __init__(self, monkeypatch):
        from django.db.backends.sqlite3.base import DatabaseWrapper

        self.original = actions.available_actions
        self.first = threading.Lock()
        self.began: set[int] = set()   # threads that have started a transaction (BEGIN …)
        self.other_began = threading.Event()
        begin = DatabaseWrapper._start_transaction_under_autocommit

        def tracked_begin(wrapper):
            self.began.add(threading.get_ident())
            return begin(wrapper)

        monkeypatch.setattr(DatabaseWrapper, "_start_transaction_under_autocommit", tracked_begin)
        monkeypatch.setattr(actions, "available_actions", self)

    def __call__(self, case, user_):
        if self.first.acquire(blocking=False):
            deadline = time.monotonic() + 10
            while not self.began - {threading.get_ident()} and time.monotonic() < deadline:
                time.sleep(0.01)
            if self.began - {threading.get_ident()}:
                self.other_began.set()
            time.sleep(0.5)   # the other one is now blocked at BEGIN (or, without it, racing ahead)
        return self.original(case, user_)


def test_two_reviewers_decide_at_once_on_sqlite(make_case, sqlite_file, monkeypatch):
    second_street_reviewer()
    case, review = submitted_case(make_case, "SQLite 并发审核")
    clients = []
    for name in ("demo_street", "street_b"):
        c = Client()
        c.force_login(user(name))
        clients.append(c)
    sqlite_file()
    overlap = WriterOverlap(monkeypatch)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def decide(i):
        try:
            barrier.wait()
            results[i] = clients[i].post(f"/admin/cases/review/{review.pk}/decide/",
                                         {"action": "审核通过", "opinion": f"意见{i}"})
        except Exception as e:  # noqa: BLE001 - a server error in the test client: asserted below
            results[i] = e
        finally:
            connections.close_all()

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    assert overlap.other_began.is_set(), "第二个审核请求没有开始写事务：并发没有真正发生"

    assert not any(isinstance(r, Exception) for r in results), results
    statuses = [r.status_code for r in results]
    assert sorted(statuses) == [200, 302], statuses
    loser = results[statuses.index(200)].content.decode()
    assert "已由他人处理" in loser, loser[:2000]

    def outcome():
        return (Case.objects.get(pk=case.pk).status,
                Review.objects.get(pk=review.pk).status,
                CaseEvent.objects.filter(case=case, kind="review").count(),
                Notice.objects.filter(case=case, kind="result").count())

    assert in_thread(outcome) == ("mediated", "approve", 1, 1)


def test_a_locked_database_is_answered_with_a_retry_message(make_case, monkeypatch):
    """Still locked after the busy timeout: the decide page says to retry, nothing changes."""
    from django.db import OperationalError

    case, review = submitted_case(make_case, "数据库被锁")

    def locked(*args, **kwargs):
        raise OperationalError("database is locked")

    monkeypatch.setattr(actions, "trace", locked)   # a write inside the decision's transaction
    c = Client()
    c.force_login(user("demo_street"))
    response = c.post(f"/admin/cases/review/{review.pk}/decide/", {"action": "审核通过", "opinion": "同意"})
    assert response.status_code == 200
    assert "系统繁忙" in response.content.decode() and "请稍后重试" in response.content.decode()
    assert Review.objects.get(pk=review.pk).status == "pending"
    assert Case.objects.get(pk=case.pk).status == "pending_review"
