from django.urls import path

from analysis import views

app_name = "analysis"
urlpatterns = [
    path("", views.cockpit, name="cockpit"),
    path("case-analysis/", views.case_analysis, name="cases"),
    path("help-analysis/", views.help_analysis, name="help"),
    path("map/", views.case_map, name="map"),
    path("cases/", views.drill, name="drill"),
    path("views/save/", views.save_view, name="save_view"),
    path("data/dim/", views.dim_data, name="dim"),
    path("data/map/", views.map_data, name="map_data"),
    # one URL per figure (no free parameter): overview, trend, region, tags, people, effect, communities, help
    *[path(f"data/{chart}/", views.data, {"chart": chart}, name=f"data_{chart}") for chart in views.CHARTS],
    path("cases/<int:pk>/archive/", views.case_archive, name="case_archive"),
    path("parties/<int:pk>/archive/", views.party_archive, name="party_archive"),
]
