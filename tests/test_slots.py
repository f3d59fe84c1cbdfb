"""UI slots (lowcode.slots): a domain screen shows what an extension puts into a declared slot, in
order, once however often it is registered; an undeclared slot name is refused."""
from __future__ import annotations

import types

import pytest
from django.contrib import admin
from django.utils.html import format_html

from lowcode import slots


@pytest.fixture(autouse=True)
def restore_slots():
    """Whatever a test declares or fills is gone afterwards; the apps' own fillers stay."""
    saved = {name: (slot.doc, dict(slot.fillers)) for name, slot in slots._slots.items()}
    yield
    slots._slots.clear()
    for name, (doc, fillers) in saved.items():
        slots.declare(name, doc)
        slots._slots[name].fillers.update(fillers)


def card(request=None):
    return "卡片"


def reloaded(fn):
    """A new function object with the same module and name, as ``importlib.reload`` makes."""
    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__)


# --- the registry -------------------------------------------------------------------------------
def test_fillers_come_out_by_order_then_in_the_order_they_were_added():
    slots.declare("tests.cards", "callable () -> text")
    first, second, early = (lambda: "a"), (lambda: "b"), (lambda: "c")
    slots.add("tests.cards", "late", order=300)
    slots.add("tests.cards", first)
    slots.add("tests.cards", second)
    slots.add("tests.cards", early, order=5)
    assert slots.items("tests.cards") == [early, first, second, "late"]


def test_registering_again_keeps_one_filler_and_a_reloaded_function_replaces_its_old_copy():
    slots.declare("tests.cards", "callable () -> text")
    new_copy = reloaded(card)
    assert new_copy is not card and new_copy.__qualname__ == card.__qualname__
    slots.add("tests.cards", card, order=10)
    slots.add("tests.cards", card, order=10)
    slots.add("tests.cards", new_copy, order=10)
    slots.add("tests.cards", "warning")
    slots.add("tests.cards", "warning")
    assert slots.items("tests.cards") == [new_copy, "warning"]


def test_registering_the_apps_again_does_not_double_a_panel():
    from extensions.dedup import panels

    before = slots.items("cases.detail_panels")
    panels.register()
    panels.register()
    slots.declare("cases.detail_panels", slots.declared()["cases.detail_panels"])  # a second ready()
    assert slots.items("cases.detail_panels") == before


def test_an_undeclared_slot_is_refused_with_the_declared_names():
    with pytest.raises(slots.UnknownSlot) as refused:
        slots.add("cases.workbench_panel", card)  # singular: a typo
    message = str(refused.value)
    assert "'cases.workbench_panel' is not declared" in message and "cases.workbench_panels" in message
    with pytest.raises(slots.UnknownSlot):
        slots.items("nowhere.panels")


def test_the_apps_fill_the_case_screens_in_the_documented_order():
    from cases import referrals
    from extensions.dedup import panels as dedup_panels
    from extensions.escalation import caselist, panels, workbench
    from library import panels as library_panels

    assert slots.items("cases.workbench_panels") == [referrals.workbench_panel, workbench.panel]
    assert slots.items("cases.detail_panels") == [dedup_panels.case_panel, panels.case_blocks,
                                                  library_panels.case_panels]
    assert slots.items("clues.detail_panels") == [dedup_panels.clue_panel]
    assert slots.items("cases.list_columns") == [caselist.warning_column]
    assert slots.items("cases.list_filters") == [caselist.CaseWarningFilter]
    assert slots.items("cases.list_select_related") == ["warning"]


# --- on the screens -----------------------------------------------------------------------------
def test_a_workbench_card_filled_in_a_test_appears_on_the_workbench(world, client_for):
    def test_card(request):
        return format_html('<section class="card">测试卡片：{}</section>', request.user.username)

    c = client_for("demo_mediator")
    assert "测试卡片" not in c.get("/admin/").content.decode()
    slots.add("cases.workbench_panels", test_card)
    page = c.get("/admin/").content.decode()
    assert "测试卡片：demo_mediator" in page
    assert page.index("测试卡片") > page.index('id="workbench-warnings"')  # after the 升级预警 card (order 20)


def test_a_detail_panel_and_a_list_column_filled_in_a_test_appear_on_the_case_screens(
        make_case, client_for, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # evaluated as a save is: 升级预警 has a row
        case = make_case(title="扩展位测试案件")

    def panel(request, obj):
        return [("测试区块", ["案件编号"], [[obj.exchange_id]])]

    @admin.display(description="测试列")
    def column(obj):
        return f"列值{obj.pk}"

    slots.add("cases.detail_panels", panel, order=5)
    slots.add("cases.list_columns", column)
    c = client_for("demo_mediator")
    detail = c.get(f"/admin/cases/case/{case.pk}/detail/").content.decode()
    assert "测试区块" in detail and case.exchange_id in detail
    assert detail.index("测试区块") < detail.index('<h3 class="card-title">升级预警</h3>')  # order 5: first
    listing = c.get("/admin/cases/case/").content.decode()
    assert "测试列" in listing and f"列值{case.pk}" in listing

    slots.remove("cases.detail_panels", panel)
    assert "测试区块" not in c.get(f"/admin/cases/case/{case.pk}/detail/").content.decode()
