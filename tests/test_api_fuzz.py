"""Schema-driven fuzz run of the platform API (schemathesis) against the live loopback server
(pytest-django's live_server on 127.0.0.1): generated valid and invalid requests to every
operation, each signed like a real client. Asserted for every answer: no 5xx, the answer matches
the OpenAPI document (status code and body), and nothing outside the client's region is ever
returned (cases, statistics). Kept small: a few dozen examples per operation."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = 5


def _prepared(kwargs):
    kwargs = dict(kwargs)
    req = requests.Request(method=kwargs.pop("method"), url=kwargs.pop("url"), headers=kwargs.pop("headers", None),
                           params=kwargs.pop("params", None), json=kwargs.pop("json", None),
                           data=kwargs.pop("data", None), cookies=kwargs.pop("cookies", None))
    return req.prepare()


def test_fuzz_no_5xx_schema_conformant_scope_kept(live_server):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.generation import GenerationMode
    from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

    from api.api import api
    from api.models import ApiClient
    from api.signing import client_secret, signed_headers
    from cases.models import Case
    from demo import seeding
    from orgs.models import Region

    seeding.ensure_regions()
    own_region = Region.objects.get(name="湖滨社区")
    other_region = Region.objects.get(name="溪口社区")
    for i, region in enumerate([own_region, own_region, other_region]):
        Case.objects.create(title=f"案件{i}", case_type="neighbor", status="registered", region=region)
    own = set(Case.objects.filter(region=own_region).values_list("exchange_id", flat=True))
    client = ApiClient.objects.create(name="模糊测试平台", region=own_region.parent, channel="", can_push=False,
                                   rate_limit=6000)
    secret = client_secret(client.key_id, client.secret_version)
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    session = requests.Session()
    seen = {"ok": 0, "refused": 0}

    def check(case):
        prep = _prepared(case.as_transport_kwargs(base_url=live_server.url))
        parts = urlsplit(prep.url)
        body = prep.body or b""
        body = body.encode() if isinstance(body, str) else body
        prep.headers.update(signed_headers(client.key_id, secret, prep.method, parts.path, parts.query, body))
        resp = session.send(prep, timeout=30)
        assert resp.status_code < 500, (prep.method, prep.url, resp.text[:300])
        case.validate_response(resp, checks=[not_a_server_error, status_code_conformance,
                                             response_schema_conformance])
        data = resp.json()
        if resp.status_code == 200 and parts.path.startswith("/api/v1/cases"):
            got = {c["exchange_id"] for c in data.get("items", [data])}
            assert got <= own, got - own
        if resp.status_code == 200 and parts.path == "/api/v1/statistics":
            assert data["total"] <= len(own)
        if resp.status_code == 200 and parts.path == "/api/v1/changes":
            assert {c["exchange_id"] for c in data["items"]} <= own
        seen["ok" if resp.status_code == 200 else "refused"] += 1

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                check(case)
            run()
    assert seen["ok"] > 0 and seen["refused"] > 0
