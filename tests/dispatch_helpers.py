"""Shared builders for the dispatch tests: a dispatched case, an order with a window around now,
a second third-party organisation with its own mediator."""
from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import Group
from django.utils import timezone

PASSWORD = "Tp@test-2026x"


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def tp_org(name="和合商事调解中心"):
    from orgs.models import Organization

    return Organization.objects.get(name=name)


def make_tp_user(username, org_name="平安律师调解工作室", role="tp_mediator"):
    from accounts.models import User

    u = User.objects.create_user(username, password=PASSWORD, display_name=f"{username}姓名",
                                 organization=tp_org(org_name), is_staff=True)
    u.groups.add(Group.objects.get(role__code=role))
    return User.objects.get(pk=u.pk)


def dispatched_case(make_case, region="湖滨社区", title="张三与李四欠薪纠纷", **fields):
    parties = [{"name": "张三", "id_number": "11010519491231002X", "phone": "13800138000"},
               {"name": "李四", "role": "respondent", "phone": "13911112222"}]
    return make_case(region, case_type="labor_wage", title=title,
                     description="申请人张三（身份证11010519491231002X，电话13800138000）称李四拖欠工资。",
                     parties=parties, status="dispatched", **fields)


def make_order(case, staff=None, *, start=None, end=None, fee="3000"):
    """An order whose window opened an hour ago and closes in an hour (override with start/end)."""
    from dispatch import actions

    now = timezone.now()
    staff = staff or user("demo_district")
    start = start or now - dt.timedelta(hours=1)
    end = end or now + dt.timedelta(hours=1)
    if end <= now:  # create_order refuses a past deadline: create open, then move the window back
        order = actions.create_order(case, staff, expected_fee=fee, mediation_deadline=(now + dt.timedelta(days=30)).date(),
                                     signup_start=now - dt.timedelta(hours=2), signup_end=now + dt.timedelta(hours=1),
                                     requirements="两周内完成调解")
        type(order).objects.filter(pk=order.pk).update(signup_start=start, signup_end=end)
        order.refresh_from_db()
        return order
    return actions.create_order(case, staff, expected_fee=fee, mediation_deadline=(now + dt.timedelta(days=30)).date(),
                                signup_start=start, signup_end=end, requirements="两周内完成调解")


def close_window(order):
    """Move the deadline into the past (as time passing would)."""
    now = timezone.now()
    type(order).objects.filter(pk=order.pk).update(signup_start=now - dt.timedelta(hours=3),
                                                   signup_end=now - dt.timedelta(seconds=1))
    order.refresh_from_db()
    return order


def awarded_order_rows(case, org, mediator):
    """An order on ``case`` awarded to ``org`` with a voucher and the guardian grant, written
    directly (for fixtures whose cases lie outside every demo staff's region, e.g. 邻区)."""
    from dispatch import grants, voucher
    from dispatch.masking import masked_case_text
    from dispatch.models import Bid, DispatchOrder, Voucher

    now = timezone.now()
    title, description = masked_case_text(case)
    order = DispatchOrder.objects.create(
        case=case, region_id=case.region_id, region_path=case.region_path, case_type=case.case_type, title=title,
        description=description, expected_fee="1000", mediation_deadline=(now + dt.timedelta(days=30)).date(),
        signup_start=now - dt.timedelta(days=3), signup_end=now - dt.timedelta(days=1))
    bid = Bid.objects.create(order=order, organization=org, mediator=mediator, plan="矩阵报名", status="won")
    DispatchOrder.objects.filter(pk=order.pk).update(state="awarded", awarded_bid=bid, awarded_org=org, awarded_at=now)
    order.refresh_from_db()
    grants.grant_case(org, case)
    v = Voucher(order=order, bid=bid, organization=org, mediator=mediator, issued_at=now, digest="")
    v.save()
    v.digest = voucher.digest(v)
    v.save(update_fields=["digest"])
    return order, bid, v
