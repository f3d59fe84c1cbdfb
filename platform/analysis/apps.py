from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "研判分析"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from analysis import signals

        signals.connect()
