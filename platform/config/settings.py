"""Settings. Everything that differs between machines comes from the environment
(see README "配置"): DATABASE_URL, SECRET_KEY, SM4_KEY, BLIND_INDEX_KEY, DEBUG, ALLOWED_HOSTS."""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parents[2]
PLATFORM_DIR = BASE_DIR / "platform"


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", False)
# Under pytest, throw-away keys are generated per run; anywhere else they must be supplied
# (make run writes development keys to var/dev.env).
TESTING = "pytest" in sys.modules
SECRET_KEY = os.environ.get("SECRET_KEY", "") or (secrets.token_urlsafe(40) if TESTING else "")
if not SECRET_KEY:
    raise RuntimeError("环境变量 SECRET_KEY 未设置（开发环境请使用 make run，它会生成 var/dev.env）")

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "jazzmin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "guardian",
    "simple_history",
    "import_export",
    "django_q",
    "axes",  # login-failure lockout (per username and per IP)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_password_validators",
    "django_password_validators.password_history",
    "csp",
    "ninja",  # django-ninja: the platform API (api); listed so its docs use the bundled swagger-ui, no CDN
    "secure",
    "lowcode",
    "orgs",
    "accounts",
    "cases",
    "notices",
    "addresses",
    "clues",
    "dispatch",
    "library",
    "h5",
    "partners",  # app label "thirdparty" (tables, migrations, permissions)
    "analysis",  # 研判: overall / case / help analysis, case map, digital archive
    "assessment",  # 考核评价: indicators as metadata, snapshots, rankings (issue #14)
    "ops",
    "integrations",  # 政钉, 天地图, SSO (issue #16)
    "api",  # 一单位一平台 REST API (issue #16)
    "demo",
    "extensions.dedup",
    "extensions.escalation",  # after dedup: its hook subscriber runs first
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "ops.middleware.SessionRefreshMiddleware",  # session row rewritten at most once a minute
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "lowcode.middleware.QueryLengthMiddleware",  # an over-long query value: 400 with a message
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "secure.audit.AuditContextMiddleware",  # one audit row per request for unmasked views
    "django.contrib.messages.middleware.MessageMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.LoginGateMiddleware",  # forced password change, second factor
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",  # Content-Security-Policy (CONTENT_SECURITY_POLICY below)
    "secure.middleware.NoStoreMiddleware",  # no-store on every response to a logged-in user
    "simple_history.middleware.HistoryRequestMiddleware",
    "lowcode.middleware.MetadataVersionMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PLATFORM_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
# sqlite (default, embedded), postgres://…, or dm://user:password@host:5236/SCHEMA (Dameng).
DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")


def database_from_url(url: str) -> dict:
    if url.startswith("dm://"):
        from urllib.parse import unquote, urlparse

        u = urlparse(url)
        return {
            "ENGINE": "dmDjango",
            "NAME": (u.path or "/").lstrip("/") or "SYSDBA",
            "USER": unquote(u.username or ""),
            "PASSWORD": unquote(u.password or ""),
            "HOST": u.hostname or "127.0.0.1",
            "PORT": str(u.port or 5236),
            # dmDjango ignores NAME when connecting and passes OPTIONS to dmPython.connect():
            # "schema" makes the path's schema the current one; local_code 1 = UTF-8.
            "OPTIONS": {"local_code": 1, "schema": (u.path or "/").lstrip("/") or "SYSDBA"},
            "CONN_MAX_AGE": int(os.environ.get("CONN_MAX_AGE", "60")),
        }
    config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")))
    if config["ENGINE"].endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
        # Concurrent writers on SQLite: a write transaction takes the write lock at BEGIN
        # (IMMEDIATE), so a second writer waits (busy timeout, seconds) and then reads the fresh
        # state, instead of failing mid-transaction with "database is locked"; WAL lets readers
        # go on while one writes.
        config.setdefault("OPTIONS", {}).update({
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
        })
    return config


