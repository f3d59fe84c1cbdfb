"""重复研判参数: metadata with shipped defaults, validated with Chinese messages, and a 试算
preview that counts what unsaved values would flag — without saving them."""
from __future__ import annotations

import pytest


@pytest.fixture
def two_reports(make_case, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        a = make_case(title="车库积水物业费纠纷", case_type="property", address="文化路313号",
                      description="王建国反映地下车库积水，物业仍催交物业费2400元，双方发生争执。",
                      parties=[{"name": "王建国", "phone": "13957070221", "id_number": ""}])
    with django_capture_on_commit_callbacks(execute=True):
        b = make_case(title="物业费争执", case_type="property", address="文化路313号附近",
                      description="业主王建国因车库积水拒交2400元物业费，与物业争执。",
                      parties=[{"name": "王建国", "phone": "13957070221", "id_number": ""}])
    return a, b


def form_data(obj, **changes):
    import json

    from extensions.dedup.models import DedupSettings

    data = {}
    for f in DedupSettings.META_FIELDS:
        v = getattr(obj, f)
        data[f] = json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v
    data.update(changes)
    return data


def test_shipped_defaults_are_created_on_first_use(world):
    from extensions.dedup.conf import get_settings, shipped

    s = get_settings()
    assert s.origin == "shipped" and s.same_threshold == shipped()["same_threshold"]
    assert s.weights["text"] == shipped()["weights"]["text"] and not s.is_customised


def test_preview_counts_without_saving(two_reports, client_for):
    from extensions.dedup.conf import get_settings

    s = get_settings()
    c = client_for("demo_config")
    r = c.post(f"/admin/dedup/dedupsettings/{s.pk}/change/", form_data(s, same_threshold="0.999", _preview="1"))
    html = r.content.decode()
    assert r.status_code == 200
    assert "0</strong> 对判为同一案件" in html and "当前参数：1 对" in html  # one pair would move
    assert "同一案件" in html and "相似案件" in html
    s.refresh_from_db()
    assert s.same_threshold != 0.999  # nothing saved


def test_saving_bad_values_shows_chinese_errors(world, client_for):
    from extensions.dedup.conf import get_settings

    s = get_settings()
    c = client_for("demo_config")
    r = c.post(f"/admin/dedup/dedupsettings/{s.pk}/change/", form_data(s, same_threshold="0.4", similar_threshold="0.6"))
    assert r.status_code == 200 and "相似案件阈值不能高于同一案件阈值" in r.content.decode()
    r = c.post(f"/admin/dedup/dedupsettings/{s.pk}/change/", form_data(s, weights='{"text": "很多"}'))
    assert r.status_code == 200 and "非负数字" in r.content.decode()
    s.refresh_from_db()
    assert s.same_threshold == 0.55


def test_saved_settings_apply_to_the_next_check(two_reports, client_for, django_capture_on_commit_callbacks):
    from extensions.dedup import api
    from extensions.dedup.conf import get_settings

    a, b = two_reports
    assert api.same_reports("case", a.pk) == 1
    s = get_settings()
    r = client_for("demo_config").post(f"/admin/dedup/dedupsettings/{s.pk}/change/", form_data(s, same_threshold="0.999"))
    assert r.status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        a.save()
    assert api.same_reports("case", a.pk) == 0
    assert [x.key for x in api.similar_records("case", a.pk)] == [b.record_key]


def test_preview_counts_similar_pairs_by_the_similar_threshold(make_case, client_for,
                                                              django_capture_on_commit_callbacks):
    """One pair sharing a phone with different matters (同人不同案, 0.95): a similar threshold
    raised above it (the same threshold with it, as the form requires) takes it out of the preview."""
    from extensions.dedup.conf import get_settings

    with django_capture_on_commit_callbacks(execute=True):
        make_case(title="楼道堆物纠纷", case_type="neighbor", description="韩梅与邻居因楼道堆物发生争执。",
                  parties=[{"name": "韩梅", "phone": "13957071234", "id_number": ""}])
    with django_capture_on_commit_callbacks(execute=True):
        make_case(title="装修款纠纷", case_type="consumer", description="装修公司拖欠退还装修款3万元。",
                  parties=[{"name": "韩梅", "phone": "13957071234", "id_number": ""}])
    s = get_settings()
    c = client_for("demo_config")
    shipped = c.post(f"/admin/dedup/dedupsettings/{s.pk}/change/", form_data(s, _preview="1")).content.decode()
    assert "<strong>1</strong> 对判为相似案件" in shipped and "当前参数：0 对 / 1 对" in shipped
    html = c.post(f"/admin/dedup/dedupsettings/{s.pk}/change/",
                  form_data(s, same_threshold="0.99", similar_threshold="0.97", _preview="1")).content.decode()
    assert "<strong>0</strong> 对判为同一案件、" in html
    assert "<strong>0</strong> 对判为相似案件" in html and "当前参数：0 对 / 1 对" in html
