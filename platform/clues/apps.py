from django.apps import AppConfig


class CluesConfig(AppConfig):
    name = "clues"
    verbose_name = "线索与归集"
