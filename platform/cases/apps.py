from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "案件管理"

    def ready(self):
        from cases.models import Case, Party
        from lowcode.registry import EntityConfig, register_entity

        register_entity(EntityConfig("case", Case, extra_field="extra", scope_field="case_type",
                                     scope_dictionary="case_type"))
        register_entity(EntityConfig("party", Party, extra_field="extra"))

        from cases import signals  # noqa: F401  (records_changed hook for extensions)
        from cases import admin_workbench, referrals

        if referrals.workbench_panel not in admin_workbench.WORKBENCH_PANELS:
            admin_workbench.WORKBENCH_PANELS.append(referrals.workbench_panel)  # 部门转办
