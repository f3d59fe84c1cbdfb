"""The one entry point for the security audit trail: ``record(event, ...)``.

Every module that does something an assessor wants to see (logins, exports, unmasked views,
rights changes …) calls ``record``; it writes in the request (auditing cannot be stopped on its
own) and never raises into the caller's flow."""
from __future__ import annotations

from django.utils import timezone


def client_ip(request) -> str:
    if request is None:
        return ""
    return (request.META.get("REMOTE_ADDR") or "")[:45]


def record(event: str, *, request=None, user=None, username: str = "", obj=None,
           outcome: str = "success", **detail):
    """Append one audit row. ``event``: a short code (login, login_failed, export, view_unmasked…);
    ``obj``: the object acted on (its str is kept); ``detail``: JSON-serialisable extras."""
    from secure.models import SecurityEvent

    if user is None and request is not None:
        u = getattr(request, "user", None)
        user = u if (u is not None and u.is_authenticated) else None
    return SecurityEvent.objects.create(
        at=timezone.now(), event=event, outcome=outcome,
        user=user, username=username or (user.get_username() if user is not None else ""),
        ip=client_ip(request), object_repr=str(obj)[:200] if obj is not None else "",
        detail=detail,
    )
