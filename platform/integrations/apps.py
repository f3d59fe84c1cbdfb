from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "对接外部系统"

    def ready(self):
        from integrations import notices  # noqa: F401 — subscribes the 政钉 工作通知 channel
        from integrations import sso
        from lowcode import slots

        slots.add("accounts.login_links", sso.login_links)  # 政钉扫码 / 免登, 一网通管, 未来社区 … under the login forms
