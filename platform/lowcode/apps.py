from django.apps import AppConfig


class LowcodeConfig(AppConfig):
    name = "lowcode"
    verbose_name = "业务配置（低代码）"

    def ready(self):
        from lowcode import signals  # noqa: F401  (bumps the metadata version on every save)
        from lowcode.fieldtypes import install_model_bounds
        from lowcode.forms import guard_autocomplete_ids

        install_model_bounds()  # input bounds on every model form (lowcode.fieldtypes)
        guard_autocomplete_ids()  # a tampered related id re-renders as a form error, not a 500
