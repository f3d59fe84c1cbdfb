"""SessionRefreshMiddleware: the session row is rewritten at most once a minute, not on every
request (SESSION_SAVE_EVERY_REQUEST was a database write per page view; issue #17).

The idle timeout (accounts.middleware) still works: a save pushes the expiry forward, so a session
ends after the policy's idle minutes counted from a request at most SESSION_REFRESH_SECONDS old.
The idle warning (static/mdtj/idle-timeout.js) shows two minutes ahead, more than that window, and
its “继续使用” request (SESSION_REFRESH_ALWAYS) always saves. Placed right after SessionMiddleware.
"""
from __future__ import annotations

import time

from django.conf import settings

STAMP = "_refreshed_at"


class SessionRefreshMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.every = int(getattr(settings, "SESSION_REFRESH_SECONDS", 60))
        self.always = tuple(getattr(settings, "SESSION_REFRESH_ALWAYS", ()))

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or not session.session_key or session.modified or session.is_empty():
            return response
        now = int(time.time())
        if now - int(session.get(STAMP, 0) or 0) >= self.every or request.path.startswith(self.always):
            session[STAMP] = now  # marks the session modified: SessionMiddleware saves it
        return response
