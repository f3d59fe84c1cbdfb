"""浙政钉 against its loopback fake (tests/fakes/zzd.py): organisation/user sync (paged,
incremental, mapped by the district admin's rules, new users without roles), signature error,
expired token, outage and retry, work notices (delivery status, retry, idempotent bizMsgId),
H5 免登 and PC QR login ending in the same session and policy as a password login."""
from __future__ import annotations

import pytest
from django.test import Client

from tests.fakes.zzd import FakeZzd


@pytest.fixture(autouse=True)
def no_backoff(settings, monkeypatch):
    settings.INTEGRATION_BACKOFF_SECONDS = 0
    monkeypatch.setenv("ZZD_TEST_SECRET", "fake-secret")


def tree(n_street_people=110):
    orgs = {"GO_district": {"organizationName": "示范区政府", "parentCode": ""},
            "GO_street": {"organizationName": "东湖街道办事处", "parentCode": "GO_district"},
            "GO_comm": {"organizationName": "湖滨社区居委会", "parentCode": "GO_street"}}
    employees = {f"GE_{i:04d}": {"employeeName": f"街道干部{i}", "org": "GO_street", "accountId": 5000 + i}
                 for i in range(n_street_people)}
    employees["GE_med"] = {"employeeName": "钉钉调解员", "org": "GO_comm", "accountId": 93}
    return orgs, employees


@pytest.fixture
def fake():
    orgs, employees = tree()
    with FakeZzd(orgs=orgs, employees=employees) as server:
        yield server


@pytest.fixture
def system(db, fake):
    from integrations.models import ExternalSystem

    return ExternalSystem.objects.create(code="zzd", name="浙政钉", kind="zzd", enabled=True, base_url=fake.url,
                                         login_url=fake.url, app_key="fake-app", secret_env="ZZD_TEST_SECRET",
                                         tenant_id="1001", timeout_seconds=2, retries=2)


@pytest.fixture
def mapped(system):
    from demo import seeding
    from integrations.models import OrgMapping
    from orgs.models import Region

    seeding.ensure_regions()
    OrgMapping.objects.create(system=system, org_code="GO_street", region=Region.objects.get(name="东湖街道"))
    OrgMapping.objects.create(system=system, org_code="GO_comm", region=Region.objects.get(name="湖滨社区"))
    return system


def test_sync_pages_maps_and_is_incremental(mapped, fake):
    from integrations import sync
    from integrations.models import ExternalAccount

    run = sync.run(mapped)
    assert run.ok, run.message
    assert (run.orgs, run.users_new, run.users_updated) == (3, 111, 0)
    # 110 people in one organisation: two pages of employees, two batches of accountIds
    assert fake.requests.count(("POST", "/mozi/organization/pageOrganizationEmployeePositions")) == 2 + 1 + 1
    assert fake.requests.count(("POST", "/mozi/employee/listEmployeeAccountIds")) == 2
    med = ExternalAccount.objects.select_related("user__region").get(external_id="93").user
    assert med.region.name == "湖滨社区"           # nearest mapped organisation wins
    assert med.groups.count() == 0 and not med.has_usable_password()  # no role, no password
    street_person = ExternalAccount.objects.get(external_id="5000").user
    assert street_person.region.name == "东湖街道"
    again = sync.run(mapped)
    assert (again.users_new, again.users_updated, again.users_unchanged) == (0, 0, 111)
    # a rename arrives as an update; granted roles are never touched by a sync
    from django.contrib.auth.models import Group

    med.groups.add(Group.objects.create(name="某角色"))
    fake.employees["GE_med"]["employeeName"] = "改名的调解员"
    third = sync.run(mapped)
    assert (third.users_updated, third.users_unchanged) == (1, 110)
    med.refresh_from_db()
    assert med.display_name == "改名的调解员" and med.groups.count() == 1


def test_bad_signature_is_an_error_with_status(system, fake):
    from integrations import sync

    fake.secret = "another-secret"  # the gateway knows a different secret: every signature fails
    run = sync.run(system)
    system.refresh_from_db()
    assert not run.ok and "签名" in run.message
    assert system.error_count >= 1 and "签名" in system.last_error and system.last_success_at is None


def test_expired_token_is_fetched_again_once(system, fake):
    from integrations.zzd import Client

    client = Client(system)
    client.call("POST", "/auth/scopesV2", {"tenantId": "1001"})
    assert fake.token_calls == 1
    fake.expire_tokens()
    content = client.call("POST", "/auth/scopesV2", {"tenantId": "1001"})
    assert content["deptVisibleScopes"] == ["GO_district"] and fake.token_calls == 2


def test_outage_retry_and_timeout(system, fake):
    from integrations.http import Unavailable
    from integrations.zzd import Client

    fake.fail_next = 2  # two 503s, then it recovers: the third attempt (retries=2) succeeds
    assert Client(system).token(refresh=True)
    fake.broken = True
    with pytest.raises(Unavailable):
        Client(system).token(refresh=True)
    system.refresh_from_db()
    assert "503" in system.last_error and system.error_count == 1
    fake.broken, fake.slow = False, 2.5  # slower than the 2 s timeout
    system.retries = 0
    with pytest.raises(Unavailable, match="超时"):
        Client(system).token(refresh=True)


def test_work_notices_status_retry_and_idempotency(mapped, fake, django_capture_on_commit_callbacks):
    from integrations import sync
    from integrations.models import ExternalAccount, WorkNotice
    from integrations.notices import deliver, retry_due
    from notices.actions import notify

    sync.run(mapped)
    user = ExternalAccount.objects.get(external_id="93").user
    fake.broken = True
    with django_capture_on_commit_callbacks(execute=True):  # the notices_sent hook runs after commit
        notify([user], "system", "系统通知", "请及时处理")
    wn = WorkNotice.objects.get(notice__recipient=user)
    assert wn.status == "failed" and wn.attempts == 1 and wn.next_try_at > wn.notice.created_at
    fake.broken = False
    from django.utils import timezone

    retry_due(now=timezone.now() + timezone.timedelta(hours=1))
    wn.refresh_from_db()
    assert wn.status == "sent" and wn.message_id and fake.sent[wn.biz_msg_id]["receiverIds"] == "93"
    # the answer was lost and the row is tried again: the gateway refuses the duplicate, nothing is sent twice
    WorkNotice.objects.filter(pk=wn.pk).update(status="failed")
    deliver(WorkNotice.objects.filter(pk=wn.pk))
    wn.refresh_from_db()
    assert wn.status == "sent" and len(fake.sent) == 1
