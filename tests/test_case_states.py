"""The case-state vocabulary (cases.states) follows the workflow metadata: a state a business
admin renames or adds in 业务配置 › 流程 reaches the H5 tabs, the personal figures, the workbench
and the PC handling links without code."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from accounts.models import User
from cases import actions, states, workbench
from cases.models import Case, Review
from h5 import queries as h5_queries
from lowcode.models import DictItem, Workflow

D = dt.timedelta(days=1)


def user(name: str) -> User:
    return User.objects.get(username=name)


def html(response) -> str:
    return response.content.decode()


def edit_workflow(change) -> None:
    """What a business admin does in 业务配置 › 流程 on the default case workflow."""
    wf = Workflow.objects.get(entity="case", scope_value="")
    change(wf)
    wf.full_clean()
    wf.save()


def rename_state(old: str, new: str, label: str):
    """Rename a state everywhere the workflow names it, and give it a 案件状态 label."""
    def change(wf):
        for field in ("states", "transitions", "timers"):
            text = json.dumps(getattr(wf, field), ensure_ascii=False).replace(f'"{old}"', f'"{new}"')
            setattr(wf, field, json.loads(text))
    edit_workflow(change)
    item = DictItem.objects.get(dictionary__code="case_status", code=old)
    item.code, item.label = new, label
    item.save()


@pytest.fixture
def mediator(client_for):
    return client_for("demo_mediator")


def test_the_shipped_workflow_gives_the_vocabulary(metadata):
    assert states.initial_states() == {"registered"}
    assert {"mediated", "dispatched", "archived"} == states.closed_states()
    assert states.review_states("result") == ["pending_review"]
    assert "mediating" in states.in_progress_states() and "escalation_review" in states.in_progress_states()
    assert "registered" not in states.in_progress_states()
    assert states.decided_state("dispatch", "approve") == "dispatched"
    assert states.decided_state("dispatch", "return") == "mediating"


def test_a_renamed_first_state_is_the_h5_registration_tab(mediator, make_case):
    rename_state("registered", "accepted", "已受理")
    make_case("湖滨社区", title="刚受理的纠纷", status="accepted")
    make_case("湖滨社区", title="调解中的纠纷", status="mediating")
    registered = html(mediator.get("/h5/?tab=registered"))
    assert "刚受理的纠纷" in registered and "调解中的纠纷" not in registered
    assert "刚受理的纠纷" not in html(mediator.get("/h5/?tab=mediating"))


def test_a_renamed_result_review_still_gives_the_average_handling_days(make_case):
    rename_state("pending_review", "result_review", "结果待复核")
    mediator = user("demo_mediator")
    case = make_case("湖滨社区", registrant=mediator, registered_at=timezone.now() - 4 * D)
    actions.do_transition(case, "开始调解", mediator)
    actions.submit_result(case, mediator, action="提交结果", outcome="success")
    review = Review.objects.get(case=case)
    assert review.state == "result_review"
    actions.do_transition(Case.objects.get(pk=case.pk), "审核通过", user("demo_street"))
    assert h5_queries.my_figures(mediator).avg_days == pytest.approx(4.0, abs=0.1)


def test_a_new_closed_state_counts_as_closed_everywhere(mediator, client_for, make_case):
    """撤案 (withdrawn) added as a closed state: a withdrawn case is listed as 已调解 on H5, is not
    overdue on the workbench or the phone, and is offered a return visit instead of a log on PC."""
    def add_withdrawn(wf):
        wf.states = wf.states + [{"name": "withdrawn", "closed": True}]
        wf.transitions = wf.transitions + [{"action": "撤案", "from": ["registered", "mediating"],
                                            "to": "withdrawn", "roles": []}]
    edit_workflow(add_withdrawn)
    long_ago = timezone.now() - 60 * D
    withdrawn = make_case("湖滨社区", title="当事人撤回的纠纷", status="withdrawn", registered_at=long_ago,
                          registrant=user("demo_mediator"))
    Case.objects.filter(pk=withdrawn.pk).update(deadline=long_ago + 15 * D)
    withdrawn.refresh_from_db()

    assert "withdrawn" in states.closed_states() and states.is_closed(withdrawn)
    assert "当事人撤回的纠纷" in html(mediator.get("/h5/?tab=mediated"))
    assert "当事人撤回的纠纷" not in html(mediator.get("/h5/?tab=mediating"))
    assert not states.is_overdue(withdrawn)
    assert not workbench.scoped_cases(user("demo_mediator")).filter(workbench.overdue_q()).exists()
    assert h5_queries.my_figures(user("demo_mediator")).closed == 1

    detail = html(client_for("demo_mediator").get(f"/admin/cases/case/{withdrawn.pk}/detail/"))
    assert "?form=visit" in detail and "?form=log" not in detail


def test_a_renamed_dispatched_state_is_still_where_dispatch_finds_and_returns_cases(make_case):
    """已发单 renamed to 待第三方调解: district staff still find the case to dispatch, and withdrawing
    the order sends it back to mediation (dispatch reads both states from the workflow)."""
    from dispatch import actions as dispatch_actions

    from .dispatch_helpers import dispatched_case, make_order

    rename_state("dispatched", "third_party", "待第三方调解")
    case = dispatched_case(make_case)
    Case.objects.filter(pk=case.pk).update(status="third_party")
    staff = user("demo_district")
    assert case.pk in set(dispatch_actions.dispatchable_cases(staff).values_list("pk", flat=True))
    order = make_order(Case.objects.get(pk=case.pk), staff)
    dispatch_actions.withdraw(order, staff, reason="当事人撤回申请")
    assert Case.objects.get(pk=case.pk).status == "mediating"
