from django.contrib import admin
from django.urls import path, re_path

from assessment import views

app_name = "assessment"
DIMENSION = r"(?P<dimension>mediator|community|street|dept|third)"
urlpatterns = [
    path("", admin.site.admin_view(views.index), name="index"),
    path("compute/", admin.site.admin_view(views.compute_view), name="compute"),
    re_path(rf"^{DIMENSION}/$", admin.site.admin_view(views.ranking_view), name="ranking"),
    re_path(rf"^{DIMENSION}/trend/$", admin.site.admin_view(views.trend_view), name="trend"),
    # the unit is a query parameter (?unit=<id>&period=…&fact=…): user, region or organisation id
    re_path(rf"^{DIMENSION}/unit/$", admin.site.admin_view(views.unit_view), name="unit"),
]
