"""Outside systems (政钉, 天地图, 一网通管 / 未来社区 single sign-on): their configuration, status,
the accounts bound to them, the 政钉 organisation mapping rules, work-notice deliveries and the
geocoding cache.

A secret (app secret, client secret, 天地图 key) is never stored: a config names the environment
variable that holds it (``secret_env``), like the ingest channels do."""
from __future__ import annotations

import os

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

ENV_NAME = RegexValidator(r"^[A-Z][A-Z0-9_]{1,63}$", "环境变量名只能含大写字母、数字和下划线，以字母开头")


class ExternalSystem(models.Model):
    ZZD, TIANDITU, OAUTH2, CAS, ZWFW = "zzd", "tianditu", "oauth2", "cas", "zwfw"
    KINDS = [(ZZD, "浙政钉（组织用户同步、免登、工作通知）"), (TIANDITU, "天地图（地理编码）"),
             (OAUTH2, "OAuth2 单点登录（一网通管 / 未来社区）"),
             (CAS, "CAS 票据单点登录（统一身份认证）"),
             (ZWFW, "浙里办 / 政务服务网票据单点登录（simpleauth）")]
    SSO_KINDS = (OAUTH2, CAS, ZWFW)  # one entry point /integrations/sso/<code>/ for each
    ENDS = [("pc", "PC 端"), ("h5", "H5 基层端")]

    code = models.SlugField("编码", max_length=32, unique=True, help_text="例：zzd、tianditu、ywtg、wlsq")
    name = models.CharField("名称", max_length=64)
    kind = models.CharField("类型", max_length=16, choices=KINDS)
    end = models.CharField("登录进入", max_length=4, choices=ENDS, default="pc",
                           help_text="单点登录成功后进入的端")
    enabled = models.BooleanField("启用", default=False)
    base_url = models.URLField("接口地址", max_length=300,
                               help_text="政钉：openplatform 网关；天地图：api.tianditu.gov.cn；OAuth2：令牌/用户信息所在的服务地址；"
                                         "CAS：CAS 服务地址（如 https://sso.example.gov.cn/cas/）；浙里办：simpleauth 接口地址")
    login_url = models.URLField("登录页地址", max_length=300, blank=True,
                                help_text="政钉：login 主机（扫码登录）；OAuth2：授权地址（authorize）；CAS：可留空（用接口地址的 login）；"
                                          "浙里办：统一登录页地址")
    token_url = models.URLField("令牌地址（OAuth2）", max_length=300, blank=True)
    userinfo_url = models.URLField("用户信息地址（OAuth2）", max_length=300, blank=True)
    app_key = models.CharField("AppKey / client_id", max_length=128, blank=True,
                               help_text="浙里办：servicecode（接入码）")
    secret_env = models.CharField("密钥环境变量名", max_length=64, blank=True, validators=[ENV_NAME],
                                  help_text="保存 AppSecret / client_secret / 天地图 tk 的环境变量名；密钥本身不存数据库、不显示")
    tenant_id = models.CharField("租户 ID（政钉 tenantId）", max_length=32, blank=True)
    user_id_field = models.CharField("用户唯一标识字段", max_length=64, default="sub", blank=True,
                                     help_text="用户信息里稳定不变的编号字段，用来匹配已绑定的本系统账号；"
                                               "CAS 留空即用票据校验返回的用户名（cas:user）")
    timeout_seconds = models.PositiveSmallIntegerField("超时（秒）", default=5,
                                                       validators=[MinValueValidator(1), MaxValueValidator(60)])
    retries = models.PositiveSmallIntegerField("失败重试次数", default=2, validators=[MaxValueValidator(5)])
    rate_per_minute = models.PositiveIntegerField("每分钟调用上限", default=60,
                                                  validators=[MinValueValidator(1), MaxValueValidator(10000)])
    last_success_at = models.DateTimeField("最近成功", null=True, blank=True, editable=False)
    last_error_at = models.DateTimeField("最近失败", null=True, blank=True, editable=False)
    last_error = models.CharField("最近错误", max_length=500, blank=True, editable=False)
    success_count = models.PositiveBigIntegerField("成功次数", default=0, editable=False)
    error_count = models.PositiveBigIntegerField("失败次数", default=0, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "外部系统"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def secret(self) -> str:
        return os.environ.get(self.secret_env, "") if self.secret_env else ""

    @property
    def secret_configured(self) -> bool:
        return bool(self.secret())

    # what each single sign-on kind cannot work without (the others are checked by 「测试连接」)
    REQUIRED = {OAUTH2: ("login_url", "token_url", "userinfo_url", "app_key", "user_id_field"),
                ZWFW: ("login_url", "app_key", "secret_env", "user_id_field")}

    def clean(self):
        from django.core.exceptions import ValidationError

        missing = {f: "该类型的单点登录必须填写此项" for f in self.REQUIRED.get(self.kind, ())
                   if not getattr(self, f)}
        if missing:
            raise ValidationError(missing)


class ExternalAccount(models.Model):
    """A local account bound to an outside identity (政钉 accountId, an OAuth2 ``sub``)."""

    system = models.ForeignKey(ExternalSystem, verbose_name="外部系统", on_delete=models.CASCADE,
                               related_name="accounts")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="本系统账号", on_delete=models.CASCADE,
                             related_name="external_accounts")
    external_id = models.CharField("外部编号", max_length=128, help_text="政钉 accountId；OAuth2 用户唯一标识")
    employee_code = models.CharField("政钉人员编码", max_length=64, blank=True)
    external_name = models.CharField("外部姓名", max_length=64, blank=True)
    org_code = models.CharField("外部组织代码", max_length=64, blank=True)
    data_hash = models.CharField("同步摘要", max_length=64, blank=True, editable=False)
    synced_at = models.DateTimeField("同步时间", null=True, blank=True)
    last_login_at = models.DateTimeField("最近单点登录", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "外部账号绑定"
        constraints = [models.UniqueConstraint(fields=["system", "external_id"], name="extaccount_unique"),
                       models.UniqueConstraint(fields=["system", "user"], name="extaccount_user_once")]
        indexes = [models.Index(fields=["system", "employee_code"], name="extaccount_emp")]

    def __str__(self) -> str:
        return f"{self.system.name}：{self.external_name or self.external_id} → {self.user}"


class OrgMapping(models.Model):
    """政钉 organisation → region / organisation, edited by the district admin. The rule with the
    longest matching ancestor chain wins: a rule on an organisation covers its sub-organisations."""

    system = models.ForeignKey(ExternalSystem, verbose_name="外部系统", on_delete=models.CASCADE,
                               related_name="org_rules", limit_choices_to={"kind": "zzd"})
    org_code = models.CharField("政钉组织代码", max_length=64, help_text="该组织及其下级组织的人员按本规则归属")
    org_name = models.CharField("政钉组织名称", max_length=128, blank=True)
    region = models.ForeignKey("orgs.Region", verbose_name="归属区域", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("orgs.Organization", verbose_name="归属组织", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "政钉组织映射规则"
        constraints = [models.UniqueConstraint(fields=["system", "org_code"], name="orgmapping_unique")]

    def __str__(self) -> str:
        return f"{self.org_name or self.org_code} → {self.region or self.organization or '—'}"


class ExternalOrg(models.Model):
    """The 政钉 organisation tree as last synced (parent links let a rule cover sub-organisations)."""

    system = models.ForeignKey(ExternalSystem, verbose_name="外部系统", on_delete=models.CASCADE,
                               related_name="orgs")
    code = models.CharField("组织代码", max_length=64)
    name = models.CharField("组织名称", max_length=128)
    parent_code = models.CharField("上级组织代码", max_length=64, blank=True)
    synced_at = models.DateTimeField("同步时间", default=timezone.now)

    class Meta:
        verbose_name = verbose_name_plural = "政钉组织"
        constraints = [models.UniqueConstraint(fields=["system", "code"], name="externalorg_unique")]

    def __str__(self) -> str:
        return self.name


class SyncRun(models.Model):
    system = models.ForeignKey(ExternalSystem, verbose_name="外部系统", on_delete=models.CASCADE,
                               related_name="sync_runs")
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    ok = models.BooleanField("成功", default=False)
    orgs = models.PositiveIntegerField("组织数", default=0)
    users_new = models.PositiveIntegerField("新增人员", default=0)
    users_updated = models.PositiveIntegerField("更新人员", default=0)
    users_unchanged = models.PositiveIntegerField("未变人员", default=0)
    message = models.CharField("说明", max_length=500, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "同步记录"
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.system} {self.started_at:%Y-%m-%d %H:%M}"


class WorkNotice(models.Model):
    """One 政钉 工作通知 for one notice: sent once (``biz_msg_id`` is the idempotency key the
    gateway dedupes on), retried with backoff while it fails."""

    STATUSES = [("pending", "待发送"), ("sent", "已送达"), ("failed", "失败待重试"), ("gave_up", "放弃")]
    notice = models.OneToOneField("notices.Notice", verbose_name="消息", on_delete=models.CASCADE,
                                  related_name="work_notice")
    system = models.ForeignKey(ExternalSystem, verbose_name="外部系统", on_delete=models.CASCADE, related_name="+")
    receiver = models.CharField("政钉 accountId", max_length=128)
    biz_msg_id = models.CharField("业务消息编号", max_length=64, unique=True)
    status = models.CharField("状态", max_length=8, choices=STATUSES, default="pending", db_index=True)
    attempts = models.PositiveSmallIntegerField("发送次数", default=0)
    next_try_at = models.DateTimeField("下次重试", default=timezone.now, db_index=True)
    last_error = models.CharField("最近错误", max_length=500, blank=True)
    message_id = models.CharField("政钉消息编号", max_length=128, blank=True)
    sent_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "政钉工作通知"
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.biz_msg_id


class GeocodeResult(models.Model):
    """天地图 geocoding of an address the unified address library could not match: cached (one
    call per address), reviewed by a person before it is fed back into the library."""

    REVIEW = [("pending", "待审核"), ("accepted", "已采纳"), ("rejected", "不采纳")]
    address = models.CharField("地址", max_length=255, unique=True)
    found = models.BooleanField("找到", default=False)
    lon = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)
    level = models.CharField("匹配级别", max_length=32, blank=True)
    score = models.IntegerField("可信度", null=True, blank=True)
    fetched_at = models.DateTimeField("查询时间", default=timezone.now)
    review = models.CharField("审核", max_length=8, choices=REVIEW, default="pending", db_index=True)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域（审核填写）", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="+",
                               help_text="采纳时必填：加入统一地址库的地址归属这个区域")
    standard = models.ForeignKey("addresses.StandardAddress", verbose_name="已加入的标准地址", null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+", editable=False)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="审核人", null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = verbose_name_plural = "天地图地理编码"
        ordering = ["-fetched_at", "-id"]

    def __str__(self) -> str:
        return self.address
