"""Issue #15, 重点人员: 走访 records beside the stabilisation logs, and 待核查线索 — a clue that
concerns a key person or a party on the 预警名单 becomes a verification task in the clue's
region (assigned, verified with a result, closed), listed per person and per region."""
from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

KEY_ID = "11010519491231002X"
WARNED_PHONE = "13912345678"


@pytest.fixture
def clues(world):
    from clues.models import Channel, Clue, ClueParty, RawRecord
    from orgs.models import Region

    channel, _ = Channel.objects.get_or_create(key="hotline12345", defaults={"name": "12345热线", "kind": "event"})
    out = {}
    for key, region_name, party in [("key", "湖滨社区", {"name": "赵重点", "id_number": KEY_ID}),
                                    ("warned", "湖滨社区", {"name": "钱预警", "phone": WARNED_PHONE}),
                                    ("plain", "湖滨社区", {"name": "孙普通", "phone": "13700000001"}),
                                    ("far", "溪口社区", {"name": "赵重点", "id_number": KEY_ID})]:
        region = Region.objects.get(name=region_name)
        raw = RawRecord.objects.create(channel=channel, source_id=key, record_key=f"hotline12345:{key}",
                                       payload={}, payload_hash=key)
        clue = Clue.objects.create(record_key=raw.record_key, raw=raw, channel=channel, source_id=key,
                                   title=f"{region_name}来电：{party['name']}反映问题", text="来电反映邻里纠纷",
                                   region=region, region_path=region.path, occurred_at=timezone.now())
        ClueParty.objects.create(clue=clue, **party)
        out[key] = clue
    return out


def test_clues_of_key_and_warned_people_become_tasks_and_are_verified(world, clues, client_for):
    from extensions.escalation import keywork
    from extensions.escalation.models import KeyPerson, PartyWarning, VerificationTask
    from orgs.models import Region

    person = KeyPerson.objects.create(name="赵重点", id_number=KEY_ID, reason="多次越级上访",
                                      region=Region.objects.get(name="湖滨社区"))
    from secure.crypto import blind_index

    PartyWarning.objects.create(person_key=f"phone:{blind_index(WARNED_PHONE, 'phone')}", identity="phone",
                                name="钱预警", level="red")
    created = keywork.sync_tasks([c.pk for c in clues.values()])
    assert created == 3  # key person twice (two regions), the warned party once; the plain caller none
    assert keywork.sync_tasks([c.pk for c in clues.values()]) == 0  # once per clue and person
    tasks = VerificationTask.objects.all()
    assert {(t.clue_id, t.person_name) for t in tasks} == {
        (clues["key"].pk, "赵重点"), (clues["far"].pk, "赵重点"), (clues["warned"].pk, "钱预警")}
    assert VerificationTask.objects.get(clue=clues["key"]).person == person

    street = client_for("demo_street")  # 东湖街道: 湖滨社区 only
    page = street.get(reverse("admin:escalation_verificationtask_changelist")).content.decode()
    assert "钱预警" in page and "湖滨社区来电" in page and "溪口社区来电" not in page
    own = VerificationTask.objects.get(clue=clues["key"])
    far = VerificationTask.objects.get(clue=clues["far"])
    assert street.get(reverse("admin:escalation_verificationtask_change", args=[far.pk])).status_code in (302, 404)
    url = reverse("admin:escalation_verificationtask_change", args=[own.pk])
    refused = street.post(url, {"op": "verify", "result": ""})
    assert "请填写核查结果" in refused.content.decode()
    street.post(url, {"op": "verify", "result": "已电话核实，本人情绪稳定"})
    own.refresh_from_db()
    assert own.state == "verified" and own.verified_by.username == "demo_street" and own.verified_at
    street.post(url, {"op": "close", "result": own.result})
    own.refresh_from_db()
    assert own.state == "closed"
    with pytest.raises(keywork.Refused):
        keywork.verify(own, own.verified_by, "再次核查")
    # per person: the key person's page lists the tasks beside the 走访
    assert list(person.tasks.values_list("state", flat=True).order_by("state")) == ["closed", "open"]


def test_key_person_visits_are_recorded_on_the_person_page(world, client_for):
    from extensions.escalation.models import KeyPerson, KeyPersonVisit
    from orgs.models import Region

    person = KeyPerson.objects.create(name="赵重点", id_number=KEY_ID, reason="多次越级上访",
                                      region=Region.objects.get(name="湖滨社区"))
    c = client_for("demo_mediator")
    url = reverse("admin:escalation_keyperson_change", args=[person.pk])
    form = c.get(url).content.decode()
    assert "走访" in form
    data = {"name": "赵重点", "id_number": person.id_number, "phone": "", "reason": "多次越级上访",
            "region": person.region_id, "active": "on",
            "logs-TOTAL_FORMS": "0", "logs-INITIAL_FORMS": "0", "logs-MIN_NUM_FORMS": "0", "logs-MAX_NUM_FORMS": "1000",
            "visits-TOTAL_FORMS": "1", "visits-INITIAL_FORMS": "0", "visits-MIN_NUM_FORMS": "0",
            "visits-MAX_NUM_FORMS": "1000", "visits-0-visited_at_0": "2026-12-01", "visits-0-visited_at_1": "10:00:00",
            "visits-0-way": "onsite", "visits-0-content": "上门走访，了解诉求"}
    response = c.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    visit = KeyPersonVisit.objects.get(person=person)
    assert visit.content == "上门走访，了解诉求" and visit.created_by.username == "demo_mediator"
