from django.apps import AppConfig


class H5Config(AppConfig):
    name = "h5"
    verbose_name = "H5 基层调解端"
