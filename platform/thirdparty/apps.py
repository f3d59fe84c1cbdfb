from django.apps import AppConfig


class ThirdpartyConfig(AppConfig):
    name = "thirdparty"
    label = "thirdparty"
    verbose_name = "第三方调解端"
