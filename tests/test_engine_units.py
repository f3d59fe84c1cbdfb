"""Engine pieces on their own: expressions, workflow metadata, compiled-metadata caching."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lowcode import expressions, registry
from lowcode.models import Dictionary, DictItem, FieldDef, Workflow
from lowcode.workflow import allowed_transitions


def test_chinese_names_and_none_safe_comparisons():
    assert expressions.evaluate("涉及人数 >= 10 and 包含(标题, '欠薪')", {"涉及人数": 12, "标题": "集体欠薪"})
    assert expressions.holds("涉及人数 >= 10", {"涉及人数": None}) is False


@pytest.mark.parametrize("source, message", [
    ("x.__class__", "不支持该写法"),
    ("__import__('os')", "未知函数"),
    ("open('/etc/passwd')", "未知函数"),
    ("未知 > 1", "未知字段"),
    ("涉及人数 >", "语法错误"),
])
def test_unsafe_or_wrong_expressions_are_refused_in_chinese(source, message):
    with pytest.raises(expressions.ExpressionError, match=message):
        expressions.validate(source, {"涉及人数"})


def test_workflow_offers_only_transitions_for_the_role_state_and_condition(metadata):
    wf = Workflow.objects.get(entity="case", scope_value="")
    wf.transitions = wf.transitions + [{"action": "区级复核", "from": ["pending_review"], "to": "mediated",
                                        "roles": ["district_admin"], "condition": "涉及人数 >= 10"}]
    wf.save()
    meta = registry.get_meta("case")
    street = [t.action for t in allowed_transitions(meta, "labor", "pending_review", ("street_admin",), {"涉及人数": 20})]
    assert street == ["审核通过", "退回补充", "驳回"]
    district = [t.action for t in allowed_transitions(meta, "labor", "pending_review", ("district_admin",), {"涉及人数": 20})]
    assert "区级复核" in district
    small = [t.action for t in allowed_transitions(meta, "labor", "pending_review", ("district_admin",), {"涉及人数": 2})]
    assert "区级复核" not in small
    assert allowed_transitions(meta, "labor", "archived", ("district_admin",), {}) == []


def test_workflow_referring_to_an_unknown_state_is_refused(metadata):
    from django.core.exceptions import ValidationError

    wf = Workflow.objects.get(entity="case", scope_value="")
    wf.transitions = [{"action": "跳转", "from": ["registered"], "to": "不存在"}]
    with pytest.raises(ValidationError, match="未定义的状态"):
        wf.full_clean()


def test_dictionary_tree_refuses_a_cycle(metadata):
    from django.core.exceptions import ValidationError

    labor = DictItem.objects.get(dictionary__code="case_type", code="labor")
    wage = DictItem.objects.get(dictionary__code="case_type", code="labor_wage")
    labor.parent = wage
    with pytest.raises(ValidationError, match="自身的下级"):
        labor.full_clean()


def test_metadata_cost_per_request_does_not_grow_with_metadata_records(client_for, make_case):
    make_case()
    c = client_for("demo_mediator")
    c.get("/admin/cases/case/")  # warm the per-process cache

    def queries():
        with CaptureQueriesContext(connection) as ctx:
            assert c.get("/admin/cases/case/?case_type=neighbor").status_code == 200
        # the session row is rewritten at most once a minute (ops.middleware): not metadata's cost
        return len([q for q in ctx.captured_queries
                    if "django_session" not in q["sql"] and "SAVEPOINT" not in q["sql"]])

    baseline = queries()
    bulk = Dictionary.objects.create(code="bulk", name="批量")
    DictItem.objects.bulk_create(DictItem(dictionary=bulk, code=f"i{i}", label=f"项{i}") for i in range(300))
    FieldDef.objects.bulk_create(FieldDef(entity="party", code=f"f{i}", label=f"字段{i}", fieldtype="data", idx=i)
                                 for i in range(300))
    bulk.save()  # bulk_create sends no signals; one save bumps the version
    c.get("/admin/cases/case/")  # recompile once
    assert queries() == baseline


def test_metadata_tables_are_not_read_on_a_warm_request(client_for, make_case):
    make_case()
    c = client_for("demo_mediator")
    c.get("/admin/cases/case/")
    with CaptureQueriesContext(connection) as ctx:
        c.get("/admin/cases/case/")
    read = [q["sql"] for q in ctx.captured_queries if "lowcode_" in q["sql"]]
    assert len(read) == 1 and "lowcode_metaversion" in read[0]


def test_expression_can_be_tried_on_real_records_before_saving(client_for, make_case):
    big = make_case(title="大型欠薪", party_count=15, case_type="labor_wage")
    make_case(title="小纠纷", party_count=2)
    c = client_for("demo_config")
    result = c.post("/lowcode/try-expression/case/", {"expression": "涉及人数 >= 10"}).json()
    assert result == {"ok": True, "total": 2, "matched": 1, "errors": 0, "examples": [result["examples"][0]]}
    assert result["examples"] == [big.exchange_id]  # by number: a sample names no title or party
    bad = c.post("/lowcode/try-expression/case/", {"expression": "人数 >= 10"}).json()
    assert bad["ok"] is False and "未知字段" in bad["error"]
    assert client_for("demo_mediator").post("/lowcode/try-expression/case/", {"expression": "1"}).status_code == 403
