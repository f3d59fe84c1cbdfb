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
        _register_kinds()
        for registry, item in ((admin_blocks.DETAIL_PANELS, panels.case_blocks),
                               (admin_workbench.WORKBENCH_PANELS, workbench.panel),
                               (case_admin.LIST_COLUMNS, caselist.warning_column),
                               (case_admin.LIST_FILTERS, caselist.CaseWarningFilter),
                               (case_admin.LIST_SELECT_RELATED, "warning")):
            if item not in registry:
                registry.append(item)
        post_migrate.connect(_load_defaults, sender=self, dispatch_uid="escalation-defaults")


# the warning metadata kinds (lowcode.metakinds), shipped in metadata/escalation/
KINDS = ("warning_levels", "warning_settings", "warning_keywords", "warning_rules")


def _register_kinds():
    from lowcode.metakinds import register

    register("warning_levels", model="escalation.WarningLevel", file="escalation/levels.yaml", key=("key",),
             dump_order=("order", "key"))
    register("warning_settings", model="escalation.WarningSetting", file="escalation/settings.yaml", key=("key",))
    register("warning_keywords", model="escalation.WarningKeyword", file="escalation/keywords.yaml",
             key=("word",), dump_order=("category", "word"))
    register("warning_rules", model="escalation.WarningRule", file="escalation/rules.yaml", key=("code",),
             after=("warning_levels", "warning_settings", "warning_keywords"), dump_order=("priority", "code"))


def _load_defaults(sender, using="default", **kwargs):
    """Ship the default levels, rules, keywords and thresholds with the tables (site changes kept)."""
    from lowcode.serialization import load_metadata

    load_metadata(KINDS, using=using)
