"""The security policy as the rest of the code reads it: one cached row (accounts.SecurityPolicy),
plus the callables django-axes is configured with (settings AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME,
AXES_CLIENT_IP_CALLABLE). A save by the security admin clears the cache; other processes see it
within CACHE_SECONDS."""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from accounts import roles

CACHE_KEY = "accounts:security-policy:v1"
CACHE_SECONDS = 30
MOBILE_PREFIXES = ("/h5/", "/tp/m/")


def current():
    from accounts.models import SecurityPolicy

    policy = cache.get(CACHE_KEY)
    if policy is None:
        policy = SecurityPolicy.objects.filter(pk=1).first() or SecurityPolicy(pk=1)
        cache.set(CACHE_KEY, policy, CACHE_SECONDS)
    return policy


def clear_cache() -> None:
    cache.delete(CACHE_KEY)


# --- django-axes ------------------------------------------------------------------------------
def failure_limit(request=None, credentials=None) -> int:
    return current().lockout_failure_limit


def cooloff_time(request=None) -> timedelta:
    return timedelta(minutes=current().lockout_cooloff_minutes)


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the entry they
    appended to X-Forwarded-For (entries further left are whatever the client sent)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if p.strip()]
        if len(forwarded) >= count:
            return forwarded[-count][:45]
    return (request.META.get("REMOTE_ADDR") or "")[:45]


# --- second factor, password age ---------------------------------------------------------------
def is_mobile_path(path: str) -> bool:
    return path.startswith(MOBILE_PREFIXES)


def otp_required(user, path: str = "/") -> bool:
    """Does this user need the second factor on this end? Superusers always (PC and H5); other
    users when one of their roles is in the policy, on the PC end (and on H5 when the policy
    says so)."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    policy = current()
    if is_mobile_path(path) and not policy.otp_on_mobile:
        return False
    return roles.has_role(user, *(policy.otp_roles or []))


SSO_FACTOR_KEY = "sso_second_factor"  # session: the login came through a system the policy trusts as a factor


def sso_is_factor(request) -> bool:
    """A 政钉 login counts as the second factor only while the policy says so (turning it off
    asks every such session for the dynamic password on its next page)."""
    return bool(request.session.get(SSO_FACTOR_KEY)) and current().zzd_counts_as_factor


def password_expired(user) -> bool:
    changed = getattr(user, "password_changed_at", None)
    if changed is None:  # never set through set_password (e.g. no usable password): nothing to age
        return False
    return timezone.now() - changed > timedelta(days=current().password_expiry_days)


def idle_seconds() -> int:
    return current().idle_timeout_minutes * 60
