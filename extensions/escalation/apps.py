from django.apps import AppConfig


class EscalationConfig(AppConfig):
    name = "extensions.escalation"
    label = "escalation"
    verbose_name = "升级预警"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        """Subscribe to the engine hooks and fill the case screens' UI slots (detail panel, list
        column and filter, workbench card)."""
        from django.db.models.signals import post_migrate

        from extensions.escalation import caselist, panels, subscribers, workbench
        from lowcode import slots

        subscribers.install()
        from extensions.escalation import keywork  # 待核查线索 from clues that concern key / warned people
        keywork.connect()
        _register_kinds()
        slots.add("cases.detail_panels", panels.case_blocks, order=20)  # after 同一案件 / 相似案件
        slots.add("cases.detail_summary", panels.summary_flags, order=10)  # colour first, then verdicts
        slots.add("cases.workbench_panels", workbench.panel, order=20)  # after 部门转办
        slots.add("cases.list_columns", caselist.warning_column)
        slots.add("cases.list_filters", caselist.CaseWarningFilter)
        slots.add("cases.list_select_related", "warning")
        post_migrate.connect(_load_defaults, sender=self, dispatch_uid="escalation-defaults")
        from extensions.escalation import assessment_facts  # 预警化解数 for 考核评价
        assessment_facts.register()
        from extensions.escalation import analysis  # warning colours for the 研判 views
        analysis.register()


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
