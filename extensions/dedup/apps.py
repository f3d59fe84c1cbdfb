from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "extensions.dedup"
    label = "dedup"
    verbose_name = "重复案件研判"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from lowcode import hooks

        from extensions.dedup import conf, panels, subscribers

        hooks.subscribe("records_changed", subscribers.records_changed)
        hooks.subscribe("records_deleted", subscribers.records_deleted)
        hooks.subscribe("records_ingested", subscribers.records_ingested, queued=True)
        panels.register()
        from extensions.dedup import analysis  # the 数字档案's relations
        analysis.register()
        from extensions.dedup import assessment_padding  # 考核评价's padding detector
        assessment_padding.register()
        from lowcode.metakinds import register

        # the settings record, shipped as metadata/dedup/default.yaml (one file per record)
        register(conf.KIND, model="dedup.DedupSettings", file="dedup/", key=("code",))
