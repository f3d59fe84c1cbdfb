from django.urls import path

from analysis import views

app_name = "analysis"
urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("case-analysis/", views.case_analysis, name="cases"),
    path("help-analysis/", views.help_analysis, name="help"),
    path("map/", views.case_map, name="map"),
    path("cases/", views.drill, name="drill"),
    path("data/dim/", views.dim_data, name="dim"),
    path("data/map/", views.map_data, name="map_data"),
    path("data/<slug:chart>/", views.data, name="data"),
    path("cases/<int:pk>/archive/", views.case_archive, name="case_archive"),
    path("parties/<int:pk>/archive/", views.party_archive, name="party_archive"),
]
