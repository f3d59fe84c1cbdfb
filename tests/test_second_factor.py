"""Finding 2, second half: no second factor for any role.

Checklist 身份鉴别 d): two or more combined factors, one of them cryptographic, mandatory for
administrators and internal users. PC internal roles need a TOTP code after the password (policy
per role, set by the security admin); the enrolment QR code is drawn on the server."""
from __future__ import annotations

import re

import pytest
from django.test import Client

from tests.conftest import DEMO_PASSWORD
from tests.login_helpers import bind_device, post_login, totp_code


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def events(name):
    from secure.models import SecurityEvent

    return SecurityEvent.objects.filter(event=name)


def set_policy(**fields):
    from accounts import policy
    from accounts.models import SecurityPolicy

    SecurityPolicy.objects.update_or_create(pk=1, defaults=fields)
    policy.clear_cache()


def test_a_password_alone_does_not_open_the_pc_end_for_an_internal_role(world):
    client = Client()
    assert post_login(client, "pc", "demo_district").status_code == 302
    response = client.get("/admin/cases/case/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/setup/")
    for url in ("/admin/", "/cases/", "/tp/"):
        assert client.get(url).status_code == 302, url


def test_enrolment_shows_a_local_qr_code_and_one_code_binds_the_device(world):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    post_login(client, "pc", "demo_district")
    page = client.get("/accounts/otp/setup/?next=/admin/cases/case/")
    text = page.content.decode()
    assert page.status_code == 200 and "<svg" in text and "绑定动态口令" in text
    assert not re.search(r'(src|href)="https?://', text)  # no CDN, no QR service
    device = TOTPDevice.objects.get(user=user("demo_district"))
    assert not device.confirmed
    wrong = client.post("/accounts/otp/setup/", {"token": "000000", "next": "/admin/cases/case/"})
    assert "动态口令不正确" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp's back-off after a failure: wait it out
    device.save()
    done = client.post("/accounts/otp/setup/", {"token": totp_code(device), "next": "/admin/cases/case/"})
    assert done.status_code == 302 and done["Location"] == "/admin/cases/case/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/admin/cases/case/").status_code == 200
    assert events("otp_enrolled").get().user.username == "demo_district"


