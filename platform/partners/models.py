"""The one table the third-party ends own: an organisation's public profile (组织信息), the fields
its org admin may keep up to date. Orders, bids, vouchers and grants are ``dispatch``'s."""
from __future__ import annotations

from django.conf import settings
from django.db import models


class OrgProfile(models.Model):
    organization = models.OneToOneField("orgs.Organization", verbose_name="组织", on_delete=models.CASCADE,
                                        related_name="tp_profile")
    phone = models.CharField("联系电话", max_length=20, blank=True)
    address = models.CharField("办公地址", max_length=200, blank=True)
    specialties = models.CharField("擅长领域", max_length=200, blank=True,
                                   help_text="如：商事合同、劳动争议、物业纠纷")
    intro = models.TextField("组织简介", max_length=2000, blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="更新人", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "第三方组织信息"
        # function rights of the two ends (roles get them as data, metadata/roles.yaml); which rows
        # a user then sees is dispatch.scope's business
        permissions = [("use_tp_pc", "使用第三方调解端（PC）"), ("use_tp_h5", "使用第三方调解端（H5）")]

    def __str__(self) -> str:
        return str(self.organization)
