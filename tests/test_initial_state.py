"""A new case starts in the first state of its workflow (metadata), not in a fixed "registered":
after a business admin renames that state, a case registered on the PC, on H5, by Excel import
or by aggregation starts in the renamed state; a case type with a workflow of its own starts in
that workflow's first state."""
from __future__ import annotations

import json

import pytest

from cases import states
from cases.models import Case
from lowcode.models import Workflow
from tests.test_business_admin_reconfigures import case_form
from tests.test_case_states import rename_state
from tests.test_excel import HEADERS, confirm, row, upload, xlsx
from tests.test_h5 import case_post
from tests.test_ingest import lines, write_jsonl


@pytest.fixture
def accepted(world):
    """The default workflow's first state renamed registered → accepted (已受理)."""
    rename_state("registered", "accepted", "已受理")
    assert states.initial_state("neighbor") == "accepted"


@pytest.fixture
def hubin(world):
    from orgs.models import Region

    return Region.objects.get(name="湖滨社区")


def test_a_case_registered_on_the_pc_starts_in_the_renamed_state(accepted, client_for, hubin):
    response = client_for("demo_mediator").post("/admin/cases/case/add/", case_form(hubin.pk))
    assert response.status_code == 302
    assert Case.objects.get().status == "accepted"


def test_a_case_registered_on_h5_starts_in_the_renamed_state(accepted, client_for, hubin):
    response = client_for("demo_mediator").post("/h5/cases/new/", case_post(hubin.pk))
    assert response.status_code == 302
    assert Case.objects.get().status == "accepted"


def test_cases_imported_from_excel_start_in_the_renamed_state(accepted, client_for, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    c = client_for("demo_mediator")
    response = upload(c, xlsx(HEADERS, [row(title="导入的纠纷一"), row(title="导入的纠纷二")]))
    assert response.context["preview"].error_count == 0
    assert confirm(c, response.context["token"]).status_code == 302
    assert sorted(Case.objects.values_list("status", flat=True)) == ["accepted", "accepted"]


@pytest.fixture
def cleaning_rules(world):
    from lowcode.serialization import load_metadata

    load_metadata(["cleaning_rules"])  # before the rename: shipped status maps name "registered"


def test_aggregated_cases_without_a_status_start_in_the_renamed_state(cleaning_rules, accepted, tmp_path):
    from clues.ingest import ingest

    records = [r for r in lines("local") if not r.get("status")][:3]
    assert records
    ingest("local", write_jsonl(tmp_path / "local.jsonl", records), origin="command")
    assert Case.objects.count() == len(records)
    assert set(Case.objects.values_list("status", flat=True)) == {"accepted"}


def test_a_case_type_with_its_own_workflow_starts_in_that_workflows_first_state(client_for, hubin):
    default = Workflow.objects.get(entity="case", scope_value="")
    own = Workflow(entity="case", scope_value="labor", state_field=default.state_field, timers=default.timers)
    for field in ("states", "transitions", "timers"):
        text = json.dumps(getattr(default, field), ensure_ascii=False).replace('"registered"', '"labor_intake"')
        setattr(own, field, json.loads(text))
    own.full_clean()
    own.save()

    c = client_for("demo_mediator")
    assert c.post("/admin/cases/case/add/", case_form(hubin.pk, case_type="labor_wage")).status_code == 302
    assert c.post("/admin/cases/case/add/", case_form(hubin.pk, case_type="neighbor", title="邻里纠纷")).status_code == 302
    assert dict(Case.objects.values_list("case_type", "status")) == {"labor_wage": "labor_intake",
                                                                     "neighbor": "registered"}


def test_a_cleaning_rules_default_status_must_be_a_case_state(cleaning_rules):
    from django.core.exceptions import ValidationError

    from clues.models import CleaningRule

    rule = CleaningRule.objects.get(source="local")
    assert rule.status_default == ""  # shipped blank: the workflow's first state
    rule.status_default = "registerd"
    with pytest.raises(ValidationError, match="状态编码“registerd”不存在"):
        rule.full_clean()
    rule.status_default = "mediating"
    rule.full_clean()
