"""Business vocabulary comes from metadata, not from code (issue 12, "names from metadata"):
review kinds are labelled by the review_kind dictionary on every end, the channel list is the
channel registry, the duplicate model reads its weights from the settings record only, and
region levels are named once (orgs.Region.Level)."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import User
from cases import actions
from cases.models import Case


def user(name):
    return User.objects.get(username=name)


# --- review kinds: one label source -----------------------------------------------------------------
def test_a_review_kind_renamed_in_the_dictionary_shows_so_on_pc_and_h5(client_for, make_case):
    from lowcode.models import DictItem

    case = make_case("湖滨社区", title="复核措辞的纠纷", registrant=user("demo_mediator"))
    actions.do_transition(case, "开始调解", user("demo_mediator"))
    actions.submit_result(Case.objects.get(pk=case.pk), user("demo_mediator"), action="提交结果", outcome="success")
    item = DictItem.objects.get(dictionary__code="review_kind", code="result")
    assert item.label == "调解结果审核"  # the shipped wording, the same on both ends
    item.label = "调解结果复核"
    item.save()

    h5 = client_for("demo_mediator").get(f"/h5/cases/{case.pk}/").content.decode()
    pc = client_for("demo_street").get("/admin/").content.decode()
    assert "调解结果复核" in h5 and "调解结果复核" in pc


# --- channels: the registry is the list -------------------------------------------------------------
def test_channel_adapters_and_the_unknown_source_message_follow_the_registry(metadata):
    from clues.ingest import UnknownSource, _rule_for
    from clues.models import Channel
    from clues.sources import adapter_for
    from clues.sources.hotline12345 import ADAPTER
    from lowcode.serialization import load_metadata

    load_metadata(["channels"])
    assert adapter_for("hotline12345") is ADAPTER
    Channel.objects.create(key="wechat", name="微信小程序", kind="event")
    with pytest.raises(UnknownSource) as refused:
        _rule_for("no_such_channel")
    assert "wechat" in str(refused.value) and "hotline12345" in str(refused.value)


def test_a_module_of_an_unregistered_name_is_not_used_as_an_adapter(db, monkeypatch):
    from clues import sources
    from clues.sources import adapter_for
    from clues.sources.base import Adapter
    from clues.sources.hotline12345 import ADAPTER

    from clues.models import Channel

    Channel.objects.all().delete()  # no channel registry loaded on this database
    monkeypatch.setattr(sources, "_cache", {})
    plain = adapter_for("hotline12345")
    assert type(plain) is Adapter and plain is not ADAPTER


# --- duplicate model: weights only from the settings record -------------------------------------------------
def test_the_shipped_settings_name_every_weight_the_model_reads():
    from extensions.dedup import conf, score

    shipped = conf.shipped()
    assert set(score.WEIGHTS) <= set(shipped["weights"])
    assert set(score.PERSON_SCORES) <= set(shipped["person_scores"])


def test_settings_missing_a_weight_are_refused_in_chinese(metadata):
    from extensions.dedup.conf import get_settings

    s = get_settings()
    s.weights = {k: v for k, v in s.weights.items() if k != "person_base"}
    with pytest.raises(ValidationError, match="缺少：person_base"):
        s.full_clean()


def test_a_weight_changed_in_the_record_moves_the_score():
    """No code default stands in for a weight: the record's person_base is what the score uses."""
    import datetime as dt

    from extensions.dedup import features, score
    from extensions.dedup.conf import Conf

    tz = dt.timezone(dt.timedelta(hours=8))

    def rec(key, day):
        return {"key": key, "kind": "clue", "obj_id": 1, "channel": key.split(":")[0], "region_path": "",
                "case_type": "labor_wage", "reported_at": dt.datetime(2026, 3, day, 10, tzinfo=tz), "title": "",
                "text": "宏达建筑有限公司拖欠工资3个月共24000元", "address": "迎宾路18号", "address_id": None,
                "parties": [{"name": "张三", "known": True, "surname": "张", "id_bidx": "",
                             "phone_bidx": "ph-13800138000", "phone": "13800138000"}]}

    def same_score(conf):
        a, b = rec("hotline12345:1", 1), rec("minhu:2", 3)
        verdict, value, _ = score.compare(features.build(a, conf), features.build(b, conf), conf)
        assert verdict == "same"
        return value

    shipped = Conf.from_shipped()
    lower = Conf.from_shipped(weights={**shipped.weights, "person_base": shipped.weights["person_base"] / 2})
    assert same_score(lower) < same_score(shipped)


# --- region levels named once ----------------------------------------------------------------------------
def test_a_warning_level_with_an_unknown_lead_level_is_refused_with_the_level_names(db):
    from extensions.escalation.models import WarningLevel

    level = WarningLevel(key="purple", label="紫色预警", color="#800080", lead_level=5)
    with pytest.raises(ValidationError) as refused:
        level.clean()
    assert "1（区）、2（街道/镇）、3（社区/村）、4（网格）" in str(refused.value)
