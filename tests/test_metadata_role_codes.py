"""Workflows, layouts and lists name roles by code (accounts.Role). A mistyped code would match
nobody and silently take an action or a screen away from everyone: it is refused, on admin save
and in load_metadata, with a Chinese message naming it and the known codes."""
from __future__ import annotations

import json
import shutil

import pytest
import yaml
from django.conf import settings

from lowcode.models import Dictionary, FormLayout, ListView, Workflow
from lowcode.serialization import MetadataError, load_metadata, to_yaml

SHIPPED = settings.BASE_DIR / "metadata"


def _workflow_form(wf: Workflow, **changes) -> dict:
    data = {"entity": wf.entity, "scope_value": wf.scope_value, "state_field": wf.state_field,
            "states": json.dumps(wf.states, ensure_ascii=False),
            "transitions": json.dumps(wf.transitions, ensure_ascii=False),
            "timers": json.dumps(wf.timers, ensure_ascii=False)}
    return {**data, **changes}


def _with_typo(transitions: list[dict]) -> list[dict]:
    """The first transition naming the mediator names "mediater" instead."""
    transitions = [dict(t) for t in transitions]
    first = next(t for t in transitions if "mediator" in t.get("roles", []))
    first["roles"] = ["mediater" if r == "mediator" else r for r in first["roles"]]
    return transitions


def test_admin_refuses_a_workflow_with_a_mistyped_role_code(client_for):
    wf = Workflow.objects.get(entity="case", scope_value="")
    before = wf.transitions
    c = client_for("demo_config")
    url = f"/admin/lowcode/workflow/{wf.pk}/change/"

    response = c.post(url, _workflow_form(wf, transitions=json.dumps(_with_typo(before), ensure_ascii=False)))

    assert response.status_code == 200
    html = response.content.decode()
    assert "未知的角色代码：mediater" in html
    assert "mediator" in html.split("未知的角色代码：mediater", 1)[1]   # the known codes are listed
    wf.refresh_from_db()
    assert wf.transitions == before
    # the same form with the right codes saves: the refusal is the code, not the form
    assert c.post(url, _workflow_form(wf)).status_code == 302


def test_admin_refuses_a_layout_or_list_for_an_unknown_role(client_for):
    c = client_for("demo_config")
    layout = FormLayout.objects.filter(entity="case").first()
    response = c.post("/admin/lowcode/formlayout/add/", {
        "entity": layout.entity, "screen": layout.screen, "scope_value": "", "role": "street_admn",
        "sections": json.dumps(layout.sections, ensure_ascii=False)})
    assert response.status_code == 200 and "未知的角色代码：street_admn" in response.content.decode()
    assert not FormLayout.objects.filter(role="street_admn").exists()

    lv = ListView.objects.filter(entity="case").first()
    response = c.post("/admin/lowcode/listview/add/", {
        "entity": lv.entity, "role": "mediatr", "columns": json.dumps(lv.columns), "filters": json.dumps(lv.filters),
        "search_fields": json.dumps(lv.search_fields), "ordering": json.dumps(lv.ordering),
        "page_size": lv.page_size})
    assert response.status_code == 200 and "未知的角色代码：mediatr" in response.content.decode()
    assert not ListView.objects.filter(role="mediatr").exists()


def test_load_metadata_refuses_a_mistyped_role_code_and_writes_nothing(db, tmp_path):
    load_metadata()
    root = tmp_path / "v2"
    shutil.copytree(SHIPPED, root)
    path = root / "workflows.yaml"
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))
    case_wf = next(r for r in rows if r["entity"] == "case" and not r.get("scope_value"))
    case_wf["transitions"] = _with_typo(case_wf["transitions"])
    path.write_text(to_yaml(rows), encoding="utf-8")
    dictionaries = root / "dictionaries.yaml"
    dicts = yaml.safe_load(dictionaries.read_text(encoding="utf-8"))
    dicts[0]["name"] = "改名（同一次加载）"
    dictionaries.write_text(to_yaml(dicts), encoding="utf-8")
    before = Workflow.objects.get(entity="case", scope_value="").transitions

    with pytest.raises(MetadataError, match="未知的角色代码：mediater（已有角色代码：.*mediator"):
        load_metadata(None, root)
    assert Workflow.objects.get(entity="case", scope_value="").transitions == before
    assert not Dictionary.objects.filter(name="改名（同一次加载）").exists()   # all or nothing


def test_shipped_metadata_names_only_known_roles(db):
    from accounts.separation import known_role_codes

    load_metadata()
    named = {r for wf in Workflow.objects.all() for t in wf.transitions for r in t.get("roles", [])}
    named |= set(FormLayout.objects.exclude(role="").values_list("role", flat=True))
    named |= set(ListView.objects.exclude(role="").values_list("role", flat=True))
    assert named and named <= known_role_codes()
    for model in (Workflow, FormLayout, ListView):
        for obj in model.objects.all():
            obj.full_clean()
