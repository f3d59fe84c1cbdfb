from django.apps import AppConfig


class DedupConfig(AppConfig):
    name = "extensions.dedup"
    label = "dedup"
    verbose_name = "重复案件研判"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from lowcode import hooks

        from extensions.dedup import panels, subscribers

        hooks.subscribe("records_changed", subscribers.records_changed)
        hooks.subscribe("records_deleted", subscribers.records_deleted)
        hooks.subscribe("records_ingested", subscribers.records_ingested, queued=True)
        panels.register()
        from extensions.dedup.models import DedupSettings
        from lowcode import changelog

        changelog.track(DedupSettings)  # 元数据变更记录 lists duplicate-model settings changes too
