"""Load scenario of issue #17 (make loadtest): 70 % mediators on the phone end (H5), 30 % street and
district admins on the PC end, about 10 % writes, think time 3–10 s.

Accounts come from tests/load/prepare.py (900 mediators load_med_NNNN, 90 street admins
load_street_NN, 10 district admins load_district_NN, one password: LOAD_PASSWORD). Every request
is named by its page (not its URL) so the table shows p50/p95/p99 per page. Only 127.0.0.1.

    locust -f tests/load/locustfile.py --host http://127.0.0.1:8000 --headless -u 200 -r 10 -t 5m
"""
from __future__ import annotations

import datetime as dt
import os
import random
import re

from locust import HttpUser, between, events, task

PASSWORD = os.environ.get("LOAD_PASSWORD", "Load@test-2026")
MEDIATORS = int(os.environ.get("LOAD_MEDIATORS", "900"))
STREETS = int(os.environ.get("LOAD_STREETS", "90"))
DISTRICTS = int(os.environ.get("LOAD_DISTRICTS", "10"))
CASE_LINK = re.compile(r'href="/h5/cases/(\d+)/"')
ADMIN_CASE_LINK = re.compile(r'href="/admin/cases/case/(\d+)/change/')
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@events.test_start.add_listener
def only_loopback(environment, **kwargs):
    host = environment.host or ""
    if not re.match(r"^https?://(127\.0\.0\.1|localhost)(:\d+)?/?$", host):
        raise SystemExit("the load test only talks to 127.0.0.1 / localhost")


class _Base(HttpUser):
    abstract = True
    wait_time = between(3, 10)
    login_url = ""
    username = ""

    def _csrf(self, url: str, name: str) -> str:
        r = self.client.get(url, name=name)
        m = CSRF.search(r.text)
        return m.group(1) if m else self.client.cookies.get("csrftoken", "")

    def on_start(self):
        token = self._csrf(self.login_url, "login page")
        with self.client.post(self.login_url, {"username": self.username, "password": PASSWORD,
                                               "csrfmiddlewaretoken": token},
                              headers={"Referer": self.host + self.login_url}, name="login",
                              allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302:
                r.failure(f"login {self.username}: {r.status_code}")


class Mediator(_Base):
    """社区调解员 on the phone: home list, a case page, messages; now and then a mediation log."""

    weight = 7
    login_url = "/h5/login/"

    def on_start(self):
        self.username = f"load_med_{random.randint(1, MEDIATORS):04d}"
        super().on_start()
        self.cases: list[str] = []

    @task(6)
    def home(self):
        r = self.client.get("/h5/", name="H5 首页（案件列表）")
        self.cases = CASE_LINK.findall(r.text)[:20] or self.cases

    @task(8)
    def case_page(self):
        if self.cases:
            self.client.get(f"/h5/cases/{random.choice(self.cases)}/", name="H5 案件页")

    @task(2)
    def messages(self):
        self.client.get("/h5/messages/", name="H5 消息")

    @task(1)
    def me(self):
        self.client.get("/h5/me/", name="H5 我的")

    @task(2)
    def write_log(self):
        if not self.cases:
            return
        pk = random.choice(self.cases)
        token = self._csrf(f"/h5/cases/{pk}/", "H5 案件页")
        now = dt.datetime.now().strftime("%Y-%m-%dT%H:%M")
        self.client.post(f"/h5/cases/{pk}/logs/", {
            "csrfmiddlewaretoken": token, "occurred_at": now, "place": "社区调解室",
            "participants": "双方当事人", "content": "压测：电话回访，双方同意继续协商。"},
            headers={"Referer": f"{self.host}/h5/cases/{pk}/"}, name="H5 写调解日志")


class Admin(_Base):
    """街道/区级管理员 on the PC: workbench, case list with filters, a case, the review box."""

    weight = 3
    login_url = "/admin/login/"

    def on_start(self):
        if random.random() < 0.9:
            self.username = f"load_street_{random.randint(1, STREETS):02d}"
        else:
            self.username = f"load_district_{random.randint(1, DISTRICTS):02d}"
        super().on_start()
        self.cases: list[str] = []

    @task(4)
    def workbench(self):
        self.client.get("/admin/", name="PC 工作台")

    @task(5)
    def case_list(self):
        q = random.choice(["", "?case_type=labor_wage", "?status=registered", "?q=纠纷"])
        r = self.client.get(f"/admin/cases/case/{q}", name="PC 案件列表（筛选）")
        self.cases = ADMIN_CASE_LINK.findall(r.text)[:20] or self.cases

    @task(4)
    def case_detail(self):
        if self.cases:
            self.client.get(f"/admin/cases/case/{random.choice(self.cases)}/change/", name="PC 案件详情")

    @task(2)
    def reviews(self):
        self.client.get("/admin/cases/review/", name="PC 待我审核")

    @task(1)
    def export(self):  # occasionally: an export of one filtered page
        self.client.get("/admin/cases/case/excel/export/?case_type=labor_wage&registered_at__gte=2026-11-01",
                        name="PC 导出Excel")
