from django.urls import path

from ops import health

app_name = "ops"
urlpatterns = [
    path("live/", health.live, name="health_live"),
    path("ready/", health.ready, name="health_ready"),
]