DATABASES = {"default": database_from_url(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out usernames / IPs
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Passwords (等保 身份鉴别 a): ≥ 8 characters, 3 of 4 character classes, not one of the last 5.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "accounts.validators.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "accounts.validators.PasswordHistoryValidator", "OPTIONS": {"last_passwords": 5}},
]
# PBKDF2-HMAC-SM3 is the default; old PBKDF2-SHA256 hashes are rewritten with it at the next login.
PASSWORD_HASHERS = [
    "secure.hashers.PBKDF2SM3PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
DPV_DEFAULT_HISTORY_HASHER = "secure.hashers.PasswordHistoryHasher"  # password history, SM3 too
LOGIN_URL = "admin:login"
# jazzmin's login page has no hidden "next" input, so a login at /admin/login/ would land on
# Django's default /accounts/profile/ (404): send it to the admin index instead.
LOGIN_REDIRECT_URL = "admin:index"
# Initial values of the security admin's policy (accounts.SecurityPolicy; the row wins once saved).
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_COOLOFF_MINUTES = int(os.environ.get("LOGIN_COOLOFF_MINUTES", "30"))
PASSWORD_EXPIRY_DAYS = int(os.environ.get("PASSWORD_EXPIRY_DAYS", "90"))
SESSION_IDLE_MINUTES = int(os.environ.get("SESSION_IDLE_MINUTES", "15"))
# Idle timeout: a request pushes the expiry forward (accounts.middleware sets the policy's age).
# The session row is rewritten at most once a minute (ops.middleware.SessionRefreshMiddleware),
# not on every request: that write was a measurable share of the load (issue #17).
SESSION_COOKIE_AGE = SESSION_IDLE_MINUTES * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_REFRESH_SECONDS = int(os.environ.get("SESSION_REFRESH_SECONDS", "60"))
SESSION_REFRESH_ALWAYS = ("/accounts/keepalive/",)  # “继续使用” in the idle warning always saves
# django-axes: lock by username OR by source IP; limit and cool-off read from the policy.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"] if env_bool("LOGIN_LOCK_BY_IP", True) else ["username"]
AXES_FAILURE_LIMIT = "accounts.policy.failure_limit"
AXES_COOLOFF_TIME = "accounts.policy.cooloff_time"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.lockout_response"
AXES_ENABLE_ADMIN = False  # the Chinese 登录锁定 screen is accounts.admin_security
AXES_DISABLE_ACCESS_LOG = True  # successful logins go to the security audit log instead
AXES_VERBOSE = False
# Behind the gateway (nginx) the client address is the N-th from the right in X-Forwarded-For:
# set TRUSTED_PROXY_COUNT to the number of proxies, or every user shares the proxy's address.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "accounts.policy.client_ip"
OTP_TOTP_ISSUER = "矛调研判"
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

# --- i18n -----------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
LOCALE_PATHS = [PLATFORM_DIR / "locale"]  # product wording over a few Django admin phrases
USE_TZ = True

# --- static / media -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_DIRS = [PLATFORM_DIR / "static"]
# front-end libraries installed by npm (package.json) are served locally, never from a CDN
if (BASE_DIR / "node_modules").is_dir():
    STATICFILES_DIRS.append(("vendor", BASE_DIR / "node_modules"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
                    if not DEBUG else "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 20 * 1024 * 1024
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(20 * 1024 * 1024)))
IMPORT_MAX_ROWS = int(os.environ.get("IMPORT_MAX_ROWS", "20000"))
EXPORT_MAX_ROWS = int(os.environ.get("EXPORT_MAX_ROWS", "50000"))
INGEST_MAX_BYTES = int(os.environ.get("INGEST_MAX_BYTES", str(60 * 1024 * 1024)))
# input bounds (lowcode.fieldtypes, lowcode.middleware): long text, how far ahead a date may lie,
# the longest query-string value
LONG_TEXT_MAX_LENGTH = int(os.environ.get("LONG_TEXT_MAX_LENGTH", "10000"))
INPUT_MAX_FUTURE_YEARS = int(os.environ.get("INPUT_MAX_FUTURE_YEARS", "10"))
QUERY_VALUE_MAX_LENGTH = int(os.environ.get("QUERY_VALUE_MAX_LENGTH", "1000"))

# --- cache ----------------------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        # redis is pinned in requirements.txt (a REDIS_URL without it failed at the first access)
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# /health/ready/ (ops.health): disk usage that fails the probe, minutes a schedule may be overdue
HEALTH_MAX_DISK_PERCENT = float(os.environ.get("HEALTH_MAX_DISK_PERCENT", "95"))
HEALTH_QUEUE_MAX_MINUTES = int(os.environ.get("HEALTH_QUEUE_MAX_MINUTES", "15"))

# --- sensitive data (SM4 / SM3) ---------------------------------------------------------
# 32 hex chars (128-bit SM4 key) and 64 hex chars (HMAC-SM3 blind-index key). Never in the repo:
# `make run` writes development keys to var/dev.env; production supplies them from its secret store.
SM4_KEY = os.environ.get("SM4_KEY", "") or (secrets.token_hex(16) if TESTING else "")
BLIND_INDEX_KEY = os.environ.get("BLIND_INDEX_KEY", "") or (secrets.token_hex(32) if TESTING else "")

# --- security audit (docs/security/audit.md) ------------------------------------------------
# HMAC-SM3 key of the audit chain (64+ hex chars), its own key: the chain must not break when
# SECRET_KEY rotates, and 密评 wants one key per purpose. Retention: at least 180 days.
# Missing: `check --deploy` reports secure.E001 and audit rows cannot be written.
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "") or (secrets.token_hex(32) if TESTING else "")
AUDIT_RETENTION_DAYS = max(int(os.environ.get("AUDIT_RETENTION_DAYS", "180")), 180)
AUDIT_JSONL_PATH = os.environ.get("AUDIT_JSONL_PATH", "")  # a JSON-lines copy for a central collector
AUDIT_SYSLOG_ADDRESS = os.environ.get("AUDIT_SYSLOG_ADDRESS", "")  # host:port (UDP) or /dev/log

# --- security headers (docs/security/web.md) ---------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"  # no page of ours is framed (jazzmin's related-object modal is off)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# HTTPS=1: the site is served over TLS (a TLCP/TLS gateway in front sets X-Forwarded-Proto).
HTTPS = env_bool("HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^health/"]  # the load balancer probes the node over plain HTTP
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# Content-Security-Policy (django-csp): no inline script of ours at all; jazzmin's few inline
# scripts (its templates are not ours to edit) are allowed by their SHA-256 only, pinned in
# config/jazzmin.py and re-checked on every admin page by tests/test_web_security.py. Inline
# *styles* stay allowed: jazzmin, Django admin widgets and jQuery set style attributes.
from csp.constants import NONE, SELF, UNSAFE_INLINE  # noqa: E402

from config.jazzmin import JAZZMIN_INLINE_SCRIPT_HASHES  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, *JAZZMIN_INLINE_SCRIPT_HASHES],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],  # data: — the watermark tile and inline SVG/QR images
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "frame-src": [NONE],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
    },
}
# --- 案件地图 (analysis): map tiles. None by default (intranet): the map then shows a plain
# background with region labels. MAP_TILE_URLS: comma-separated Leaflet URL templates of a site
# tile server; TIANDITU_KEY (environment only, never in the repository) adds 天地图's vector tiles
# and labels. The tile servers' origins are allowed in the CSP img-src.
MAP_TILE_URLS = [u.strip() for u in os.environ.get("MAP_TILE_URLS", "").split(",") if u.strip()]
TIANDITU_KEY = os.environ.get("TIANDITU_KEY", "")
if TIANDITU_KEY:
    MAP_TILE_URLS += [
        f"https://t0.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={layer}"
        f"&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={TIANDITU_KEY}"
        for layer in ("vec", "cva")]
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "天地图" if TIANDITU_KEY else "")
MAP_CENTER = [float(v) for v in os.environ.get("MAP_CENTER", "120.15,30.27").split(",")[:2]]  # lng, lat
MAP_ZOOM = int(os.environ.get("MAP_ZOOM", "12"))
CONTENT_SECURITY_POLICY["DIRECTIVES"]["img-src"] += sorted(
    {"/".join(u.split("/")[:3]) for u in MAP_TILE_URLS if u.startswith(("http://", "https://"))})
