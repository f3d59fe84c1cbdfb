from django.apps import AppConfig


class CluesConfig(AppConfig):
    name = "clues"
    verbose_name = "线索与归集"

    def ready(self):
        from clues import signals  # noqa: F401  (records_changed hook for single clue saves)
        from lowcode import slots

        slots.declare("clues.detail_panels", "callable (request, clue) -> [(title, headers, rows), …] below "
                      "the clue detail; it applies the user's scope itself")
        from clues.rules import RULES_KIND
        from lowcode.metakinds import register

        # shipped channels and their cleaning rules (one file per channel, _common.yaml under each)
        register("channels", model="clues.Channel", file="channels.yaml", key=("key",),
                 dump_order=("sort", "key"))
        register(RULES_KIND, model="clues.CleaningRule", file="cleaning/", key=("source",),
                 after=("channels",), base="cleaning/_common.yaml")
        # the channels are the items of the 事件来源 dictionary (a case's source): one list
        from clues.models import channel_choices
        from lowcode.registry import provide_dictionary

        provide_dictionary("event_source", channel_choices, model="clues.Channel")
