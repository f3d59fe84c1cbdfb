"""天地图 geocoding against its fake: one call per address (cached, found or not), the per-minute
limit, an outage degrades (raises, nothing cached), a wrong key is refused; a reviewed match is
fed back into the unified address library. And the integration admin's audited 「测试连接」."""
from __future__ import annotations

import pytest

from tests.fakes.tianditu import FakeTianditu

KNOWN = "示范区湖滨路8号"


@pytest.fixture
def fake():
    with FakeTianditu(key="tk-1", known={KNOWN: (120.1551, 30.2741)}) as server:
        yield server


@pytest.fixture
def system(db, fake, settings, monkeypatch):
    from django.core.cache import cache

    from integrations.models import ExternalSystem

    cache.clear()  # the per-minute counters of an earlier test
    settings.INTEGRATION_BACKOFF_SECONDS = 0
    monkeypatch.setenv("TDT_TEST_KEY", "tk-1")
    return ExternalSystem.objects.create(code="tianditu", name="天地图", kind="tianditu", enabled=True,
                                         base_url=fake.url, secret_env="TDT_TEST_KEY", retries=1, rate_per_minute=3)


def test_geocode_cached_limited_and_fed_back_after_review(system, fake):
    from addresses.models import StandardAddress
    from demo import seeding
    from integrations import tianditu
    from integrations.http import IntegrationError, Unavailable

    found = tianditu.geocode(KNOWN)
    assert found.found and (found.lon, found.lat) == (120.1551, 30.2741) and found.review == "pending"
    assert tianditu.geocode(KNOWN).pk == found.pk and len(fake.requests) == 1  # cached: no second call
    missing = tianditu.geocode("示范区没有的路1号")
    assert not missing.found and missing.review == "rejected"
    tianditu.geocode("示范区第三条路3号")
    with pytest.raises(Unavailable, match="每分钟"):
        tianditu.geocode("示范区第四条路4号")  # the 4th call in a minute: refused before calling
    assert len(fake.requests) == 3
    # accepting needs a region; then the address is in the library with its coordinates
    with pytest.raises(IntegrationError):
        tianditu.accept(found, None)
    region = next(r for r in seeding.ensure_regions().values() if r.name == "湖滨社区")
    tianditu.accept(found, None, region=region)
    std = StandardAddress.objects.get(text=KNOWN)
    assert std.region == region and float(std.longitude) == pytest.approx(120.1551)
    found.refresh_from_db()
    assert found.review == "accepted" and found.standard == std


def test_outage_and_wrong_key(system, fake, monkeypatch):
    from integrations import tianditu
    from integrations.http import IntegrationError, Unavailable
    from integrations.models import GeocodeResult

    fake.broken = True
    with pytest.raises(Unavailable):
        tianditu.geocode(KNOWN)
    assert not GeocodeResult.objects.exists() and len(fake.requests) == 2  # tried twice (retries=1)
    fake.broken = False
    monkeypatch.setenv("TDT_TEST_KEY", "wrong")
    with pytest.raises(IntegrationError, match="权限"):
        tianditu.geocode(KNOWN)
    system.refresh_from_db()
    assert system.error_count == 2 and "权限" in system.last_error


def test_admin_test_connection_is_audited(system, fake):
    from django.test import Client

    from accounts.models import User
    from secure.models import SecurityEvent

    admin = User.objects.create(username="int_admin", is_staff=True, is_superuser=True)
    c = Client()
    c.force_login(admin)
    resp = c.post("/admin/integrations/externalsystem/", {"action": "test_connection",
                                                          "_selected_action": [system.pk]}, follow=True)
    assert resp.status_code == 200 and "连接正常" in resp.content.decode()
    fake.broken = True
    resp = c.post("/admin/integrations/externalsystem/", {"action": "test_connection",
                                                          "_selected_action": [system.pk]}, follow=True)
    assert "连接失败" in resp.content.decode()
    rows = list(SecurityEvent.objects.filter(event="integration_test").order_by("seq"))
    assert [r.outcome for r in rows] == ["success", "failure"] and rows[0].username == "int_admin"
    page = c.get(f"/admin/integrations/externalsystem/{system.pk}/change/").content.decode()
    assert "环境变量 TDT_TEST_KEY 已设置" in page and "tk-1" not in page  # the secret is never shown
