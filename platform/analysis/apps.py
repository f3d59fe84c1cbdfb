from django.apps import AppConfig


class AnalysisConfig(AppConfig):
    name = "analysis"
    verbose_name = "研判分析"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from analysis import signals

        signals.connect()

        from lowcode.metakinds import register

        # 常用视图: named pages with their filters, shipped and added by the business admin
        register("analysis_views", model="analysis.SavedView", file="analysis/views.yaml", key=("code",),
                 dump_order=("sort", "code"),
                 json_key_order=("range", "start", "end", "region_code", "dim", "value", "kpi", "warning"))
