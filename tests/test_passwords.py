"""Finding 6 (password policy) and the SM3 password hasher; the user mobile of finding 5.

Checklist 身份鉴别 a): length ≥ 8 and 3 of 4 classes, new ≠ old (last 5), changed periodically
(90 days) and at first login / after a reset. 密评 e): credentials stored with SM algorithms
(PBKDF2-HMAC-SM3); personal data (the user's mobile) SM4-encrypted at rest."""
from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from tests.conftest import DEMO_PASSWORD
from tests.login_helpers import HOMES, USERS, post_login


def user(username):
    from accounts.models import User

    return User.objects.get(username=username)


def change(client, old, new, next_url="/admin/"):
    return client.post("/accounts/password/", {"old_password": old, "new_password1": new,
                                               "new_password2": new, "next": next_url})


@pytest.mark.parametrize("password", ["xkwplmqzrtvb", "XKWPLMQZRTVB", "xkwplmqz7788", "xkwp-lmqz-rtvb"])
def test_passwords_with_fewer_than_three_classes_are_refused(db, password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password)
    assert "至少 3 类" in " ".join(refused.value.messages)


def test_short_passwords_are_refused_and_three_classes_pass(db):
    with pytest.raises(ValidationError):
        validate_password("Ab1-x")
    validate_password("Xkwp-lmqz-rtvb")
    validate_password("Xkwplmqz7788")


def test_the_change_page_refuses_the_current_password_and_a_one_class_one(world, client_for):
    client = client_for("demo_district")
    same = change(client, DEMO_PASSWORD, DEMO_PASSWORD)
    assert same.status_code == 200 and "新密码不能与当前密码相同" in same.content.decode()
    weak = change(client, DEMO_PASSWORD, "xkwplmqzrtvb")
    assert weak.status_code == 200 and "至少 3 类" in weak.content.decode()
    assert user("demo_district").check_password(DEMO_PASSWORD)


def test_none_of_the_last_five_passwords_comes_back(world, client_for):
    client = client_for("demo_district")
    passwords = [DEMO_PASSWORD] + [f"Mdtj@rotate-{i}x" for i in range(1, 7)]
    for old, new in zip(passwords, passwords[1:6]):
        assert change(client, old, new).status_code == 302, new
    current = passwords[5]
    for earlier in passwords[2:5]:  # the last five are passwords[1..5]; [5] is the current one
        reused = change(client, current, earlier)
        assert reused.status_code == 200 and "最近 5 次" in reused.content.decode(), earlier
    assert change(client, current, passwords[6]).status_code == 302


def test_a_change_is_audited_and_restarts_the_password_age(world, client_for):
    from secure.models import SecurityEvent

    client = client_for("demo_street")
    before = timezone.now()
    assert change(client, DEMO_PASSWORD, "Mdtj@street-2027").status_code == 302
    u = user("demo_street")
    assert u.password_changed_at >= before and u.check_password("Mdtj@street-2027")
    assert SecurityEvent.objects.get(event="password_change").user == u
    assert client.get("/admin/").status_code == 200  # the session survives its own change


@pytest.mark.parametrize("end", ["pc", "h5", "tp"])
def test_an_expired_password_must_be_changed_first_on_every_end(world, end):
    from accounts.models import User

    User.objects.filter(username=USERS[end]).update(password_changed_at=timezone.now() - dt.timedelta(days=91))
    client = Client()
    assert post_login(client, end, USERS[end]).status_code == 302
    if end == "pc":  # the second factor comes first on the PC end
        from tests.login_helpers import bind_device, totp_code
        device = bind_device(user(USERS[end]))
        client.post("/accounts/otp/", {"token": totp_code(device), "next": HOMES[end]})
    response = client.get(HOMES[end])
    assert response.status_code == 302 and response["Location"].startswith("/accounts/password/")
    page = client.get(response["Location"]).content.decode()
    assert "已超过 90 天未修改" in page
    assert change(client, DEMO_PASSWORD, "Mdtj@renewed-2027", HOMES[end])["Location"] == HOMES[end]
    assert client.get(HOMES[end]).status_code == 200


def test_a_password_of_89_days_is_still_fine(world, client_for):
    from accounts.models import User

    User.objects.filter(username="demo_mediator").update(password_changed_at=timezone.now() - dt.timedelta(days=89))
    assert client_for("demo_mediator").get("/h5/").status_code == 200


