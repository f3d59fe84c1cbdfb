from django.urls import path

from django.contrib import admin

from lowcode import changelog, views

app_name = "lowcode"
urlpatterns = [
    path("form-rules/<slug:entity>/", views.form_rules, name="form_rules"),
    path("try-expression/<slug:entity>/", views.try_expression, name="try_expression"),
    path("changes/", admin.site.admin_view(changelog.changelog_view), name="changelog"),
]
