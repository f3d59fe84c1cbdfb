import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts import roles
from demo import seeding
from demo.analysis_seed import seed_analysis
from demo.assessment_seed import seed_assessment
from demo.channels_seed import seed_channels
from demo.integrations_seed import seed_integrations
from demo.dispatch_seed import TP_MEDIATORS, ensure_tp_accounts, seed_dispatch
from demo.library_seed import seed_library
from demo.referral_seed import seed_referrals


class Command(BaseCommand):
    help = "创建演示数据：区域、组织、角色、每个角色一个演示用户、若干合成案件（可重复运行）"

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=300)

    def handle(self, *args, **options):
        password = os.environ.get("DEMO_PASSWORD", "")
        if not password:
            if not settings.DEBUG:
                raise CommandError("请通过环境变量 DEMO_PASSWORD 指定演示账号密码")
            password = "Mdtj@demo2026"
        regions = seeding.ensure_regions()
        seeding.ensure_organizations(regions)
        users = seeding.ensure_users(password)
        seeding.ensure_site_fields()  # before the cases: their values are stored encrypted
        created = seeding.seed_cases(options["cases"])
        ensure_tp_accounts(password)
        orders = seed_dispatch(password)  # third-party mediators and orders in every state
        referred = seed_referrals()  # demo_dept sees the cases referred to 人社局, nothing else
        channels = seed_channels()  # channel samples → clues, 一件事档案, a case awaiting dispatch, warnings
        seed_assessment()  # 考核评价: snapshots of the last six months
        seed_library()  # 典型案例库, 基层减负问答, 重点事, 案例检索 index
        seed_analysis()  # 研判: region centres, case coordinates, party demographics, rollups
        seed_integrations()  # 对接外部系统: configs on loopback fakes, a 政钉 sync, work notices, an API client
        users += [(username, roles.group(roles.TP_MEDIATOR).name) for username, _, _ in TP_MEDIATORS]
        self.stdout.write(f"区域 {len(regions)} 个；新建演示案件 {created} 件；新建演示发单 {orders} 个；"
                          f"转办人社局 {referred} 件。")
        self.stdout.write(f"渠道样例 {channels['files']} 个文件（新 {channels['new']} 条，未变 {channels['unchanged']} 条）；"
                          f"确认同一案件 {channels['confirmed']} 组；预警 "
                          + "、".join(f"{k} {v}" for k, v in sorted(channels["warnings"].items())) + "。")
        self.stdout.write("演示账号（密码均为 %s，仅用于本机演示）：" % password)
        for username, role in users:
            self.stdout.write(f"  {username:<18} {role}")
        self._print_demo_second_factors([username for username, _ in users])

    def _print_demo_second_factors(self, usernames):
        """PC logins of internal roles ask for a TOTP code (the security policy). For the local demo
        each such account gets a confirmed device with a per-install random key, printed here: add
        it to any authenticator app, or read the current code with ``manage.py demo_otp <账号>``."""
        from accounts import policy
        from accounts.factors import TOTP
        from accounts.models import User

        lines = []
        for user in User.objects.filter(username__in=usernames).order_by("username"):
            if policy.otp_required(user, "/admin/"):
                _device, key = TOTP.demo_device(user)
                lines.append(f"  {user.username:<18} {key}")
        if lines:
            self.stdout.write("PC 端登录需动态口令（第二因素）。演示账号的动态口令密钥（可加入任一验证器 App，"
                              "或运行 python manage.py demo_otp 账号 查看当前口令）：")
            for line in lines:
                self.stdout.write(line)
