from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    label = "platform_api"  # "api" is too generic a label for tables and permissions
    verbose_name = "一单位一平台接口"
