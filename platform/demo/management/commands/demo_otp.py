"""The current TOTP code of a demo account's device, for trying the PC end without an
authenticator app. Local demo only: refused unless DEBUG is on."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "显示演示账号当前的动态口令（仅 DEBUG 演示环境）"

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("仅用于本机演示（DEBUG=1）；生产环境请使用验证器 App")
        from django_otp.oath import TOTP as Totp
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = (TOTPDevice.objects.filter(user__username=options["username"], confirmed=True)
                  .order_by("pk").first())
        if device is None:
            raise CommandError(f"账号 {options['username']} 没有已绑定的动态口令设备")
        totp = Totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        self.stdout.write(f"{totp.token():0{device.digits}d}")
