"""Audit of the login procedure. These receivers are the only ones on Django's auth signals
(login, failed login, logout) and on django-axes' lockout signal: the audit trail gets exactly one
row per event."""
from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from secure import audit


@receiver(user_logged_in, dispatch_uid="accounts.audit.login")
def on_login(sender, request, user, **kwargs):
    audit.record("login", request=request, user=user)


@receiver(user_login_failed, dispatch_uid="accounts.audit.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs):
    # the username tried (it may not exist); the password never reaches here (Django cleanses it)
    username = str((credentials or {}).get("username", ""))[:150]
    audit.record("login_failed", request=request, username=username, outcome="failure")


@receiver(user_logged_out, dispatch_uid="accounts.audit.logout")
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record("logout", request=request, user=user)


@receiver(user_locked_out, dispatch_uid="accounts.audit.lockout")
def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit.record("lockout", request=request, username=str(username or "")[:150], outcome="failure",
                 ip_address=ip_address)
