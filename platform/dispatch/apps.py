from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"
    verbose_name = "发单与竞单"

    def ready(self):
        from dispatch import signals  # noqa: F401  (third-party case grants, completion on case review)
