from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "assessment"
    verbose_name = "考核评价"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        """The indicator metadata kind (metadata/assessment/indicators.yaml), the built-in facts, and
        the H5 personal-centre slot (filled here; h5 renders it)."""
        from django.db.models.signals import post_migrate

        from assessment import facts
        from lowcode import slots
        from lowcode.metakinds import register

        register("assessment_indicators", model="assessment.Indicator", file="assessment/indicators.yaml",
                 key=("code",), dump_order=("dimension", "sort", "code"))
        facts.install_builtin()
        from assessment import personal

        slots.add("h5.me_panels", personal.panel)  # H5 个人中心: my score, rank, what would raise it
        post_migrate.connect(_load_defaults, sender=self, dispatch_uid="assessment-defaults")


def _load_defaults(sender, using="default", **kwargs):
    """Ship the default indicators with the tables (site changes kept)."""
    from lowcode.serialization import load_metadata

    load_metadata(["assessment_indicators"], using=using)
