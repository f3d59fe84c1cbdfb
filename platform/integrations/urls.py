from django.urls import path

from integrations import views

app_name = "integrations"
urlpatterns = [
    path("zzd/h5/", views.zzd_h5, name="zzd_h5"),
    path("zzd/qr/", views.zzd_qr, name="zzd_qr"),
    path("zzd/callback/", views.zzd_callback, name="zzd_callback"),
    path("sso/<slug:code>/", views.sso_start, name="sso_start"),
    path("sso/<slug:code>/callback/", views.sso_callback, name="sso_callback"),
]
