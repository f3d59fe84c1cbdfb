from django.apps import AppConfig


class LibraryConfig(AppConfig):
    name = "library"
    verbose_name = "典型案例与智能辅助"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cases import actions as case_actions
        from library import actions, panels, search
        from library.models import TypicalCase
        from lowcode import hooks, slots
        from lowcode.registry import EntityConfig, register_entity

        # the proposal review is Workflow metadata of this entity (metadata/workflows.yaml)
        register_entity(EntityConfig("typical_case", TypicalCase, extra_field="extra"))
        hooks.subscribe("records_changed", search.on_cases_changed)
        hooks.subscribe("records_deleted", search.on_cases_deleted)
        hooks.subscribe("records_ingested", search.on_ingested, queued=True)
        if actions.open_key_matter not in case_actions.OPEN_VISIT_RULES:
            case_actions.OPEN_VISIT_RULES.append(actions.open_key_matter)
        slots.add("cases.detail_panels", panels.case_panels, order=30)

        from django.db.models.signals import post_delete, post_save

        from library.models import QAEntry

        post_save.connect(search.on_qa_saved, sender=QAEntry, dispatch_uid="library_qa_index")
        post_delete.connect(search.on_qa_deleted, sender=QAEntry, dispatch_uid="library_qa_unindex")
