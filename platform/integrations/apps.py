from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "对接外部系统"

    def ready(self):
        from integrations import notices  # noqa: F401 — subscribes the 政钉 工作通知 channel
