"""Bench-only URLconf: the real URLs plus the hand-written baseline admin sites."""
from django.urls import path

from bench_admin import plain_site, same_site, static_site
from config.urls import urlpatterns as real_urlpatterns

urlpatterns = [
    path("bench-plain/", plain_site.urls),
    path("bench-static/", static_site.urls),
    path("bench-same/", same_site.urls),
    *real_urlpatterns,
]
