from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from api.api import api as platform_api
from dispatch import views as dispatch_views

admin.site.site_header = "矛盾纠纷调处研判系统"
admin.site.site_title = "矛调研判"
admin.site.index_title = "工作台"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),  # login steps: second factor, password change
    path("lowcode/", include("lowcode.urls")),
    path("cases/", include("cases.urls")),
    path("h5/", include("h5.urls")),
    path("dispatch/", include("dispatch.urls")),
    # public: anyone holding a voucher can check it (shows 有效/无效, never the parties)
    path("verify/", dispatch_views.verify, name="verify"),
    path("verify/<str:number>/", dispatch_views.verify, name="verify_voucher"),
    path("tp/", include("partners.urls")),
    path("analysis/", include("analysis.urls")),  # 研判: analysis views, case map, digital archive
    path("assessment/", include("assessment.urls")),  # 考核评价: rankings, drill-down, export
    path("api/v1/", platform_api.urls),  # 一单位一平台: signed (HMAC-SM3), docs at /api/v1/docs
    path("integrations/", include("integrations.urls")),  # 政钉 / 一网通管 / 未来社区 single sign-on
    # public probes for the load balancer and monitoring: 正常/异常 per check, no data (ops.health)
    path("health/", include("ops.urls")),
]

# MEDIA is never served directly, not even in development: case files go through scoped views
# (cases.views, h5.views) that check the user may see the case.
