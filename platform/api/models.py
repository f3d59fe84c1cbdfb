"""Client credentials of the platforms that call the 一单位一平台 API (T-2).

A client's secret is never stored: it is derived on demand as HMAC-SM3(API_CLIENT_SECRET_KEY,
key id | version) (``api.signing.client_secret``), shown once to the district admin who creates or
rotates it, and changes when the version is bumped. Revoking is a timestamp; a revoked client is
refused at the next call."""
from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone


def new_key_id() -> str:
    return "mdtj_" + secrets.token_hex(8)


class ApiClient(models.Model):
    name = models.CharField("平台名称", max_length=100, help_text="例：区社会治理中心平台")
    key_id = models.CharField("接入编号（AppKey）", max_length=32, unique=True, default=new_key_id,
                              editable=False)
    secret_version = models.PositiveSmallIntegerField("密钥版本", default=1, editable=False)
    region = models.ForeignKey("orgs.Region", verbose_name="数据范围", on_delete=models.PROTECT,
                               related_name="+", help_text="只能读取这个区域（含下级）的案件与统计")
    region_path = models.CharField("区域路径", max_length=255, db_index=True, editable=False, default="")
    channel = models.CharField("推送使用的数据来源", max_length=32, blank=True,
                               help_text="推送的案件/线索按这个数据来源的清洗规则与查重流程入库；留空则不能推送")
    can_read = models.BooleanField("可读取案件与统计", default=True)
    can_push = models.BooleanField("可推送案件/线索", default=False)
    see_sensitive = models.BooleanField("可获取完整证件号码和电话", default=False,
                                        help_text="未勾选时当事人证件号码和电话脱敏返回（与用户的“查看敏感信息”权限相同）")
    rate_limit = models.PositiveIntegerField("每分钟请求上限", default=120,
                                             validators=[MinValueValidator(1), MaxValueValidator(6000)])
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="创建人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+", editable=False)
    created_at = models.DateTimeField("创建时间", default=timezone.now, editable=False)
    last_call_at = models.DateTimeField("最近调用", null=True, blank=True, editable=False)
    calls = models.PositiveBigIntegerField("调用次数", default=0, editable=False)
    refused = models.PositiveBigIntegerField("拒绝次数", default=0, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "接口客户端"
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.key_id}）"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def save(self, *args, **kwargs):
        if self.region_id:
            self.region_path = self.region.path
        super().save(*args, **kwargs)


class Principal:
    """What ``accounts.scope`` needs of a caller, for an API client: its region subtree, no
    grants, never a superuser. Lets every query of the API go through the one scope helper."""

    is_authenticated = True
    is_superuser = False
    is_staff = False
    organization_id = None
    organization = None
    pk = None

    def __init__(self, client: ApiClient):
        self.client = client
        self.region = client.region
        self.is_active = client.active

    def get_username(self) -> str:
        return f"api:{self.client.key_id}"

    def __str__(self) -> str:
        return self.get_username()
