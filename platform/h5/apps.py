from django.apps import AppConfig


class H5Config(AppConfig):
    name = "h5"
    verbose_name = "H5 基层调解端"

    def ready(self):
        from lowcode import slots

        # 个人中心: cards other apps add below the personal figures (assessment: my score and rank)
        slots.declare("h5.me_panels", "callable (request) -> safe HTML, a card in the H5 个人中心 (own figures only)")
