from django.apps import AppConfig


class CluesConfig(AppConfig):
    name = "clues"
    verbose_name = "线索与归集"

    def ready(self):
        from clues import signals  # noqa: F401  (records_changed hook for single clue saves)
        from clues.models import CleaningRule
        from lowcode import changelog

        changelog.track(CleaningRule)  # 元数据变更记录 lists cleaning-rule changes too
