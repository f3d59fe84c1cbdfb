"""django-jazzmin settings: a skin only. Google Fonts are off: the production network is an
intranet and no page may ask for anything outside the server."""

JAZZMIN_SETTINGS = {
    "site_title": "矛盾纠纷调处研判系统",
    "site_header": "矛调研判",
    "site_brand": "矛盾纠纷调处研判",
    "welcome_sign": "欢迎登录矛盾纠纷调处研判系统",
    "copyright": "区社会治理中心",
    "use_google_fonts_cdn": False,
    "show_ui_builder": False,
    "navigation_expanded": True,
    "related_modal_active": False,
    "changeform_format": "single",
    "language_chooser": False,
    "order_with_respect_to": ["cases", "lowcode", "orgs", "accounts", "auth"],
    "icons": {
        "cases.Case": "fas fa-balance-scale",
        "cases.Party": "fas fa-user-friends",
        "cases.Review": "fas fa-check-double",
        "cases.CaseFile": "fas fa-archive",
        "notices.Notice": "fas fa-bell",
        "lowcode.Dictionary": "fas fa-book",
        "lowcode.FieldDef": "fas fa-list",
        "lowcode.FormLayout": "fas fa-th-large",
        "lowcode.ListView": "fas fa-table",
        "lowcode.Workflow": "fas fa-project-diagram",
        "orgs.Region": "fas fa-map-marker-alt",
        "orgs.Organization": "fas fa-building",
        "accounts.User": "fas fa-user",
        "auth.Group": "fas fa-users-cog",
    },
    "custom_links": {
        "lowcode": [{"name": "元数据变更记录", "url": "lowcode:changelog", "icon": "fas fa-history",
                     "permissions": ["lowcode.view_fielddef"]}],
    },
    "custom_css": "mdtj/admin.css",
    "custom_js": "mdtj/admin.js",
}
JAZZMIN_UI_TWEAKS = {"theme": "default", "navbar": "navbar-white navbar-light"}
