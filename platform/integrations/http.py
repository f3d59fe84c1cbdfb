"""Calls to outside systems: time-limited, retried with exponential backoff on outages (network
errors, timeouts, 5xx), never on a refusal (4xx, a business error), counted on the system's
status (last success / last error / counts). An outage raises ``Unavailable`` with a Chinese
message; callers degrade the feature (a login falls back to the password, a notice stays queued)."""
from __future__ import annotations

import logging
import time

import requests
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from integrations.models import ExternalSystem

logger = logging.getLogger(__name__)


class IntegrationError(Exception):
    """The outside system answered with a refusal; ``str(exc)`` is shown (Chinese)."""


class Unavailable(IntegrationError):
    """The outside system could not be reached or failed (after the retries)."""


def backoff_base() -> float:
    return float(getattr(settings, "INTEGRATION_BACKOFF_SECONDS", 0.5))


def mark_ok(system: ExternalSystem) -> None:
    ExternalSystem.objects.filter(pk=system.pk).update(last_success_at=timezone.now(),
                                                       success_count=F("success_count") + 1)


def mark_error(system: ExternalSystem, message: str) -> None:
    ExternalSystem.objects.filter(pk=system.pk).update(last_error_at=timezone.now(), last_error=message[:500],
                                                       error_count=F("error_count") + 1)


def request(system: ExternalSystem, method: str, url: str, *, sign=None, **kwargs) -> requests.Response:
    """One call with retries. ``sign()`` returns fresh headers per attempt (a new nonce and time)."""
    attempts = 1 + int(system.retries)
    last = ""
    for attempt in range(attempts):
        headers = dict(kwargs.pop("headers", None) or {})
        if sign is not None:
            headers.update(sign())
        try:
            resp = requests.request(method, url, headers=headers, timeout=system.timeout_seconds, **kwargs)
        except requests.Timeout:
            last = f"{system.name}响应超时（{system.timeout_seconds} 秒）"
        except requests.RequestException as exc:
            last = f"无法连接{system.name}：{type(exc).__name__}"
        else:
            if resp.status_code < 500:
                return resp
            last = f"{system.name}服务异常（HTTP {resp.status_code}）"
        kwargs["headers"] = headers
        if attempt + 1 < attempts:
            time.sleep(backoff_base() * (2 ** attempt))
    mark_error(system, last)
    raise Unavailable(last)
