from django.urls import path

from dispatch import views

app_name = "dispatch"

urlpatterns = [
    path("vouchers/<int:pk>/", views.voucher_page, name="voucher"),
]