def test_a_bound_user_enters_the_code_after_the_password_each_login(world):
    device = bind_device(user("demo_street"))
    client = Client()
    post_login(client, "pc", "demo_street")
    response = client.get("/admin/")
    assert response["Location"].startswith("/accounts/otp/?")
    wrong = client.post("/accounts/otp/", {"token": "123456", "next": "/admin/"})
    assert "动态口令错误" in wrong.content.decode()
    assert client.get("/admin/").status_code == 302
    failed = events("otp_failed").get()
    assert failed.outcome == "failure" and failed.user.username == "demo_street"
    device.refresh_from_db()
    device.throttling_failure_count = 0  # django-otp's back-off after a failure: wait it out
    device.save()
    ok = client.post("/accounts/otp/", {"token": totp_code(device), "next": "/admin/"})
    assert ok.status_code == 302 and ok["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert events("otp_verified").filter(user__username="demo_street").exists()


def test_a_code_is_accepted_only_once(world):
    device = bind_device(user("demo_street"))
    first, second = Client(), Client()
    for c in (first, second):
        post_login(c, "pc", "demo_street")
    code = totp_code(device)
    assert first.post("/accounts/otp/", {"token": code, "next": "/admin/"}).status_code == 302
    replay = second.post("/accounts/otp/", {"token": code, "next": "/admin/"})
    assert replay.status_code == 200 and second.get("/admin/").status_code == 302


def test_repeated_wrong_codes_are_throttled(world):
    device = bind_device(user("demo_street"))
    client = Client()
    post_login(client, "pc", "demo_street")
    client.post("/accounts/otp/", {"token": "111111", "next": "/admin/"})
    client.post("/accounts/otp/", {"token": "222222", "next": "/admin/"})
    blocked = client.post("/accounts/otp/", {"token": totp_code(device), "next": "/admin/"})
    assert "错误次数过多" in blocked.content.decode()
    assert client.get("/admin/").status_code == 302


def test_the_policy_decides_which_roles_need_the_second_factor(world):
    set_policy(otp_roles=["district_admin"])
    street = Client()
    post_login(street, "pc", "demo_street")
    assert street.get("/admin/").status_code == 200  # 街道管理员 not in the policy
    district = Client()
    post_login(district, "pc", "demo_district")
    assert district.get("/admin/").status_code == 302


def test_superusers_always_need_it_even_when_the_policy_lists_no_role(world):
    from accounts.models import User

    set_policy(otp_roles=[])
    User.objects.create_superuser("root_test", password=DEMO_PASSWORD)
    client = Client()
    post_login(client, "pc", "root_test")
    assert client.get("/admin/")["Location"].startswith("/accounts/otp/setup/")


def test_phone_ends_follow_the_mobile_switch_of_the_policy(world):
    client = Client()
    post_login(client, "h5", "demo_mediator")
    assert client.get("/h5/").status_code == 200  # default: H5 without the second factor
    set_policy(otp_on_mobile=True)
    response = client.get("/h5/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/otp/setup/?next=%2Fh5%2F")
    # the PC end of the same user (社区调解员 is an internal role) always asks
    set_policy(otp_on_mobile=False)
    assert client.get("/admin/").status_code == 302


def test_external_third_party_users_are_not_asked_by_default(world):
    client = Client()
    post_login(client, "pc", "demo_tp_admin")
    assert client.get("/tp/").status_code == 200


def test_the_security_admin_edits_the_policy_and_the_change_is_audited(world, client_for):
    from django.contrib.auth.models import Group, Permission

    from accounts.models import SecurityPolicy, User

    group = Group.objects.create(name="测试安全管理员")
    group.permissions.set(Permission.objects.filter(
        content_type__app_label="accounts", codename__in=["view_securitypolicy", "change_securitypolicy"]))
    sec = User.objects.create_user("sec_test", password=DEMO_PASSWORD, is_staff=True)
    sec.groups.add(group)
    admin = client_for("sec_test")
    assert admin.get("/admin/accounts/securitypolicy/")["Location"] == "/admin/accounts/securitypolicy/1/change/"
    form = admin.get("/admin/accounts/securitypolicy/1/change/").content.decode()
    assert "须第二因素的角色" in form and "区级管理员" in form
    response = admin.post("/admin/accounts/securitypolicy/1/change/", {
        "otp_roles": ["district_admin", "street_admin"], "lockout_failure_limit": 5, "lockout_cooloff_minutes": 30,
        "password_expiry_days": 90, "idle_timeout_minutes": 12})
    assert response.status_code == 302
    policy = SecurityPolicy.objects.get()
    assert policy.otp_roles == ["district_admin", "street_admin"] and policy.idle_timeout_minutes == 12
    change = events("policy_change").get()
    assert change.user == sec and change.detail["changed"]["idle_timeout_minutes"] == 12
    bad = admin.post("/admin/accounts/securitypolicy/1/change/", {
        "otp_roles": [], "lockout_failure_limit": 5, "lockout_cooloff_minutes": 30,
        "password_expiry_days": 90, "idle_timeout_minutes": 60})
    assert bad.status_code == 200 and "30" in bad.content.decode()
    assert SecurityPolicy.objects.get().idle_timeout_minutes == 12
    assert client_for("demo_district").get("/admin/accounts/securitypolicy/1/change/").status_code == 403


def test_the_security_admin_resets_a_lost_device(world, client_for):
    from django.contrib.auth.models import Group, Permission
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User

    device = bind_device(user("demo_street"))
    group = Group.objects.create(name="测试安全管理员")
    group.permissions.set(Permission.objects.filter(
        content_type__app_label="otp_totp", codename__in=["view_totpdevice", "delete_totpdevice"]))
    sec = User.objects.create_user("sec_test", password=DEMO_PASSWORD, is_staff=True)
    sec.groups.add(group)
    admin = client_for("sec_test")
    listing = admin.get("/admin/accounts/secondfactordevice/").content.decode()
    assert "第二因素" in listing and "东湖街道管理员" in listing
    admin.post("/admin/accounts/secondfactordevice/", {"action": "reset", "_selected_action": [device.pk]})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert events("otp_reset").get().detail["target"] == "demo_street"
    client = Client()
    post_login(client, "pc", "demo_street")
    assert client.get("/admin/")["Location"].startswith("/accounts/otp/setup/")
