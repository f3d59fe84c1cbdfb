"""Users. Roles are Django groups (editable data: role → function permissions);
the row-level scope of a user is their region subtree and/or organisation."""
from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    display_name = models.CharField("姓名", max_length=32, blank=True)
    region = models.ForeignKey("orgs.Region", verbose_name="所属区域", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="users")
    organization = models.ForeignKey("orgs.Organization", verbose_name="所属组织", null=True,
                                     blank=True, on_delete=models.PROTECT, related_name="users")
    mobile = models.CharField("手机号", max_length=20, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "用户"

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def role_names(self) -> list[str]:
        return [g.name for g in self.groups.all()]
