from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "extensions.escalation"
    label = "escalation"
    verbose_name = "升级预警"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        """Subscribe to the engine hooks and register on the case screens' extension points
        (detail panels, list column and filter, workbench block)."""
        from django.db.models.signals import post_migrate

        from cases import admin as case_admin
        from cases import admin_blocks, admin_workbench
        from extensions.escalation import caselist, panels, subscribers, workbench

        subscribers.install()
        from extensions.escalation.models import WarningKeyword, WarningLevel, WarningRule, WarningSetting
        from lowcode import changelog

        for model in (WarningLevel, WarningRule, WarningKeyword, WarningSetting):
            changelog.track(model)  # 元数据变更记录 lists warning-metadata changes too
        for registry, item in ((admin_blocks.DETAIL_PANELS, panels.case_blocks),
                               (admin_workbench.WORKBENCH_PANELS, workbench.panel),
                               (case_admin.LIST_COLUMNS, caselist.warning_column),
                               (case_admin.LIST_FILTERS, caselist.CaseWarningFilter),
                               (case_admin.LIST_SELECT_RELATED, "warning")):
            if item not in registry:
                registry.append(item)
        post_migrate.connect(_load_defaults, sender=self, dispatch_uid="escalation-defaults")


def _load_defaults(sender, using="default", **kwargs):
    """Ship the default levels, rules, keywords and thresholds with the tables (site changes kept)."""
    from extensions.escalation.defaults import load_defaults

    load_defaults(using=using)
