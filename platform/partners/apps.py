from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "partners"
    label = "thirdparty"  # kept: tables, migrations, permissions and URL names use it
    verbose_name = "第三方调解端"
