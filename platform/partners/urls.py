"""/tp/ — the third-party PC end; /tp/m/ — the third-party H5 end. Object URLs take the order
(发单) id: a third party reaches a case only through an order awarded to its organisation."""
from django.urls import path

from partners import views_m as m
from partners import views_pc as pc

app_name = "thirdparty"
urlpatterns = [
    path("", pc.home, name="home"),
    path("org/", pc.org_info, name="org"),
    path("mediators/", pc.mediators, name="mediators"),
    path("pool/", pc.pool, name="pool"),
    path("bids/", pc.bids, name="bids"),
    path("orders/<int:pk>/", pc.order, name="order"),
    path("orders/<int:pk>/signup/", pc.sign_up, name="signup"),
    path("orders/<int:pk>/cancel/", pc.cancel, name="cancel"),
    path("cases/", pc.cases, name="cases"),
    path("orders/<int:pk>/case/", pc.case, name="case"),
    path("orders/<int:pk>/confirm/", pc.confirm, name="confirm"),
    path("orders/<int:pk>/parties/", pc.party_add, name="party_add"),
    path("statements/", pc.statements, name="statements"),
    path("analysis/", pc.analysis, name="analysis"),
    # H5
    path("m/login/", m.LoginView.as_view(), name="m_login"),
    path("m/logout/", m.LogoutView.as_view(), name="m_logout"),
    path("m/", m.home, name="m_home"),
    path("m/bids/", m.bids, name="m_bids"),
    path("m/orders/<int:pk>/", m.order, name="m_order"),
    path("m/orders/<int:pk>/signup/", m.sign_up, name="m_signup"),
    path("m/orders/<int:pk>/cancel/", m.cancel, name="m_cancel"),
    path("m/cases/", m.cases, name="m_cases"),
    path("m/orders/<int:pk>/case/", m.case, name="m_case"),
    path("m/orders/<int:pk>/voucher/", m.voucher, name="m_voucher"),
    path("m/orders/<int:pk>/confirm/", m.confirm, name="m_confirm"),
    path("m/orders/<int:pk>/parties/", m.party_add, name="m_party_add"),
    path("m/orders/<int:pk>/logs/", m.log_add, name="m_log_add"),
    path("m/orders/<int:pk>/result/", m.result, name="m_result"),
    path("m/messages/", m.inbox, name="m_messages"),
]
