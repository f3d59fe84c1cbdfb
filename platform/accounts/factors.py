"""Second factors behind one small interface, so another factor (an SM2 UKey with
challenge–response through a 签名验签服务器, the 政钉 app's push confirmation) plugs in as one more
``Factor`` without touching the login gate or the views.

A factor's devices are django-otp ``Device`` rows (django-otp is the framework: the session
records which device verified it, ``request.user.is_verified()`` reads that). A new factor =
a django-otp Device model (``generate_challenge()`` / ``verify_token()``) + a ``Factor`` subclass
registered in ``FACTORS`` naming its enrolment step. See docs/security/login.md."""
from __future__ import annotations

import base64

from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice


class Factor:
    code = ""
    label = ""
    device_model = None

    def confirmed_devices(self, user) -> list:
        return list(self.device_model.objects.filter(user=user, confirmed=True))

    def challenge(self, device) -> str:
        """Text shown before the user answers (a UKey would return the nonce to sign)."""
        return ""

    def verify(self, device, token: str) -> bool:
        return bool(device.verify_token(token))

    def blocked(self, device) -> str:
        """A Chinese message when the device refuses attempts for now (throttling), else ''."""
        allowed, data = device.verify_is_allowed()
        if allowed:
            return ""
        until = (data or {}).get("locked_until")
        return "动态口令错误次数过多，请稍后再试。" if until is None else \
            f"动态口令错误次数过多，请在 {until.astimezone().strftime('%H:%M:%S')} 之后再试。"


class TotpFactor(Factor):
    """RFC 6238 time-based one-time passwords (an authenticator app on the user's phone)."""

    code = "totp"
    label = "动态口令（手机验证器 App）"
    device_model = TOTPDevice

    def new_device(self, user) -> TOTPDevice:
        """The user's pending (unconfirmed) device, created once, so reloading the enrolment
        page shows the same key until it is confirmed."""
        device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
        return device or TOTPDevice.objects.create(user=user, name="动态口令", confirmed=False)

    def demo_device(self, user) -> tuple[TOTPDevice, str]:
        """For the local demo only (seed_demo): the user's confirmed device, created with a random
        key when missing, and that key in base32 to print — typed into any authenticator app
        (or ``oathtool --totp -b KEY``), it yields the codes the login asks for."""
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="演示动态口令", confirmed=True)
        return device, self.secret_b32(device)

    @staticmethod
    def secret_b32(device: TOTPDevice) -> str:
        return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")

    @staticmethod
    def qr_svg(device: TOTPDevice) -> str:
        """The otpauth:// URL as an inline SVG QR code, drawn on the server (no CDN, no JS)."""
        import segno

        return segno.make(device.config_url, error="m").svg_inline(scale=4, title="动态口令绑定二维码")


FACTORS: list[Factor] = [TotpFactor()]
TOTP = FACTORS[0]


def has_confirmed_device(user) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def first_confirmed_device(user):
    for factor in FACTORS:
        devices = factor.confirmed_devices(user)
        if devices:
            return factor, devices[0]
    return None, None
