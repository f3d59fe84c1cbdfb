from django.urls import path

from h5 import views, views_assist

app_name = "h5"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("cases/new/", views.case_new, name="case_new"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/logs/", views.case_log, name="case_log"),
    path("cases/<int:pk>/items/", views.case_item_add, name="case_item_add"),
    path("cases/<int:pk>/items/<int:item_pk>/delete/", views.case_item_delete, name="case_item_delete"),
    path("cases/<int:pk>/transition/", views.case_transition, name="case_transition"),
    path("cases/<int:pk>/result/", views.case_result, name="result"),
    path("cases/<int:pk>/help/", views.case_help, name="help"),
    path("cases/<int:pk>/visits/new/", views.visit_new, name="visit_new"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("messages/", views.inbox, name="messages"),
    path("messages/read-all/", views.inbox_read_all, name="messages_read_all"),
    path("messages/<int:pk>/", views.notice_open, name="notice"),
    path("me/", views.me, name="me"),
    path("assist/", views_assist.assist, name="assist"),                      # 智能辅助：调解案例检索
    path("assist/qa/", views_assist.assist_qa, name="assist_qa"),             # 基层减负问答
    path("library/typicalcase/<int:pk>/", views_assist.assist_typical, name="assist_typical"),
]
