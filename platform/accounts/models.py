"""Users. Roles are Django groups (editable data: role → function permissions);
the row-level scope of a user is their region subtree and/or organisation.

Login security state lives here too: when the password was last changed, whether a change is
forced (first login, admin reset), and the one ``SecurityPolicy`` row the security admin edits."""
from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from lowcode.models import MetaRecord
from secure.fields import BlindIndexField, EncryptedField
from secure.masking import mask_phone


class MobileField(EncryptedField):
    """The user's mobile: SM4 at rest, a one-line input in forms (not a textarea)."""

    def formfield(self, **kwargs):
        from django import forms

        return super().formfield(**{"widget": forms.TextInput, "max_length": 20, **kwargs})


class User(AbstractUser):
    display_name = models.CharField("姓名", max_length=32, blank=True)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="users")
    organization = models.ForeignKey("orgs.Organization", verbose_name="所属组织", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="users")
    mobile = MobileField("手机号", kind="phone", blank=True)
    mobile_bidx = BlindIndexField(source="mobile")
    # set by set_password(); the login gate forces a change once it is older than the policy allows
    password_changed_at = models.DateTimeField("密码修改时间", null=True, blank=True, editable=False)
    # set on creation by an administrator and on an admin password reset; cleared when the user
    # sets a password themselves on the change-password page
    must_change_password = models.BooleanField("下次登录须修改密码", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    def set_password(self, raw_password):
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def mobile_masked(self) -> str:
        return mask_phone(self.mobile)

    @property
    def role_names(self) -> list[str]:
        return [g.name for g in self.groups.all()]

    @property
    def role_codes(self) -> tuple[str, ...]:
        """The stable codes of the user's roles (``accounts.roles``); metadata (workflow
        transitions, per-role layouts and lists) and code name roles by these, never by the
        group's display name. Cached on the instance for the request."""
        from accounts import roles

        return roles.codes_of(self)


class Role(MetaRecord):
    """A role: its stable ``code`` and what is shipped for it (metadata kind "roles",
    metadata/roles.yaml). The Django group it owns carries the display name and the live rights —
    both site data: ``name`` here is the name the group is created with, so renaming the group
    is not a change of this record and the role keeps following upgrades. Code and metadata
    (workflow transitions, per-role layouts and lists, the second-factor policy) name the role by
    ``code``, so a rename changes only what people read.

    Saving a role keeps its group in step: the group is created with the role (or an existing
    group of that name adopted) and gets the listed rights when created; an upgrade of the file
    adds the rights it newly lists. After creation a business role's rights
    are site data (用户与角色 › 组); the management roles' rights are exactly the file's
    (``accounts.separation.sync_roles``)."""

    group = models.OneToOneField("auth.Group", verbose_name="角色组", on_delete=models.CASCADE,
                                 related_name="role", editable=False)
    code = models.SlugField("角色代码", max_length=64, unique=True,
                            help_text="程序与元数据（流程、布局、列表）引用角色用的代码；改角色名称不影响它。")
    name = models.CharField("角色名称", max_length=150)
    admin = models.BooleanField("三员管理角色", default=False,
                                help_text="系统/安全/审计管理员：权限固定为出厂值，不能在界面分配或修改")
    permissions = models.JSONField("出厂功能权限", default=list, blank=True,
                                   help_text="app.codename 或 app.*（该应用全部权限）；业务角色建立后的权限在“组”中修改")
    assigns = models.JSONField("可分配的角色", default=list, blank=True, help_text="持有本角色者可分配的角色代码")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    META_FIELDS = ("code", "name", "admin", "permissions", "assigns")

    class Meta:
        verbose_name = verbose_name_plural = "角色"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name or self.code

    def clean(self):
        from accounts.separation import validate_role

        validate_role(self)

    def save(self, *args, **kwargs):
        from django.contrib.auth.models import Group
        from django.db import transaction

        from accounts.separation import resolve_permissions

        with transaction.atomic():
            before = type(self).objects.filter(pk=self.pk).values_list("permissions", flat=True).first() \
                if self.pk else None
            created = self.group_id is None
            if created:
                group = Group.objects.filter(name=self.name, role__isnull=True).first()
                if group is None:
                    taken = Group.objects.filter(name=self.name).exists()  # by another role: keep both
                    group = Group.objects.create(name=f"{self.name}（{self.code}）" if taken else self.name)
                    new_rights = list(self.permissions or [])
                else:  # a group made by hand before its role existed: its rights stay as they are
                    new_rights = []
                self.group = group
            else:
                new_rights = [p for p in self.permissions or [] if p not in set(before or [])]
            super().save(*args, **kwargs)
            if new_rights:
                self.group.permissions.add(*resolve_permissions(new_rights))


# Internal roles (codes) whose PC sessions need the second factor unless the security admin changes it.
DEFAULT_OTP_ROLES = ["sysadmin", "secadmin", "auditor", "district_admin", "config_admin",
                     "street_admin", "mediator", "dept_user"]


def _default_otp_roles():
    return list(DEFAULT_OTP_ROLES)


# initial policy values come from the environment (settings.py reads them)
def default_failure_limit():
    return settings.LOGIN_FAILURE_LIMIT


def default_cooloff_minutes():
    return settings.LOGIN_COOLOFF_MINUTES


def default_expiry_days():
    return settings.PASSWORD_EXPIRY_DAYS


def default_idle_minutes():
    return settings.SESSION_IDLE_MINUTES


class SecurityPolicy(models.Model):
    """The security admin's login and session policy: one row (pk=1), read through
    ``accounts.policy.current()``. Initial values come from the environment settings
    (LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_MINUTES, PASSWORD_EXPIRY_DAYS, SESSION_IDLE_MINUTES)."""

    otp_roles = models.JSONField("须第二因素的角色", default=_default_otp_roles, blank=True,
                                 help_text="这些角色的用户在 PC 端登录后须通过动态口令（TOTP）验证；超级用户始终需要。")
    otp_on_mobile = models.BooleanField("手机端（H5）也要求第二因素", default=False)
    zzd_counts_as_factor = models.BooleanField(
        "浙政钉登录视为第二因素", default=False,
        help_text="开启后，经浙政钉免登或扫码登录（政钉已核验用户本人与设备）的会话不再要求动态口令；"
                  "关闭时政钉登录后仍须动态口令。账号密码登录不受影响。")
    lockout_failure_limit = models.PositiveSmallIntegerField(
        "连续登录失败锁定次数", default=default_failure_limit,
        validators=[MinValueValidator(3), MaxValueValidator(20)],
        help_text="同一账号或同一来源地址连续失败达到该次数即锁定（3–20）。")
    lockout_cooloff_minutes = models.PositiveIntegerField(
        "锁定时长（分钟）", default=default_cooloff_minutes,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="锁定期满自动解锁；安全管理员可在“登录锁定”中提前解锁。")
    password_expiry_days = models.PositiveIntegerField(
        "密码有效期（天）", default=default_expiry_days,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="超过有效期未修改密码的用户登录后须先修改密码。")
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        "无操作自动退出（分钟）", default=default_idle_minutes,
        validators=[MinValueValidator(5), MaxValueValidator(30)],
        help_text="等保三级要求 10–15 分钟；到期前 2 分钟 PC 端弹出提醒。")
    updated_at = models.DateTimeField("修改时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "安全策略"

    def __str__(self) -> str:
        return "登录与会话安全策略"

    def save(self, *args, **kwargs):
        self.pk = 1  # one policy for the installation
        super().save(*args, **kwargs)
        from accounts import policy

        policy.clear_cache()


# --- the security admin's screens over library tables (Chinese names; rights stay the library's:
# axes.view_accessattempt / axes.delete_accessattempt, otp_totp.view_totpdevice / delete_totpdevice)
from axes.models import AccessAttempt  # noqa: E402
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402


class LoginLock(AccessAttempt):
    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "登录锁定"
        default_permissions = ()


class SecondFactorDevice(TOTPDevice):
    class Meta:
        proxy = True
        verbose_name = verbose_name_plural = "第二因素（动态口令）"
        default_permissions = ()
