from django.urls import path

from lowcode import views

app_name = "lowcode"
urlpatterns = [
    path("form-rules/<slug:entity>/", views.form_rules, name="form_rules"),
    path("try-expression/<slug:entity>/", views.try_expression, name="try_expression"),
]
