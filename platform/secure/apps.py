from django.apps import AppConfig


class SecureConfig(AppConfig):
    name = "secure"
    verbose_name = "安全"