@pytest.mark.parametrize("end", ["pc", "h5", "tp"])
def test_first_login_or_after_a_reset_the_password_must_be_changed(world, client_for, end):
    from accounts.models import User

    User.objects.filter(username=USERS[end]).update(must_change_password=True)
    client = client_for(USERS[end])
    response = client.get(HOMES[end])
    assert response["Location"].startswith("/accounts/password/")
    assert "首次登录或密码已被管理员重置" in client.get(response["Location"]).content.decode()
    assert change(client, DEMO_PASSWORD, "Mdtj@first-2027", HOMES[end]).status_code == 302
    assert not user(USERS[end]).must_change_password
    assert client.get(HOMES[end]).status_code == 200


# --- PBKDF2-HMAC-SM3 --------------------------------------------------------------------------
def pbkdf2_hmac_sm3_reference(password: bytes, salt: bytes, rounds: int, length: int = 32) -> bytes:
    """RFC 8018 PBKDF2 written out over HMAC-SM3, independent of the hasher's KDF call."""
    from cryptography.hazmat.primitives import hashes, hmac

    def prf(data):
        h = hmac.HMAC(password, hashes.SM3())
        h.update(data)
        return h.finalize()

    out, block = b"", 1
    while len(out) < length:
        u = prf(salt + block.to_bytes(4, "big"))
        t = bytearray(u)
        for _ in range(rounds - 1):
            u = prf(u)
            t = bytearray(a ^ b for a, b in zip(t, u))
        out += bytes(t)
        block += 1
    return out[:length]


def test_the_sm3_hasher_matches_pbkdf2_over_hmac_sm3():
    from secure.hashers import PBKDF2SM3PasswordHasher

    hasher = PBKDF2SM3PasswordHasher()
    encoded = hasher.encode("Mdtj@test-2026", "c2FsdHNhbHQ", iterations=1000)
    algorithm, rounds, salt, digest = encoded.split("$")
    assert algorithm == "pbkdf2_sm3" and rounds == "1000" and salt == "c2FsdHNhbHQ"
    assert base64.b64decode(digest) == pbkdf2_hmac_sm3_reference(b"Mdtj@test-2026", b"c2FsdHNhbHQ", 1000)
    assert hasher.verify("Mdtj@test-2026", encoded) and not hasher.verify("Mdtj@test-2027", encoded)
    assert hasher.iterations >= 600_000


def test_the_sm3_hasher_is_the_production_default():
    assert settings.PRODUCTION_PASSWORD_HASHERS[0] == "secure.hashers.PBKDF2SM3PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in settings.PRODUCTION_PASSWORD_HASHERS
    assert settings.DPV_DEFAULT_HISTORY_HASHER.startswith("secure.hashers.")  # history: SM3 too


def test_an_old_sha256_hash_is_rewritten_with_sm3_at_the_next_login(world, settings, monkeypatch):
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from secure.hashers import PBKDF2SM3PasswordHasher

    monkeypatch.setattr(PBKDF2SM3PasswordHasher, "iterations", 1000)  # speed only
    settings.PASSWORD_HASHERS = settings.PRODUCTION_PASSWORD_HASHERS
    old = make_password(DEMO_PASSWORD, hasher="pbkdf2_sha256")
    User.objects.filter(username="demo_mediator").update(password=old)
    assert post_login(Client(), "h5", "demo_mediator").status_code == 302
    stored = user("demo_mediator").password
    assert stored.startswith("pbkdf2_sm3$1000$") and user("demo_mediator").check_password(DEMO_PASSWORD)


# --- finding 5 (part): the user's mobile -------------------------------------------------------
def test_user_mobiles_are_sm4_encrypted_at_rest_and_shown_masked(world):
    from accounts.models import User
    from secure import crypto

    u = user("demo_tp_mediator")
    u.mobile = "13912345678"
    u.save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT mobile, mobile_bidx FROM accounts_user WHERE id = %s", [u.pk])
        raw, bidx = cursor.fetchone()
    assert "13912345678" not in raw and raw.startswith(crypto.PREFIX)
    assert User.objects.get(mobile_bidx=crypto.blind_index("139-1234-5678", "phone")) == u
    assert user("demo_tp_mediator").mobile == "13912345678"
    assert u.mobile_masked == "139****5678"


def test_the_admin_change_password_link_leads_to_the_checked_page(world, client_for):
    response = client_for("demo_district").get("/admin/password_change/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/password/")
