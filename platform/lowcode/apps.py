from django.apps import AppConfig


class LowcodeConfig(AppConfig):
    name = "lowcode"
    verbose_name = "业务配置（低代码）"

    def ready(self):
        from lowcode import signals  # noqa: F401  (bumps the metadata version on every save)
