from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

admin.site.site_header = "矛盾纠纷调处研判系统"
admin.site.site_title = "矛调研判"
admin.site.index_title = "工作台"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("lowcode/", include("lowcode.urls")),
    path("cases/", include("cases.urls")),
    path("h5/", include("h5.urls")),
]

# MEDIA is never served directly, not even in development: case files go through scoped views
# (cases.views, h5.views) that check the user may see the case.
