"""当事人升级预警 (M-7.3): the 预警名单 — people identified by ID number, else phone, else name +
address; reasons; scope; Excel export masked by permission; the person's archive (同人不同案);
recomputed through the hooks."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from extensions.escalation import evaluate, party
from extensions.escalation.models import PartyWarning

pytestmark = pytest.mark.backend  # depends on the database backend: person index queries

LI = {"name": "李四", "id_number": "330102199001011237", "phone": "13911112222"}


def evaluate_cases(*cases):
    report = evaluate.evaluate_cases([c.pk for c in cases])
    party.evaluate_persons(report.persons)


def listed(name: str):
    return PartyWarning.objects.filter(name=name).first()


@pytest.fixture
def disputes(make_case):
    """disputes(n, person, region_name, days_ago) → n cases of that person."""
    def make(n, person=None, region_name="湖滨社区", days_ago=1, **fields):
        out = []
        for i in range(n):
            out.append(make_case(region_name=region_name, title=fields.get("title", f"纠纷{i}"),
                                 description="一般纠纷", parties=[dict(person or LI)],
                                 registered_at=timezone.now() - dt.timedelta(days=days_ago),
                                 deadline=timezone.now() + dt.timedelta(days=10)))
        evaluate_cases(*out)
        return out
    return make


def test_one_dispute_puts_nobody_on_the_list(disputes):
    disputes(1)
    assert listed("李四") is None


def test_two_disputes_make_a_yellow_repeat_party(disputes):
    disputes(2)
    w = listed("李四")
    assert w.level == "yellow" and w.identity == "id"
    assert "近30天纠纷 2 起" in "；".join(w.reasons)


def test_more_than_five_disputes_in_30_days_make_a_red_prominent_party(disputes):
    disputes(5)
    assert listed("李四").level == "yellow"
    disputes(1)
    w = listed("李四")
    assert w.level == "red"
    assert "突出当事人" in "；".join(w.reasons)
    assert w.facts["纠纷数"] == 6


def test_disputes_older_than_the_window_do_not_count(disputes):
    disputes(5, days_ago=45)
    disputes(1)
    assert listed("李四") is None  # 1 in the last 30 days


def test_same_name_different_id_are_two_people(disputes):
    disputes(1)
    disputes(1, person={"name": "李四", "id_number": "110101198003070018"})
    assert listed("李四") is None


def test_without_id_the_phone_identifies_and_a_masked_phone_does_not(disputes):
    disputes(2, person={"name": "赵六", "phone": "13700001111"})
    assert listed("赵六").identity == "phone"
    disputes(2, person={"name": "钱七", "phone": "137****1111"})
    assert listed("钱七") is None


def test_without_id_or_phone_name_and_address_identify(disputes):
    disputes(2, person={"name": "孙八", "address": "湖滨路3号"})
    assert listed("孙八").identity == "name"
    disputes(1, person={"name": "孙八", "address": "西溪路8号"})
    assert listed("孙八").facts["纠纷数"] == 2  # another 孙八 elsewhere is another person


def test_a_red_case_alone_does_not_colour_its_people_unless_the_site_enables_it(make_case):
    # issue 19: a person's colour is their own pattern, not contagion from one case's colour
    from extensions.escalation.models import WarningRule

    case = make_case(description="对方扬言要杀人", parties=[dict(LI)])
    evaluate_cases(case)
    assert listed("李四") is None
    WarningRule.objects.filter(code="party_red_case").update(enabled=True)  # the shipped rule, off by default
    evaluate_cases(case)
    w = listed("李四")
    assert w.level == "red" and "红色预警案件 1 件" in "；".join(w.reasons)


def test_a_key_person_is_red(make_case, world):
    from extensions.escalation.models import KeyPerson
    from extensions.escalation.subscribers import key_person_changed
    from orgs.models import Region

    case = make_case(parties=[dict(LI)], deadline=timezone.now() + dt.timedelta(days=5))
    evaluate_cases(case)
    assert listed("李四") is None
    kp = KeyPerson.objects.create(name="李四", phone=LI["phone"], reason="缠访", region=Region.objects.get(name="湖滨社区"))
    key_person_changed(kp)
    w = listed("李四")
    assert w.level == "red" and w.rule == "party_key_person" and w.facts["重点人员"] is True


def test_police_calls_and_petitions_naming_the_person_count(disputes, world):
    from clues.models import Channel, Clue, ClueParty, RawRecord
    from orgs.models import Region

    disputes(1)
    region = Region.objects.get(name="湖滨社区")
    ids = []
    for i, channel in enumerate(["police110", "police110", "hotline12345"]):
        ch, _ = Channel.objects.get_or_create(key=channel, defaults={"name": channel, "kind": "event"})
        raw = RawRecord.objects.create(channel=ch, source_id=f"P{i}", record_key=f"{channel}:P{i}",
                                       payload={}, payload_hash=str(i))
        clue = Clue.objects.create(record_key=raw.record_key, raw=raw, channel=ch, source_id=raw.source_id,
                                   title="来电", region=region, region_path=region.path,
                                   occurred_at=timezone.now() - dt.timedelta(days=2))
        ClueParty.objects.create(clue=clue, name="李四", phone=LI["phone"])
        ids.append(clue.pk)
    from extensions.escalation.subscribers import records_changed

    records_changed(kind="clue", ids=ids)
    w = listed("李四")
    assert w.level == "orange"
    assert w.facts["报告次数"] == 3 and w.facts["报警次数"] == 2 and w.facts["信访次数"] == 1


def test_the_list_follows_the_hooks_and_forgets_deleted_cases(make_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        a = make_case(parties=[dict(LI)])
    with django_capture_on_commit_callbacks(execute=True):
        b = make_case(parties=[dict(LI)], title="第二起")
    assert listed("李四") is not None
    with django_capture_on_commit_callbacks(execute=True):
        b.delete()
    with django_capture_on_commit_callbacks(execute=True):
        a.delete()
    assert listed("李四") is None


# --- screens -------------------------------------------------------------------------------------
def test_the_list_shows_people_with_a_case_in_the_users_scope_only(disputes, client_for):
    disputes(2)
    disputes(2, person={"name": "王溪口", "id_number": "330106198502020019"}, region_name="溪口社区")
    page = client_for("demo_mediator").get("/admin/escalation/partywarning/").content.decode()
    assert "李四" in page and "王溪口" not in page
    page = client_for("demo_district").get("/admin/escalation/partywarning/").content.decode()
    assert "李四" in page and "王溪口" in page


def test_ids_and_phones_are_masked_without_the_permission(disputes, client_for):
    disputes(2)
    page = client_for("demo_mediator").get("/admin/escalation/partywarning/").content.decode()
    assert LI["id_number"] not in page and "3301**********1237" in page and "139****2222" in page
    page = client_for("demo_district").get("/admin/escalation/partywarning/").content.decode()
    assert LI["id_number"] in page


def test_the_archive_lists_the_persons_cases_within_scope(disputes, client_for):
    hubin = disputes(2, title="湖滨的纠纷")
    disputes(1, region_name="溪口社区", title="溪口的纠纷")
    w = listed("李四")
    assert w.facts["纠纷数"] == 3
    page = client_for("demo_mediator").get(f"/admin/escalation/partywarning/{w.pk}/archive/").content.decode()
    assert page.count("湖滨的纠纷") == 2 and "溪口的纠纷" not in page
    assert hubin[0].exchange_id in page
    page = client_for("demo_district").get(f"/admin/escalation/partywarning/{w.pk}/archive/").content.decode()
    assert "溪口的纠纷" in page


def test_a_person_without_a_case_in_scope_is_not_found(disputes, client_for):
    disputes(2, region_name="溪口社区")
    w = listed("李四")
    assert client_for("demo_mediator").get(f"/admin/escalation/partywarning/{w.pk}/archive/").status_code == 404
    assert client_for("demo_mediator").get("/admin/escalation/partywarning/abc/archive/").status_code == 404


def _sheet(response):
    from openpyxl import load_workbook

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_export_is_filtered_scoped_masked_and_formula_safe(disputes, client_for):
    disputes(2)
    disputes(6, person={"name": "=HYPERLINK(\"x\")", "id_number": "330106198502020019"})
    disputes(2, person={"name": "王溪口", "id_number": "110101199003078515"}, region_name="溪口社区")
    rows = _sheet(client_for("demo_mediator").get("/admin/escalation/partywarning/export/"))
    assert rows[0][:5] == ["姓名", "证件号码", "联系电话", "识别依据", "预警等级"]
    names = [r[0] for r in rows[1:]]
    assert "李四" in names and "王溪口" not in names
    assert "'=HYPERLINK(\"x\")" in names  # neutralised
    li = next(r for r in rows if r[0] == "李四")
    assert li[1] == "3301**********1237" and li[2] == "139****2222"
    red_only = _sheet(client_for("demo_mediator").get("/admin/escalation/partywarning/export/?level=red"))
    assert [r[0] for r in red_only[1:]] == ["'=HYPERLINK(\"x\")"]
    full = _sheet(client_for("demo_district").get("/admin/escalation/partywarning/export/"))
    assert any(r[1] == LI["id_number"] for r in full)


def test_users_outside_the_region_tree_see_nobody(disputes, client_for):
    disputes(2)
    assert "李四" in client_for("demo_mediator").get("/admin/escalation/partywarning/").content.decode()
    c = client_for("demo_tp_mediator")  # third party: an internal screen, not theirs at all (issue #18)
    response = c.get("/admin/escalation/partywarning/")
    assert response.status_code == 403 and "李四" not in response.content.decode()
    assert c.get("/admin/escalation/partywarning/export/").status_code == 403
