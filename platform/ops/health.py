"""Liveness and readiness for the load balancer and monitoring (deploy/README.md "健康检查").

- ``/health/live/``: the process answers (no database, no cache); for systemd/LB liveness.
- ``/health/ready/``: django-health-check's database, cache and disk checks plus ours — the
  task queue's age and the presence of the keys. 200 when every check passes, 503 otherwise.

Both are public (a probe has no session) and say only 正常/异常 per check with a short Chinese
reason: no host names, paths, key material, counts of business data or exception text.

The checks run synchronously in the request's thread (the library's own view runs them in an
executor thread per request, which under WSGI opens a database connection per probe that is never
closed); each check's own ``run`` is the library's.
"""
from __future__ import annotations

import dataclasses
import datetime
import inspect
import logging
import os
import re

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from health_check.base import HealthCheck
from health_check.checks import Cache, Database
from health_check.contrib.psutil import Disk
from health_check.exceptions import HealthCheckException, ServiceUnavailable

logger = logging.getLogger("ops.health")

#: a setting's name → (label, pattern it must match); the values are never shown
KEYS = {
    "SECRET_KEY": ("会话签名密钥", re.compile(r"^.{40,}$", re.S)),
    "SM4_KEY": ("SM4 数据加密密钥", re.compile(r"^[0-9a-fA-F]{32}$")),
    "BLIND_INDEX_KEY": ("盲索引密钥", re.compile(r"^[0-9a-fA-F]{64}$")),
    "AUDIT_HMAC_KEY": ("审计链密钥", re.compile(r"^[0-9a-fA-F]{64,}$")),
}


@dataclasses.dataclass
class KeyPresence(HealthCheck):
    """Every key the system needs is set and well-formed (its value is never reported)."""

    def run(self):
        bad = [label for name, (label, pattern) in KEYS.items()
               if not pattern.match(str(getattr(settings, name, "") or ""))]
        if bad:
            raise ServiceUnavailable("密钥缺失或格式错误：" + "、".join(bad))


@dataclasses.dataclass
class TaskQueueAge(HealthCheck):
    """The background worker (django-q2 qcluster) keeps up: no active schedule is overdue by more
    than ``max_age`` and the ORM broker's queue holds fewer than ``max_queued`` tasks."""

    max_age: datetime.timedelta = dataclasses.field(default=datetime.timedelta(minutes=15), repr=False)
    max_queued: int = dataclasses.field(default=1000, repr=False)

    def run(self):
        from django_q.models import OrmQ, Schedule

        now = timezone.now()
        oldest = (Schedule.objects.exclude(repeats=0).filter(next_run__lt=now)
                  .order_by("next_run").values_list("next_run", flat=True).first())
        if oldest is not None and now - oldest > self.max_age:
            minutes = int((now - oldest).total_seconds() // 60)
            raise ServiceUnavailable(f"后台任务进程未运行：计划任务已逾期 {minutes} 分钟")
        if OrmQ.objects.count() >= self.max_queued:
            raise ServiceUnavailable("后台任务积压过多")


LABELS = {"Database": "数据库", "Cache": "缓存", "Disk": "磁盘空间", "KeyPresence": "密钥",
          "TaskQueueAge": "后台任务队列"}
REASONS = {"Database": "数据库无法连接", "Cache": "缓存无法读写", "Disk": "磁盘空间不足"}


def checks() -> list[HealthCheck]:
    media = str(settings.MEDIA_ROOT) if settings.MEDIA_ROOT else str(settings.BASE_DIR)
    max_disk = float(getattr(settings, "HEALTH_MAX_DISK_PERCENT", 95))
    return [
        Database(),
        Cache(),
        Disk(path=media if os.path.isdir(media) else str(settings.BASE_DIR), max_disk_usage_percent=max_disk),
        KeyPresence(),
        TaskQueueAge(max_age=datetime.timedelta(minutes=int(getattr(settings, "HEALTH_QUEUE_MAX_MINUTES", 15)))),
    ]


def run_check(check: HealthCheck) -> str | None:
    """None when the check passes, else a short Chinese reason (never an exception's text)."""
    name = type(check).__name__
    try:
        if inspect.iscoroutinefunction(check.run):
            async_to_sync(check.run)()
        else:
            check.run()
    except HealthCheckException as exc:
        logger.warning("health check %s failed: %s", name, exc)
        own = isinstance(check, (KeyPresence, TaskQueueAge))
        return exc.message if own else REASONS.get(name, "检查未通过")
    except Exception:  # noqa: BLE001 — a probe must answer, never 500
        logger.exception("health check %s raised", name)
        return REASONS.get(name, "检查未通过")
    return None


@never_cache
@require_GET
def live(request):
    return HttpResponse("ok", content_type="text/plain; charset=utf-8")


@never_cache
@require_GET
def ready(request):
    results = {}
    failed = False
    for check in checks():
        reason = run_check(check)
        label = LABELS.get(type(check).__name__, type(check).__name__)
        results[label] = "正常" if reason is None else f"异常：{reason}"
        failed = failed or reason is not None
    return JsonResponse({"status": "异常" if failed else "正常", "checks": results},
                        status=503 if failed else 200, json_dumps_params={"ensure_ascii": False})
