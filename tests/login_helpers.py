"""Helpers of the login-security tests: log in through a login page, read a device's code."""
from __future__ import annotations

import time

from django.test import Client

from tests.conftest import DEMO_PASSWORD

LOGIN_PAGES = {"pc": "/admin/login/", "h5": "/h5/login/", "tp": "/tp/m/login/"}
HOMES = {"pc": "/admin/", "h5": "/h5/", "tp": "/tp/m/"}
USERS = {"pc": "demo_district", "h5": "demo_mediator", "tp": "demo_tp_mediator"}


def post_login(client: Client, end: str, username: str, password: str = DEMO_PASSWORD, **extra):
    return client.post(LOGIN_PAGES[end], {"username": username, "password": password}, **extra)


def logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def totp_code(device, later: int = 0) -> str:
    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + later * device.step
    return f"{totp.token():0{device.digits}d}"


def bind_device(user):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="动态口令", confirmed=True)
