"""Create the three administrators of 三员分立 — instead of ``createsuperuser``.

    manage.py bootstrap_admins --sysadmin sysadmin --secadmin secadmin --auditor auditor [--region 339901]

First it brings the roles of metadata/roles.yaml into the database (accounts.separation.sync_roles:
missing roles, the management roles' rights, no management right left on a business role). Then
it creates each account that does not exist yet with a random initial password printed once; the
owner must change it at the first login and enrol the second factor (the login policy requires it
for the three roles). Existing accounts are left alone unless ``--reset-password`` is given.
``--demote-superusers`` removes superuser status from every account (nobody in operation is one)."""
from __future__ import annotations

import secrets
import string

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts import roles, separation

# command option → the management role's code
ROLES = (("sysadmin", roles.SYSADMIN), ("secadmin", roles.SECADMIN), ("auditor", roles.AUDITOR))


def random_password(length: int = 16) -> str:
    """All four character classes, from the OS random source."""
    pools = [string.ascii_lowercase, string.ascii_uppercase, string.digits, "!@#%^&*-_=+?"]
    chars = [secrets.choice(p) for p in pools] + [secrets.choice("".join(pools)) for _ in range(length - 4)]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


class Command(BaseCommand):
    help = "创建三员管理账号（系统管理员、安全管理员、审计管理员），代替 createsuperuser；初始密码随机、只显示一次"

    def add_arguments(self, parser):
        parser.add_argument("--sysadmin", required=True, help="系统管理员账号名")
        parser.add_argument("--secadmin", required=True, help="安全管理员账号名")
        parser.add_argument("--auditor", required=True, help="审计管理员账号名")
        parser.add_argument("--region", default="", help="系统管理员所属区域编码（管理该区域内的用户；不填则管理全部）")
        parser.add_argument("--organization", default="", help="三员所属组织名称（可选）")
        parser.add_argument("--reset-password", action="store_true",
                            help="账号已存在时重新生成初始密码（须再次修改密码）")
        parser.add_argument("--demote-superusers", action="store_true",
                            help="取消所有账号的超级用户身份（运行中不应有超级用户）")
        parser.add_argument("--close", action="append", default=[], metavar="账号",
                            help="停用一个三员账号（人员离岗；界面上不能修改三员账号），可重复")

    def handle(self, *args, **opts):
        from accounts.models import User
        from orgs.models import Organization, Region

        names = {key: (opts[key] or "").strip() for key, _ in ROLES}
        if any(not n for n in names.values()):
            raise CommandError("请给出三个账号名")
        if len({n.lower() for n in names.values()}) != 3:
            raise CommandError("三员必须是三个不同的账号（三员分立）")
        region = None
        if opts["region"]:
            region = Region.objects.filter(code=opts["region"]).first()
            if region is None:
                raise CommandError(f"区域编码“{opts['region']}”不存在")
        org = None
        if opts["organization"]:
            org = Organization.objects.filter(name=opts["organization"]).first()
            if org is None:
                raise CommandError(f"组织“{opts['organization']}”不存在")

        with transaction.atomic():
            role_groups, report = separation.sync_roles()
            for line in report:
                self.stdout.write(line)
            if opts["demote_superusers"]:
                for u in User.objects.filter(is_superuser=True):
                    u.is_superuser = False
                    u.save(update_fields=["is_superuser"])
                    self._audit(u, action="demote_superuser")
                    self.stdout.write(f"已取消超级用户身份：{u.username}")
            for username in opts["close"]:
                u = User.objects.filter(username__iexact=username).first()
                if u is None:
                    raise CommandError(f"账号“{username}”不存在")
                if u.username.lower() in {n.lower() for n in names.values()}:
                    raise CommandError(f"不能同时创建和停用账号“{username}”")
                u.is_active = False
                u.save(update_fields=["is_active"])
                self._audit(u, action="close")
                self.stdout.write(f"已停用账号：{u.username}")
            printed = []
            for key, code in ROLES:
                printed.append(self._ensure(User, names[key], role_groups[code], region if key == "sysadmin" else None,
                                            org, opts["reset_password"]))

        left = list(User.objects.filter(is_superuser=True).values_list("username", flat=True))
        if left:
            self.stderr.write("警告：仍有超级用户 " + "、".join(left)
                              + "（超级用户绕过全部权限与区域范围；加 --demote-superusers 取消）")
        shown = [p for p in printed if p]
        if shown:
            self.stdout.write("初始密码只显示这一次，请当面交给本人；首次登录须修改密码并绑定动态口令：")
            for username, role_name, password in shown:
                self.stdout.write(f"  {role_name}  {username}  {password}")

    def _ensure(self, User, username, group, region, org, reset):
        user = User.objects.filter(username__iexact=username).first()
        if user is not None:
            if not user.groups.filter(pk=group.pk).exists():
                raise CommandError(f"账号“{username}”已存在且不是{group.name}，请换一个账号名")
            other = user.groups.exclude(pk=group.pk).values_list("name", flat=True)
            if other:
                raise CommandError(f"账号“{username}”还持有角色 {'、'.join(other)}；三员账号只能持有一个管理角色")
            if not reset:
                self.stdout.write(f"{group.name} {username} 已存在，未改动")
                return None
        else:
            user = User(username=username, display_name=group.name, region=region, organization=org)
        user.is_staff, user.is_superuser, user.is_active = True, False, True
        password = self._password(user)
        user.set_password(password)
        user.must_change_password = True
        created = user.pk is None
        user.save()
        user.groups.set([group])
        self._audit(user, action="add" if created else "password_reset", roles=[group.name], must_change_password=True)
        return username, group.name, password

    @staticmethod
    def _password(user) -> str:
        for _ in range(20):
            password = random_password()
            try:
                validate_password(password, user)
            except ValidationError:
                continue
            return password
        raise CommandError("无法生成符合密码策略的随机密码，请检查 AUTH_PASSWORD_VALIDATORS")

    @staticmethod
    def _audit(user, **detail):
        from secure import audit

        event = "password_reset" if detail.get("action") == "password_reset" else "user_change"
        audit.record(event, obj=user, username="bootstrap_admins", source="bootstrap_admins", **detail)
