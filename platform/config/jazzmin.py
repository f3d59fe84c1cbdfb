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
        "dispatch.DispatchOrder": "fas fa-gavel",
        "dispatch.AwardedOrder": "fas fa-award",
        "dispatch.Voucher": "fas fa-stamp",
        "dispatch.ThirdPartyOrg": "fas fa-handshake",
        "dedup.Pair": "fas fa-clone",
        "dedup.DedupGroup": "fas fa-folder-open",
        "dedup.DedupSettings": "fas fa-sliders-h",
        "escalation.CaseWarning": "fas fa-traffic-light",
        "escalation.WarningEvent": "fas fa-history",
        "escalation.PartyWarning": "fas fa-user-shield",
        "escalation.KeyPerson": "fas fa-user-lock",
        "escalation.WarningRule": "fas fa-exclamation-triangle",
        "escalation.WarningLevel": "fas fa-palette",
        "escalation.WarningKeyword": "fas fa-spell-check",
        "escalation.WarningSetting": "fas fa-sliders-h",
        "clues.CleaningRule": "fas fa-broom",
        "clues.Channel": "fas fa-satellite-dish",
        "assessment.Indicator": "fas fa-bullseye",
        "assessment.Snapshot": "fas fa-camera",
        "assessment.Adjustment": "fas fa-balance-scale-right",
        "assessment.PaddingFlag": "fas fa-copy",
        "assessment.RecomputeLog": "fas fa-redo",
    },
    "custom_links": {
        # the third-party end (partners.urls): a menu group of its own, shown by function right
        "第三方调解端": [
            {"name": "工作台", "url": "thirdparty:home", "icon": "fas fa-handshake", "permissions": ["thirdparty.use_tp_pc"]},
            {"name": "竞单中心", "url": "thirdparty:pool", "icon": "fas fa-gavel", "permissions": ["thirdparty.use_tp_pc"]},
            {"name": "报名记录", "url": "thirdparty:bids", "icon": "fas fa-clipboard-list", "permissions": ["thirdparty.use_tp_pc"]},
            {"name": "调解中心", "url": "thirdparty:cases", "icon": "fas fa-balance-scale", "permissions": ["thirdparty.use_tp_pc"]},
            {"name": "组织信息", "url": "thirdparty:org", "icon": "fas fa-building", "permissions": ["thirdparty.use_tp_pc"]},
            {"name": "调解员管理", "url": "thirdparty:mediators", "icon": "fas fa-user-tie", "permissions": ["thirdparty.change_orgprofile"]},
            {"name": "对账中心", "url": "thirdparty:statements", "icon": "fas fa-file-invoice", "permissions": ["thirdparty.change_orgprofile"]},
            {"name": "调解分析", "url": "thirdparty:analysis", "icon": "fas fa-chart-bar", "permissions": ["thirdparty.change_orgprofile"]},
        ],
        # district staff: 待发单案件 and 调解对账单 (dispatch.admin), by function right
        "dispatch": [
            {"name": "待发单案件", "url": "admin:dispatch_dispatchorder_pending", "icon": "fas fa-inbox",
             "permissions": ["dispatch.add_dispatchorder"]},
            {"name": "调解对账单", "url": "admin:dispatch_awardedorder_statement", "icon": "fas fa-file-invoice-dollar",
             "permissions": ["dispatch.view_awardedorder"]},
        ],
        # 研判 (analysis.urls): the analysis views, for users with case rights (scoped by region)
        "cases": [
            {"name": "总体分析", "url": "analysis:cockpit", "icon": "fas fa-tachometer-alt", "permissions": ["cases.view_case"]},
            {"name": "案件分析", "url": "analysis:cases", "icon": "fas fa-chart-bar", "permissions": ["cases.view_case"]},
            {"name": "求助分析", "url": "analysis:help", "icon": "fas fa-hands-helping", "permissions": ["cases.view_case"]},
            {"name": "案件地图", "url": "analysis:map", "icon": "fas fa-map-marked-alt", "permissions": ["cases.view_case"]},
        ],
        # 考核评价 (assessment.views): rankings in the user's scope, for whoever may view cases
        "assessment": [{"name": "考核排名", "url": "assessment:index", "icon": "fas fa-trophy",
                        "permissions": ["cases.view_case"]}],
        "lowcode": [{"name": "元数据变更记录", "url": "lowcode:changelog", "icon": "fas fa-history",
                     "permissions": ["lowcode.view_fielddef"]}],
    },
    "custom_css": "mdtj/admin.css",
    "custom_js": "mdtj/admin.js",
}
JAZZMIN_UI_TWEAKS = {"theme": "default", "navbar": "navbar-white navbar-light"}

# Content-Security-Policy: jazzmin's templates carry a few inline <script> blocks we cannot edit
# (theme mode in admin/base.html and registration/base.html, the filter-length table of
# change_list.html, the "required" markers of the password forms). They are allowed by their
# SHA-256 and nothing else; tests/test_web_security.py renders every admin page and fails,
# naming the hash, if an inline script appears that is not listed here (e.g. after a jazzmin
# upgrade): tests/test_web_security.py::test_inline_scripts_are_allowed_by_hash_only_for_jazzmin.
JAZZMIN_INLINE_SCRIPT_HASHES = [
    "'sha256-nLEB6J7sxmSsTqwuB/NEyb2atpyjTdtHdfLxmsXvCP8='",  # admin/base.html, registration/base.html: theme mode
    "'sha256-F7GVayJMLy0KHikNUhjbBcBE0ax/V4knxuE9lJsuA6A='",  # admin/change_list.html: filterInputLength
    "'sha256-OQlLsGYyiAVVwdHnkEraaS+8yfFm7rTeYMfelN7RwuE='",  # admin/auth/user/change_password.html
]
