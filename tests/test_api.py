"""一单位一平台 API (issue #16, T-2): HMAC-SM3 signed calls, replay and tamper refused, rate limit,
revocation, region scope through accounts.scope, masking by the client's rights, every call
audited, pushes through the clue ingest pipeline (idempotent), state changes by cursor,
statistics, OpenAPI docs served offline."""
from __future__ import annotations

import json
import time

import pytest
from django.test import Client

from tests.samples import SAMPLES


@pytest.fixture
def regions(db):
    """The demo region tree only: these tests need no users, roles or metadata (fast)."""
    from demo import seeding

    return seeding.ensure_regions()


@pytest.fixture
def make_case(regions):
    from cases.models import Case, Party
    from orgs.models import Region

    def make(region_name="湖滨社区", case_type="neighbor", title=None):
        case = Case.objects.create(title=title or f"{region_name}测试纠纷", description="双方因琐事发生争执",
                                   case_type=case_type, status="registered", region=Region.objects.get(name=region_name))
        Party.objects.create(case=case, role="applicant", name="张三", id_number="11010519491231002X",
                             phone="13800138000")
        return case
    return make


@pytest.fixture
def api_client(regions):
    from api.models import ApiClient
    from orgs.models import Region

    street = Region.objects.get(name="湖滨社区").parent
    return ApiClient.objects.create(name="社会治理中心平台", region=street, channel="province", can_push=True)


def call(client_row, method, path, query="", body=b"", *, secret=None, nonce=None, now=None, tamper=None):
    from api.signing import client_secret, signed_headers

    secret = secret or client_secret(client_row.key_id, client_row.secret_version)
    headers = signed_headers(client_row.key_id, secret, method, path, query, body, now=now, nonce=nonce)
    if tamper:
        tamper(headers)
    url = path + (f"?{query}" if query else "")
    c = Client()
    if method == "GET":
        return c.get(url, headers=headers)
    return c.post(url, data=body, content_type="application/json", headers=headers)


def test_list_is_scoped_to_the_clients_region(api_client, make_case):
    own = make_case("湖滨社区", title="本街道的纠纷")
    other = make_case("溪口社区", title="别的街道的纠纷")
    resp = call(api_client, "GET", "/api/v1/cases")
    assert resp.status_code == 200, resp.content
    ids = [c["exchange_id"] for c in resp.json()["items"]]
    assert own.exchange_id in ids and other.exchange_id not in ids
    assert resp.json()["total"] == 1
    assert call(api_client, "GET", f"/api/v1/cases/{other.exchange_id}").status_code == 404


def test_parties_masked_unless_the_client_holds_the_right(api_client, make_case):
    case = make_case("湖滨社区")
    body = call(api_client, "GET", f"/api/v1/cases/{case.exchange_id}").json()
    party = body["parties"][0]
    assert party["id_number"] != "11010519491231002X" and "*" in party["id_number"]
    assert party["phone"] != "13800138000" and "*" in party["phone"]
    api_client.see_sensitive = True
    api_client.save()
    party = call(api_client, "GET", f"/api/v1/cases/{case.exchange_id}").json()["parties"][0]
    assert party["id_number"] == "11010519491231002X" and party["phone"] == "13800138000"


def test_bad_signature_tampered_body_old_time_and_replay_refused(api_client, make_case):
    make_case("湖滨社区")
    wrong = call(api_client, "GET", "/api/v1/cases", secret="0" * 64)
    assert wrong.status_code == 401 and "签名错误" in wrong.json()["detail"] and "items" not in wrong.json()
    old = call(api_client, "GET", "/api/v1/cases", now=time.time() - 3600)
    assert old.status_code == 401 and "时间戳" in old.json()["detail"]
    resp = call(api_client, "GET", "/api/v1/cases", nonce="nonce-replay-1")
    assert resp.status_code == 200
    again = call(api_client, "GET", "/api/v1/cases", nonce="nonce-replay-1")
    assert again.status_code == 401 and "重复" in again.json()["detail"]
    # the body is signed: swapping it after signing is refused
    from api.signing import client_secret, signed_headers

    headers = signed_headers(api_client.key_id, client_secret(api_client.key_id, 1), "POST", "/api/v1/push/cases",
                             "", b'{"records": [{"a": 1}]}')
    resp = Client().post("/api/v1/push/cases", data=b'{"records": [{"a": 2}]}', content_type="application/json",
                         headers=headers)
    assert resp.status_code == 401
    missing = Client().get("/api/v1/cases")
    assert missing.status_code == 401 and "缺少签名" in missing.json()["detail"]


