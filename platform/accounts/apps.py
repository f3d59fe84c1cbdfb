from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "用户与角色"

    def ready(self):
        # audit receivers on the auth / lockout signals; the security admin's screens (policy,
        # 登录锁定, 第二因素) and the PC login form with the one "用户名或密码错误" message
        from accounts import admin_security, signals  # noqa: F401

        admin_security.install()

        from lowcode import slots

        # the other ways in, under the PC and H5 login forms (integrations: 政钉, 一网通管, 未来社区 …)
        slots.declare("accounts.login_links", "callable (request, end) -> [(label, url), …]; end is 'pc' or 'h5'")

        from accounts.separation import ROLES_KIND, validate_role
        from lowcode.metakinds import register

        # roles and their shipped rights (metadata/roles.yaml); sync_roles is the apply policy
        register(ROLES_KIND, model="accounts.Role", file="roles.yaml", key=("code",), label="角色",
                 validate=validate_role)

        from accounts.separation import known_role_codes
        from lowcode.validation import provide_role_codes

        # workflows, layouts and lists name roles by code: a typo is refused on save and on load
        provide_role_codes(known_role_codes)
