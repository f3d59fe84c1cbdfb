"""The demo seed shows every order state and can be run again without creating anything twice."""
from __future__ import annotations

from dispatch.models import DispatchOrder, Evaluation, Voucher
from tests.conftest import DEMO_PASSWORD


def test_demo_orders_cover_every_state_and_the_seed_is_idempotent(world):
    from demo import seeding
    from demo.dispatch_seed import seed_dispatch

    seeding.seed_cases(60)
    assert seed_dispatch(DEMO_PASSWORD) == 8
    phases = sorted(o.phase_label for o in DispatchOrder.objects.all())
    assert phases == sorted(["未开始", "报名中", "报名中", "已截止", "已选定", "调解中", "已完成", "已撤回"])
    assert Voucher.objects.count() == 3 and Evaluation.objects.count() == 1
    assert seed_dispatch(DEMO_PASSWORD) == 0
    assert DispatchOrder.objects.count() == 8
    # the demo third-party mediator sees its organisation's two awarded cases and nothing else
    from accounts.models import User
    from accounts.scope import scope_queryset
    from cases.models import Case

    tp = User.objects.get(username="demo_tp_mediator")
    assert scope_queryset(tp, Case.objects.all()).count() == 2
