"""Issue #17: the load balancer's probes (/health/live/, /health/ready/) and the session row that is
no longer rewritten on every request."""
from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone


@pytest.fixture
def probe(db):
    return Client()


def test_liveness_answers_without_a_session(probe):
    r = probe.get("/health/live/")
    assert r.status_code == 200 and r.content == b"ok"
    assert "no-cache" in r["Cache-Control"] or "max-age=0" in r["Cache-Control"]


def test_readiness_reports_every_check_in_chinese(probe):
    r = probe.get("/health/ready/")
    body = r.json()
    assert r.status_code == 200, body
    assert body["status"] == "正常"
    assert set(body["checks"]) == {"数据库", "缓存", "磁盘空间", "密钥", "后台任务队列"}
    assert set(body["checks"].values()) == {"正常"}


def test_a_missing_key_makes_the_node_not_ready_without_showing_it(probe, settings):
    secret = settings.SM4_KEY
    settings.SM4_KEY = ""
    r = probe.get("/health/ready/")
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "异常" and "SM4 数据加密密钥" in body["checks"]["密钥"]
    settings.SM4_KEY = secret[:10]  # malformed: still refused, and no part of a key is shown
    r = probe.get("/health/ready/")
    assert r.status_code == 503 and secret[:10] not in r.content.decode()
    assert settings.SECRET_KEY[:12] not in r.content.decode()


def test_an_overdue_schedule_means_the_worker_is_down(probe):
    from django_q.models import Schedule

    Schedule.objects.create(name="t", func="math.floor", schedule_type=Schedule.MINUTES, minutes=5,
                            repeats=-1, next_run=timezone.now() - dt.timedelta(minutes=40))
    r = probe.get("/health/ready/")
    assert r.status_code == 503
    assert r.json()["checks"]["后台任务队列"].startswith("异常：后台任务进程未运行")
    Schedule.objects.update(next_run=timezone.now() - dt.timedelta(minutes=2))  # just due: fine
    assert probe.get("/health/ready/").status_code == 200


def test_a_broken_database_check_says_so_and_never_500s(probe, monkeypatch):
    from health_check.checks import Database

    def boom(self):
        raise RuntimeError("connection refused to 10.0.0.5 password=hunter2")

    monkeypatch.setattr(Database, "run", boom)
    r = probe.get("/health/ready/")
    assert r.status_code == 503
    assert r.json()["checks"]["数据库"] == "异常：数据库无法连接"
    assert "hunter2" not in r.content.decode() and "10.0.0.5" not in r.content.decode()


def test_the_probe_is_not_redirected_to_https(settings, probe):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^health/"]
    assert probe.get("/health/live/").status_code == 200
    assert probe.get("/admin/login/").status_code == 301  # everything else is


def test_probes_refuse_post(probe):
    assert probe.post("/health/ready/").status_code == 405


# --- session writes --------------------------------------------------------------------------
def test_the_session_row_is_rewritten_at_most_once_a_minute(world, client_for):
    client = client_for("demo_district")
    client.get("/accounts/keepalive/")
    key = client.cookies["sessionid"].value
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + dt.timedelta(minutes=3))
    client.get("/accounts/keepalive/")  # always saves: “继续使用” pushes the expiry now
    first = Session.objects.get(pk=key).expire_date
    assert first > timezone.now() + dt.timedelta(minutes=14)
    Session.objects.filter(pk=key).update(expire_date=first - dt.timedelta(seconds=30))
    client.get("/h5/")  # within the minute: no write
    assert Session.objects.get(pk=key).expire_date == first - dt.timedelta(seconds=30)


def test_an_old_stamp_pushes_the_expiry_on_an_ordinary_page(world, client_for, monkeypatch):
    import time

    client = client_for("demo_mediator")
    client.get("/h5/")
    key = client.cookies["sessionid"].value
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + dt.timedelta(minutes=3))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    client.get("/h5/")
    assert Session.objects.get(pk=key).expire_date > timezone.now() + dt.timedelta(minutes=14)