def test_revoked_client_and_rotated_secret(api_client):
    from django.utils import timezone

    from api.models import ApiClient
    from api.signing import client_secret

    old_secret = client_secret(api_client.key_id, 1)
    ApiClient.objects.filter(pk=api_client.pk).update(secret_version=2)
    api_client.refresh_from_db()
    assert call(api_client, "GET", "/api/v1/cases", secret=old_secret).status_code == 401
    assert call(api_client, "GET", "/api/v1/cases").status_code == 200
    ApiClient.objects.filter(pk=api_client.pk).update(revoked_at=timezone.now())
    api_client.refresh_from_db()
    resp = call(api_client, "GET", "/api/v1/cases")
    assert resp.status_code == 403 and "吊销" in resp.json()["detail"]


def test_rate_limit(api_client):
    from api.models import ApiClient

    ApiClient.objects.filter(pk=api_client.pk).update(rate_limit=3)
    api_client.refresh_from_db()
    codes = [call(api_client, "GET", "/api/v1/cases").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_every_call_is_audited(api_client):
    from secure.models import SecurityEvent

    before = SecurityEvent.objects.filter(event="api_call").count()
    call(api_client, "GET", "/api/v1/cases")
    call(api_client, "GET", "/api/v1/cases", secret="1" * 64)
    rows = list(SecurityEvent.objects.filter(event="api_call").order_by("-seq")[:2])
    assert SecurityEvent.objects.filter(event="api_call").count() == before + 2
    assert {r.outcome for r in rows} == {"success", "failure"}
    assert all(r.username == f"api:{api_client.key_id}" for r in rows)


def test_push_goes_through_the_ingest_pipeline_and_is_idempotent(metadata, api_client):
    from lowcode.serialization import load_metadata

    from cases.models import Case

    load_metadata(["cleaning_rules"])
    records = [json.loads(x) for x in (SAMPLES / "province.jsonl").read_text(encoding="utf-8").splitlines()[:2]]
    body = json.dumps({"records": records + [{"登记时间": "2026-01-01"}]}, ensure_ascii=False).encode()
    resp = call(api_client, "POST", "/api/v1/push/cases", body=body)
    assert resp.status_code == 200, resp.content
    out = resp.json()
    assert (out["read"], out["new"], out["rejected"]) == (3, 2, 1)
    assert "案件编号" in out["rejections"][0]["reason"]
    assert Case.objects.filter(source="province").count() == 2
    again = call(api_client, "POST", "/api/v1/push/cases", body=body).json()
    assert (again["new"], again["unchanged"]) == (0, 2)
    assert Case.objects.filter(source="province").count() == 2
    # a case channel does not take clues; no push right → refused
    wrong = call(api_client, "POST", "/api/v1/push/clues", body=body)
    assert wrong.status_code == 400 and "案件" in wrong.json()["detail"]
    api_client.can_push = False
    api_client.save()
    assert call(api_client, "POST", "/api/v1/push/cases", body=body).status_code == 403


def test_push_refuses_bad_bodies_in_chinese(api_client):
    for body in (b"not json", b'{"records": []}', b'{"records": "x"}', b"{}"):
        resp = call(api_client, "POST", "/api/v1/push/cases", body=body)
        assert resp.status_code in (400, 422), body
        assert "请求" in resp.json()["detail"] or "参数" in resp.json()["detail"]


def test_changes_since_cursor_scoped(api_client, make_case):
    from cases.models import CaseEvent

    own, other = make_case("湖滨社区"), make_case("溪口社区")
    e1 = CaseEvent.objects.create(case=own, kind="transition", message="受理", from_state="registered",
                                  to_state="mediating")
    CaseEvent.objects.create(case=other, kind="transition", message="受理", from_state="registered",
                             to_state="mediating")
    CaseEvent.objects.create(case=own, kind="remind", message="催办")
    page = call(api_client, "GET", "/api/v1/changes", "cursor=0").json()
    assert [i["exchange_id"] for i in page["items"]] == [own.exchange_id]
    assert page["next_cursor"] == e1.pk and page["items"][0]["to_state"] == "mediating"
    assert call(api_client, "GET", "/api/v1/changes", f"cursor={page['next_cursor']}").json()["items"] == []


def test_statistics_count_only_the_clients_region(api_client, make_case):
    make_case("湖滨社区")
    make_case("湖滨社区", case_type="property")
    make_case("溪口社区")
    stats = call(api_client, "GET", "/api/v1/statistics").json()
    assert stats["total"] == 2
    assert sum(r["count"] for r in stats["by_type"]) == 2
    assert any(r["label"] == "湖滨社区" and r["count"] == 2 for r in stats["by_region"])
    bad = call(api_client, "GET", "/api/v1/statistics", "date_from=2026-02-01&date_to=2026-01-01")
    assert bad.status_code == 400 and "日期" in bad.json()["detail"]


def test_openapi_generated_and_docs_served_offline(db):
    from accounts.models import User

    anonymous = Client().get("/api/v1/openapi.json")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    c = Client()
    c.force_login(User.objects.create(username="docs_reader", is_staff=True, is_superuser=True))
    schema = c.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/cases", "/api/v1/changes", "/api/v1/push/cases", "/api/v1/statistics"} <= set(schema["paths"])
    page = c.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page and "cdn" not in page.lower()
