from django.contrib import admin
from django.urls import path

from assessment import views

app_name = "assessment"
urlpatterns = [
    path("", admin.site.admin_view(views.index), name="index"),
    path("compute/", admin.site.admin_view(views.compute_view), name="compute"),
    path("<slug:dimension>/", admin.site.admin_view(views.ranking_view), name="ranking"),
    path("<slug:dimension>/trend/", admin.site.admin_view(views.trend_view), name="trend"),
    path("<slug:dimension>/unit/<str:key>/", admin.site.admin_view(views.unit_view), name="unit"),
]
