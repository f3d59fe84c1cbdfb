"""Response headers the level-3 assessment expects that Django's own middleware does not set.

``NoStoreMiddleware``: every response to a logged-in user carries ``Cache-Control: no-store``
(Django's ``never_cache`` headers), so after logout the Back button, a shared proxy or the
browser's disk cache shows nothing of what was on screen (剩余信息保护). Anonymous pages (login,
/verify/) keep Django's defaults; static files never reach this middleware (WhiteNoise answers
them first)."""
from __future__ import annotations

from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response
