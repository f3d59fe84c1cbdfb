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
        from cases import referrals
        from lowcode import slots

        # the places on the case screens that extensions fill (lowcode.slots)
        slots.declare("cases.list_columns", "callable (case) -> cell, labelled with admin.display; a column "
                      "of the case list (rows are already in the user's scope)")
        slots.declare("cases.list_filters", "a SimpleListFilter class on the case list")
        slots.declare("cases.list_select_related", "a relation the extension columns read (one join, not "
                      "one query per row)")
        slots.declare("cases.detail_panels", "callable (request, case) -> [(title, headers, rows), …] below "
                      "the case detail; it applies the user's scope itself")
        slots.declare("cases.detail_summary", "callable (request, case) -> [cases.summary.Flag, …] at the top of "
                      "the PC case detail and the H5 case page (warning colour, verdicts); it applies the user's scope itself")
        slots.declare("cases.workbench_panels", "callable (request) -> safe HTML, a card on the 工作台; it "
                      "applies the user's scope itself")
        slots.add("cases.workbench_panels", referrals.workbench_panel, order=10)  # 部门转办
