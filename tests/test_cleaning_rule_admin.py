"""清洗规则 in the admin: a business admin changes a channel's cleaning rule without code, sees
beforehand what the change would do to the stored raw records (nothing saved), gets Chinese
messages for a broken rule, finds the change in the history and the 元数据变更记录, and rebuilds
the channel's clues with the new rule; other roles cannot."""
from __future__ import annotations

import json

import pytest

from tests.samples import SAMPLES

URL = "/admin/clues/cleaningrule/"


@pytest.fixture
def police(world, django_capture_on_commit_callbacks):
    from clues.ingest import ingest
    from clues.models import CleaningRule
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])
    with django_capture_on_commit_callbacks(execute=True):
        ingest("police110", SAMPLES / "police110.jsonl", origin="command")
    return CleaningRule.objects.get(source="police110")


def form_data(rule, **changes) -> dict:
    data = {name: getattr(rule, name) for name in (
        "name", "id_field", "field_map", "party_fields", "time_formats", "normalisers", "prefix_patterns",
        "type_map", "type_fallback", "status_map", "status_default", "validation")}
    data.update(changes)
    out = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for k, v in data.items()}
    if rule.match_type_labels:
        out["match_type_labels"] = "on"
    return out


def test_a_business_admin_previews_a_type_mapping_change_and_nothing_is_saved(police, client_for):
    from clues.models import CleaningRule, Clue

    before = list(Clue.objects.order_by("pk").values_list("type_code", flat=True))
    c = client_for("demo_config")
    data = form_data(police, type_map={**police.type_map, "纠纷-劳资纠纷": "labor"})
    page = c.post(f"{URL}{police.pk}/change/", {**data, "_preview": "1"})
    html = page.content.decode()
    assert page.status_code == 200 and 'id="rule-preview"' in html
    assert '<b id="preview-changed">3</b> 条的清洗结果会改变' in html
    assert "案件类型</b>：labor_wage → labor" in html
    assert "纠纷-劳资纠纷" in html  # the typed (unsaved) mapping is back in the form
    assert CleaningRule.objects.get(pk=police.pk).type_map == police.type_map
    assert list(Clue.objects.order_by("pk").values_list("type_code", flat=True)) == before


def test_a_broken_rule_is_refused_with_chinese_messages(police, client_for):
    from clues.models import CleaningRule

    c = client_for("demo_config")
    bad = form_data(police, time_formats=["昨天下午"], type_map={"纠纷-劳资纠纷": "no_such_type"})
    for extra in ({}, {"_preview": "1"}):
        html = c.post(f"{URL}{police.pk}/change/", {**bad, **extra}).content.decode()
        assert "既不是时间格式" in html and "案件类型编码“no_such_type”不存在" in html
    html = c.post(f"{URL}{police.pk}/change/", {**form_data(police), "field_map": "{不是 JSON"}).content.decode()
    assert "JSON" in html
    assert CleaningRule.objects.get(pk=police.pk).time_formats == police.time_formats


def test_a_saved_change_is_versioned_listed_in_the_changelog_and_reclean_applies_it(police, client_for, settings):
    from clues.models import CleaningRule, Clue, IngestBatch

    settings.INGEST_UPLOAD_SYNC = True  # the background task runs in the request
    c = client_for("demo_config")
    response = c.post(f"{URL}{police.pk}/change/", form_data(police, type_map={**police.type_map, "纠纷-劳资纠纷": "labor"}))
    assert response.status_code == 302
    rule = CleaningRule.objects.get(pk=police.pk)
    assert rule.type_map["纠纷-劳资纠纷"] == "labor" and rule.history.count() >= 2
    assert "出厂（已本地修改）" in c.get(f"{URL}{rule.pk}/change/").content.decode()
    changes = c.get("/lowcode/changes/").content.decode()
    assert "清洗规则" in changes and f"/admin/clues/cleaningrule/{rule.pk}/history/" in changes

    assert Clue.objects.filter(channel_id="police110", type_code="labor").count() == 0  # not until reclean
    page = c.post(f"{URL}{rule.pk}/reclean/", follow=True)
    assert "已按当前规则在后台重新清洗" in page.content.decode()
    assert Clue.objects.filter(channel_id="police110", type_code="labor").count() == 3
    batch = IngestBatch.objects.get(origin="reclean", channel_id="police110")
    assert batch.status == "done" and batch.updated == 3
    assert batch.user.username == "demo_config"
    assert c.get("/admin/clues/ingestbatch/?origin__exact=reclean").status_code == 200


def test_only_business_admins_edit_rules_and_nobody_adds_or_deletes_them(police, client_for):
    assert client_for("demo_mediator").get(URL).status_code == 403
    assert client_for("demo_mediator").post(f"{URL}{police.pk}/reclean/").status_code == 403
    assert client_for("demo_mediator").post(f"{URL}{police.pk}/change/", {**form_data(police), "_preview": "1"}).status_code == 403
    c = client_for("demo_config")
    listing = c.get(URL).content.decode()
    assert "110报警" in listing or "police110" in listing
    assert c.get(f"{URL}add/").status_code == 403
    assert c.get(f"{URL}{police.pk}/delete/").status_code == 403
    assert c.get(f"{URL}{police.pk}/reclean/").status_code == 405  # a change: POST only
