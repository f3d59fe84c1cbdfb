"""Finding 2 (login-failure handling) and finding 7 (idle timeout).

Checklist 身份鉴别 b): lock or log out after repeated failures, the error text does not reveal
whether the username exists, idle timeout 10–15 minutes. django-axes on every login entry, per
username and per source IP; the security admin unlocks; every step is in the audit log."""
from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import DEMO_PASSWORD
from tests.login_helpers import LOGIN_PAGES, USERS, logged_in, post_login


def events(name: str):
    from secure.models import SecurityEvent

    return SecurityEvent.objects.filter(event=name)


@pytest.mark.parametrize("end", ["pc", "h5", "tp"])
def test_ten_wrong_passwords_then_the_right_one_is_refused_on_every_login_page(world, end):
    client = Client()
    for _ in range(10):
        response = post_login(client, end, USERS[end], "wrong-Password-1")
        assert response.status_code in (200, 429)
    response = post_login(client, end, USERS[end])
    assert response.status_code == 429
    text = response.content.decode()
    assert "登录已锁定" in text and "联系安全管理员解锁" in text
    assert not logged_in(client)
    assert events("lockout").filter(username=USERS[end]).exists()


def test_lockout_comes_at_the_policy_limit_and_a_success_before_it_resets_the_count(world):
    client = Client()
    for _ in range(4):
        assert post_login(client, "pc", "demo_street", "wrong-Password-1").status_code == 200
    assert post_login(client, "pc", "demo_street").status_code == 302  # 4 < 5: still allowed
    assert logged_in(client)
    other = Client()
    for _ in range(4):  # the success reset the count: four new failures do not lock
        post_login(other, "pc", "demo_street", "wrong-Password-1")
    assert post_login(other, "pc", "demo_street").status_code == 302


def test_one_source_address_trying_many_usernames_is_locked_out_too(world):
    attacker = Client(REMOTE_ADDR="10.9.8.7")
    for i in range(5):
        post_login(attacker, "h5", f"guess{i}", "Wrong-pass-1")
    refused = post_login(attacker, "h5", "demo_mediator")
    assert refused.status_code == 429 and not logged_in(attacker)
    colleague = Client(REMOTE_ADDR="10.9.8.8")  # another address, same user: not affected
    assert post_login(colleague, "h5", "demo_mediator").status_code == 302 and logged_in(colleague)


def test_unknown_user_and_wrong_password_get_the_same_message(world):
    from accounts.models import User

    User.objects.filter(username="demo_dept").update(is_active=False)
    for end, username in [("pc", "no_such_user"), ("pc", "demo_district"), ("pc", "demo_dept"),
                          ("h5", "no_such_user"), ("h5", "demo_mediator"), ("tp", "no_such_user")]:
        response = post_login(Client(REMOTE_ADDR=f"10.0.0.{len(username)}"), end, username, "Wrong-pass-1")
        text = response.content.decode()
        assert response.status_code == 200 and "用户名或密码错误" in text, (end, username)
        assert "未激活" not in text and "不存在" not in text


def test_lockout_ends_after_the_cool_off(world):
    from axes.models import AccessAttempt

    client = Client()
    for _ in range(5):
        post_login(client, "pc", "demo_street", "wrong-Password-1")
    assert post_login(client, "pc", "demo_street").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    assert post_login(client, "pc", "demo_street").status_code == 302 and logged_in(client)


def test_limits_come_from_the_security_policy(world):
    from accounts import policy
    from accounts.models import SecurityPolicy

    SecurityPolicy.objects.create(lockout_failure_limit=3, lockout_cooloff_minutes=5)
    policy.clear_cache()
    client = Client()
    for _ in range(3):
        post_login(client, "h5", "demo_mediator", "wrong-Password-1")
    locked = post_login(client, "h5", "demo_mediator")
    assert locked.status_code == 429 and "连续 3 次" in locked.content.decode() and "5 分钟" in locked.content.decode()


@pytest.fixture
def security_admin(world):
    """A user holding the security admin's rights over lockouts and the policy."""
    from django.contrib.auth.models import Group, Permission

    from accounts.models import User

    group, _ = Group.objects.get_or_create(name="测试安全管理员")
    group.permissions.set(Permission.objects.filter(
        content_type__app_label__in=["axes", "accounts", "otp_totp"],
        codename__in=["view_accessattempt", "delete_accessattempt", "view_securitypolicy",
                      "change_securitypolicy", "view_totpdevice", "delete_totpdevice"]))
    user = User.objects.create_user("sec_test", password=DEMO_PASSWORD, is_staff=True)
    user.groups.add(group)
    return user