# /verify/ (public voucher check): attempts per client IP and window (seconds)
VERIFY_RATE_LIMIT = int(os.environ.get("VERIFY_RATE_LIMIT", "20"))
VERIFY_RATE_WINDOW = int(os.environ.get("VERIFY_RATE_WINDOW", "600"))

# --- django-q2 (ORM broker by default: no extra service to run) --------------------------
Q_CLUSTER = {
    "name": "mdtj",
    "orm": "default",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 600,
    "retry": 900,
    "catch_up": False,
    "label": "后台任务",
}

# Extensions' heavy hook work (the duplicate check and the warnings of an ingest chunk) runs in
# this queue (lowcode.hooks, queued subscribers); "0" runs it inline after the ingest's commit.
HOOKS_QUEUE = None if os.environ.get("HOOKS_QUEUE", "") == "" else os.environ["HOOKS_QUEUE"] != "0"

# --- simple-history -------------------------------------------------------------------
SIMPLE_HISTORY_REVERT_DISABLED = False
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = False

# --- admin skin (jazzmin is a skin only; no forked templates) ----------------------------
from config.jazzmin import JAZZMIN_SETTINGS, JAZZMIN_UI_TWEAKS  # noqa: E402,F401

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

if TESTING:
    # Test speed only: real deployments use the PBKDF2-HMAC-SM3 hasher above (tests/test_passwords.py
    # tests that hasher itself and that it is the production default).
    PRODUCTION_PASSWORD_HASHERS = PASSWORD_HASHERS
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    DPV_DEFAULT_HISTORY_HASHER = "secure.hashers.FastPasswordHistoryHasher"
