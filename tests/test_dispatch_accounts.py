"""Third-party accounts (M-1.9): a district admin creates a third-party organisation, its admin
and mediator accounts with roles, closes and reopens them; an org admin adds only mediators of
its own organisation; nobody else manages them."""
from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import User
from cases.actions import ActionRefused
from dispatch import accounts as tp
from orgs.models import Organization, Region
from tests.dispatch_helpers import PASSWORD, user


def test_district_admin_creates_an_org_and_its_accounts_on_the_screen(client_for, world):
    c = client_for("demo_district")
    district = Region.objects.get(level=1, code="339901")
    resp = c.post(reverse("admin:dispatch_thirdpartyorg_add"), {"name": "公正调解事务所", "region": district.pk,
                                                               "contact": "钱经理"})
    org = Organization.objects.get(name="公正调解事务所")
    assert org.kind == "third" and resp.status_code == 302
    accounts_url = reverse("admin:dispatch_thirdpartyorg_accounts", args=[org.pk])
    c.post(accounts_url, {"op": "create", "username": "gz_admin", "display_name": "公正管理员",
                          "role": "tp_admin", "password": PASSWORD})
    admin_user = User.objects.get(username="gz_admin")
    assert admin_user.organization == org and admin_user.groups.filter(name="第三方组织管理员").exists()
    assert admin_user.check_password(PASSWORD)
    page = c.get(accounts_url).content.decode()
    assert "gz_admin" in page and "第三方组织管理员" in page
    # close the account, then the organisation (closes every account)
    c.post(accounts_url, {"op": "close", "account": admin_user.pk})
    assert not User.objects.get(pk=admin_user.pk).is_active
    c.post(accounts_url, {"op": "open", "account": admin_user.pk})
    c.post(accounts_url, {"op": "org_close"})
    assert not Organization.objects.get(pk=org.pk).is_active and not User.objects.get(pk=admin_user.pk).is_active
    resp = c.post(accounts_url, {"op": "open", "account": admin_user.pk}, follow=True)
    assert "所属组织已停用" in resp.content.decode()


def test_bad_account_input_is_refused_in_chinese(client_for, world):
    c = client_for("demo_district")
    org = Organization.objects.get(name="和合商事调解中心")
    url = reverse("admin:dispatch_thirdpartyorg_accounts", args=[org.pk])
    page = c.post(url, {"op": "create", "username": "demo_tp_admin", "display_name": "重名",
                        "role": "tp_mediator", "password": PASSWORD}, follow=True).content.decode()
    assert "已存在" in page
    page = c.post(url, {"op": "create", "username": "short_pw", "display_name": "弱密码",
                        "role": "tp_mediator", "password": "123"}, follow=True).content.decode()
    assert "密码不符合要求" in page and not User.objects.filter(username="short_pw").exists()
    page = c.post(url, {"op": "nonsense"}, follow=True).content.decode()
    assert "未知操作" in page
    dup = c.post(reverse("admin:dispatch_thirdpartyorg_add"), {"name": "和合商事调解中心",
                                                              "region": Region.objects.get(code="339901").pk})
    assert "已存在" in dup.content.decode()


def test_org_admin_adds_mediators_of_its_own_org_only(world):
    admin_user, org = user("demo_tp_admin"), Organization.objects.get(name="和合商事调解中心")
    m = tp.create_account(admin_user, org=org, username="hehe_new", display_name="新调解员",
                          role="tp_mediator", password=PASSWORD)
    assert m.organization == org
    with pytest.raises(ActionRefused, match="只能添加调解员"):
        tp.create_account(admin_user, org=org, username="hehe_boss", display_name="x", role="tp_admin",
                          password=PASSWORD)
    other = Organization.objects.get(name="平安律师调解工作室")
    with pytest.raises(ActionRefused, match="不能管理"):
        tp.create_account(admin_user, org=other, username="pa_new", display_name="x", role="tp_mediator",
                          password=PASSWORD)
    tp.set_account_active(admin_user, m, False)
    assert not User.objects.get(pk=m.pk).is_active
    with pytest.raises(ActionRefused):
        tp.set_account_active(user("demo_tp_mediator"), m, True)  # a mediator manages nobody


def test_only_district_admins_create_orgs(world):
    region = Region.objects.get(code="339901")
    for username in ("demo_street", "demo_mediator", "demo_tp_admin"):
        with pytest.raises(ActionRefused):
            tp.create_org(user(username), name="越权组织", region=region)
    assert not Organization.objects.filter(name="越权组织").exists()