def test_the_security_admin_unlocks_a_locked_account_and_it_is_audited(world, security_admin, client_for):
    from axes.models import AccessAttempt

    victim = Client()
    for _ in range(5):
        post_login(victim, "pc", "demo_street", "wrong-Password-1")
    assert post_login(victim, "pc", "demo_street").status_code == 429

    admin = client_for("sec_test")
    listing = admin.get("/admin/accounts/loginlock/")
    assert listing.status_code == 200
    page = listing.content.decode()
    assert "登录锁定" in page and "demo_street" in page and "已锁定" in page
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]
    done = admin.post("/admin/accounts/loginlock/", {"action": "unlock", "_selected_action": ids}, follow=True)
    assert "已解锁" in done.content.decode()
    assert post_login(victim, "pc", "demo_street").status_code == 302 and logged_in(victim)
    unlock = events("unlock").get()
    assert unlock.user.username == unlock.username == "sec_test"  # the subject is who unlocked
    assert unlock.detail["unlocked_username"] == "demo_street"


def test_without_the_unlock_right_there_is_no_lockout_screen(world, client_for):
    assert client_for("demo_district").get("/admin/accounts/loginlock/").status_code == 403


def test_logins_failures_and_logouts_are_in_the_audit_log(world):
    client = Client(REMOTE_ADDR="10.1.2.3")
    post_login(client, "h5", "nobody_here", "Wrong-pass-1")
    failed = events("login_failed").get()
    assert failed.outcome == "failure" and failed.username == "nobody_here" and failed.ip == "10.1.2.3"
    assert "Wrong-pass-1" not in str(failed.detail)
    from axes.models import AccessAttempt
    assert "Wrong-pass-1" not in AccessAttempt.objects.get(username="nobody_here").post_data
    post_login(client, "h5", "demo_mediator")
    login = events("login").get()
    assert login.user.username == "demo_mediator" and login.ip == "10.1.2.3" and login.outcome == "success"
    client.post("/h5/logout/")
    assert events("logout").get().user.username == "demo_mediator"


# --- finding 7: idle timeout -------------------------------------------------------------------
def test_an_idle_session_ends_after_15_minutes_by_default(world):
    from django.contrib.sessions.models import Session

    client = Client()
    assert post_login(client, "h5", "demo_mediator").status_code == 302
    client.get("/h5/")
    assert client.session.get_expiry_age() == 15 * 60
    cookie = client.cookies["sessionid"]
    assert int(cookie["max-age"]) == 15 * 60
    session = Session.objects.get(session_key=cookie.value)
    assert session.expire_date <= timezone.now() + dt.timedelta(minutes=15, seconds=5)
    # 16 minutes without a request: the next page is the login page
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - dt.timedelta(minutes=1))
    assert client.get("/h5/")["Location"].startswith("/h5/login/")


def test_the_idle_timeout_is_the_security_admins_setting(world):
    from accounts import policy
    from accounts.models import SecurityPolicy

    SecurityPolicy.objects.create(idle_timeout_minutes=10)
    policy.clear_cache()
    client = Client()
    post_login(client, "h5", "demo_mediator")
    client.get("/h5/")
    assert client.session.get_expiry_age() == 10 * 60


def test_pc_pages_carry_the_idle_warning_script(world, client_for):
    page = client_for("demo_district").get("/admin/").content.decode()
    assert 'src="/static/mdtj/idle-timeout.js"' in page and 'data-idle-seconds="900"' in page
    assert 'data-keepalive-url="/accounts/keepalive/"' in page
    script = (__import__("pathlib").Path(__file__).parents[1] / "platform/static/mdtj/idle-timeout.js").read_text()
    assert "自动退出登录" in script and "继续使用" in script


def test_keep_alive_needs_a_session(world, client_for):
    assert Client().get("/accounts/keepalive/").status_code == 302
    assert client_for("demo_district").get("/accounts/keepalive/").json() == {"idle_seconds": 900}
