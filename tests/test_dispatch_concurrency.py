"""Exactly one outcome under real concurrency (PostgreSQL, ``-m postgres``):
- two organisations sign up at the deadline's edge: the one whose sign-up is processed before the
  deadline (server time, read after the order row lock) is accepted, the one that waited on the
  lock past the deadline is refused — never a sign-up dated after the deadline;
- two district staff choose winners at the same moment (two HTTP sessions against the live
  server): one award, one voucher, one grant; the other is told it was already chosen.

The race is forced, not hoped for: the first to hold the order row lock waits inside the action
until PostgreSQL shows the other backend waiting for a lock (as tests/test_review_concurrency.py)."""
from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from dispatch import actions
from dispatch.actions import ActionRefused
from dispatch.models import Bid, CaseUserObjectPermission, DispatchOrder, Voucher
from tests.dispatch_helpers import close_window, dispatched_case, make_order, make_tp_user, user
from tests.test_review_concurrency import Browser, LockContention, postgres_only  # noqa: F401


pytestmark = pytest.mark.backend  # depends on the database backend: row locks between concurrent awards

class OrderLockContention:
    """Wrap dispatch.actions._lock: the first caller, holding the order row lock, waits until
    another backend waits on a lock (then optionally until ``hold_until``)."""

    def __init__(self, monkeypatch, hold_until=None):
        self.original = actions._lock
        self.first = threading.Lock()
        self.seen_waiting = None
        self.hold_until = hold_until
        monkeypatch.setattr(actions, "_lock", self)

    def __call__(self, order):
        locked = self.original(order)
        if self.first.acquire(blocking=False):
            self.seen_waiting = LockContention._wait_for_a_blocked_backend()
        return locked


def _run(targets):
    barrier = threading.Barrier(len(targets))
    out = [None] * len(targets)

    def run(i, fn):
        try:
            barrier.wait()
            out[i] = fn()
        except Exception as e:  # noqa: BLE001 - asserted below
            out[i] = e
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(targets)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    return out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_orgs_sign_up_at_the_deadline_edge(postgres_only, make_case, monkeypatch):
    hehe, pingan = user("demo_tp_mediator"), make_tp_user("pingan_1")
    order = make_order(dispatched_case(make_case))
    deadline = timezone.now() + dt.timedelta(seconds=2)
    DispatchOrder.objects.filter(pk=order.pk).update(signup_end=deadline)
    contention = OrderLockContention(monkeypatch)

    # the lock holder keeps the row until after the deadline (as if its insert were slow)
    original_create = Bid.objects.create

    def slow_create(**kwargs):
        bid = original_create(**kwargs)
        while timezone.now() <= deadline + dt.timedelta(milliseconds=300):
            time.sleep(0.05)
        return bid

    monkeypatch.setattr(Bid.objects, "create", slow_create)
    out = _run([lambda: actions.sign_up(order, hehe, plan="甲"), lambda: actions.sign_up(order, pingan, plan="乙")])
    assert contention.seen_waiting, "第二个报名没有在发单行锁上等待：并发没有真正发生"
    accepted = [o for o in out if isinstance(o, Bid)]
    refused = [o for o in out if isinstance(o, ActionRefused)]
    assert len(accepted) == 1 and len(refused) == 1, out
    assert "已截止" in str(refused[0])
    bids = list(Bid.objects.filter(order=order))
    assert len(bids) == 1 and bids[0].created_at < deadline


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_org_signing_up_twice_at_once_gets_one_bid(postgres_only, make_case, monkeypatch):
    hehe, colleague = user("demo_tp_mediator"), make_tp_user("hehe_2", org_name="和合商事调解中心")
    order = make_order(dispatched_case(make_case))
    contention = OrderLockContention(monkeypatch)
    out = _run([lambda: actions.sign_up(order, hehe), lambda: actions.sign_up(order, colleague)])
    assert contention.seen_waiting
    assert sorted(type(o).__name__ for o in out) == ["ActionRefused", "Bid"], out
    assert Bid.objects.filter(order=order).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_no_sign_up_once_the_deadline_passed_even_mid_request(postgres_only, make_case, monkeypatch):
    """Both requests arrive before the deadline; the row lock holder is held past it: both are
    judged by the server time after the lock, so neither gets in."""
    order = make_order(dispatched_case(make_case))
    deadline = timezone.now() + dt.timedelta(seconds=2)
    DispatchOrder.objects.filter(pk=order.pk).update(signup_end=deadline)
    original = actions._lock

    def late_lock(o):
        locked = original(o)
        while timezone.now() <= deadline:
            time.sleep(0.05)
        return locked

    monkeypatch.setattr(actions, "_lock", late_lock)
    out = _run([lambda: actions.sign_up(order, user("demo_tp_mediator")),
                lambda: actions.sign_up(order, make_tp_user("pingan_1"))])
    assert all(isinstance(o, ActionRefused) and "已截止" in str(o) for o in out), out
    assert not Bid.objects.filter(order=order).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_staff_award_at_once_over_http(postgres_only, live_server, make_case, monkeypatch):
    import re

    from django.contrib.auth.models import Group

    from accounts.models import User

    second = User.objects.create_user("district_b", password="x-unused-1", display_name="区矛调中心乙",
                                      region=user("demo_district").region, is_staff=True)
    second.groups.add(Group.objects.get(name="区级管理员"))
    order = make_order(dispatched_case(make_case))
    a = actions.sign_up(order, user("demo_tp_mediator"))
    b = actions.sign_up(order, make_tp_user("pingan_1"))
    close_window(order)
    browsers = [Browser(live_server.url, user(name)) for name in ("demo_district", "district_b")]
    manage = f"/admin/dispatch/dispatchorder/{order.pk}/manage/"
    tokens = []
    for br in browsers:
        status, html, _ = br.request(manage)
        assert status == 200, html[:300]
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1))
    contention = OrderLockContention(monkeypatch)
    award_url = f"/admin/dispatch/dispatchorder/{order.pk}/award/"
    out = _run([lambda: browsers[0].request(award_url, {"csrfmiddlewaretoken": tokens[0], "bid": a.pk}),
                lambda: browsers[1].request(award_url, {"csrfmiddlewaretoken": tokens[1], "bid": b.pk})])
    assert contention.seen_waiting, "第二个选定请求没有在发单行锁上等待：并发没有真正发生"
    assert [o[0] for o in out] == [302, 302], out
    order.refresh_from_db()
    assert order.state == "awarded"
    assert Voucher.objects.filter(order=order).count() == 1
    assert Bid.objects.filter(order=order, status="won").count() == 1
    # the view grant went to the winning organisation's users only, once each
    granted = list(CaseUserObjectPermission.objects.filter(content_object_id=order.case_id,
                                                           permission__codename="view_case")
                   .values_list("user__organization_id", flat=True))
    assert granted and len(set(granted)) == 1 and len(granted) == len(set(CaseUserObjectPermission.objects.filter(
        content_object_id=order.case_id, permission__codename="view_case").values_list("user_id", flat=True)))
    # each is redirected back to the order; the winner reads 已选定, the other why it was refused
    texts = [br.request(res[2]["Location"])[1] for br, res in zip(browsers, out)]
    told = [("已由他人选定" in t or "已选定或已撤回" in t) for t in texts]
    won = ["已选定 " in t and "确认凭证 PZ" in t for t in texts]
    assert sorted(told) == [False, True] and sorted(won) == [False, True] and told != won, texts
