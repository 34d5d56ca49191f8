"""kameng settings: everything comes from KAMENG_* environment variables with safe defaults."""

import base64
import hashlib
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("KAMENG_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("KAMENG_DEBUG", False)
SECRET_KEY = os.environ.get("KAMENG_SECRET_KEY", "kameng-dev-only-secret-change-me-in-production-0123456789")
ALLOWED_HOSTS = os.environ.get("KAMENG_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver,kameng.local").split(
    ","
)
CSRF_TRUSTED_ORIGINS = [
    o
    for o in os.environ.get(
        "KAMENG_CSRF_TRUSTED_ORIGINS", "http://127.0.0.1:8000,http://localhost:8000"
    ).split(",")
    if o
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    "csp",
    # Its docs view then serves swagger-ui from ninja's own static files instead of a public CDN.
    "ninja",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "channels",
    "kameng.accounts",
    "kameng.workdays",
    "kameng.evidence",
    "kameng.inventory",
    "kameng.catalog",
    "kameng.wallet",
    "kameng.payments",
    "kameng.orders",
    "kameng.refunds",
    "kameng.support",
    "kameng.safety",
    "kameng.casefile",
    "kameng.ops",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kameng.accounts.middleware.BusyDatabaseMiddleware",
    "kameng.accounts.middleware.RefuseNulMiddleware",
    # Last: it turns the answer to a login attempt made while locked out into the lockout answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "kameng.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "src" / "kameng" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "kameng.accounts.context.roles",
            ]
        },
    }
]
WSGI_APPLICATION = None
ASGI_APPLICATION = "kameng.asgi.application"

# --- database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("KAMENG_DATABASE_URL", "")
if DATABASE_URL:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
    if _db["ENGINE"] == "django.db.backends.postgresql" and env_bool("KAMENG_DB_POOL", True):
        # Persistent connections leak one connection per request under ASGI; a pool does not.
        _db.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 2,
            "max_size": int(os.environ.get("KAMENG_DB_POOL_MAX", "16")),
        }
    DATABASES = {"default": _db}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("KAMENG_SQLITE_PATH", str(VAR_DIR / "kameng.sqlite3")),
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

# Password guessing (the login page and POST /api/auth/token) is throttled by django-axes: after
# KAMENG_LOGIN_FAILURES wrong passwords for one username from one address, that pair is refused
# for KAMENG_LOGIN_COOLOFF_MINUTES (a stranger cannot lock a buyer out from elsewhere); after
# KAMENG_LOGIN_ADDRESS_FAILURES wrong passwords from one address, whatever the usernames (password
# spraying), that address is refused for as long (accounts/throttle.py: axes has one limit).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("KAMENG_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("KAMENG_LOGIN_COOLOFF_MINUTES", "15")))
KAMENG_LOGIN_ADDRESS_FAILURES = int(os.environ.get("KAMENG_LOGIN_ADDRESS_FAILURES", "20"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "kameng.accounts.throttle.PairAndAddressHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kameng.accounts.lockout.locked_out"
AXES_VERBOSE = False
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "catalog:index"
LOGOUT_REDIRECT_URL = "catalog:index"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- i18n: 简体中文 first ------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "src" / "kameng" / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "src" / "kameng" / "static"]
STATIC_ROOT = VAR_DIR / "static"
MEDIA_ROOT = Path(os.environ.get("KAMENG_MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- background tasks: database queue embedded, RQ on Redis when KAMENG_REDIS_URL is set --------
REDIS_URL = os.environ.get("KAMENG_REDIS_URL", "")
if REDIS_URL:
    INSTALLED_APPS += ["django_rq", "django_tasks_rq"]
    RQ_QUEUES = {"default": {"URL": REDIS_URL}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {
        "default": {"BACKEND": os.environ.get("KAMENG_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}
    }

# --- live chat (Django Channels): in-process layer embedded, Redis fans out across processes -------
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

# --- secrets ---------------------------------------------------------------------------------
# Card keys are encrypted with Fernet. Production sets KAMENG_CARDKEY_KEY (urlsafe base64, 32 bytes);
# development derives one from SECRET_KEY so a fresh clone works.
CARDKEY_FERNET_KEYS = [k for k in os.environ.get("KAMENG_CARDKEY_KEY", "").split(",") if k] or [
    base64.urlsafe_b64encode(hashlib.sha256(("cardkey:" + SECRET_KEY).encode()).digest()).decode()
]

# The key that seals each event stream's head (kameng.evidence.StreamHead). Kept outside the database,
# so that editing the tables cannot hide a deleted event. Production sets KAMENG_EVIDENCE_KEY.
EVIDENCE_KEY = (
    os.environ.get("KAMENG_EVIDENCE_KEY", "")
    or hashlib.sha256(("evidence:" + SECRET_KEY).encode()).hexdigest()
)

# Who the platform is, as a consumer complaint (the 12315 pack) names the respondent.
PLATFORM_NAME = os.environ.get("KAMENG_PLATFORM_NAME", "卡盟（kameng 演示平台）")
PLATFORM_ADDRESS = os.environ.get(
    "KAMENG_PLATFORM_ADDRESS", "（平台的工商注册地址，由运营方在 KAMENG_PLATFORM_ADDRESS 中设置）"
)

# --- payment gateway and supplier ----------------------------------------------------------
# The sandbox gateway (its cashier lets anyone "pay") and the sandbox supplier are for `make run` and
# tests only: off unless KAMENG_SANDBOX is set, and `check --deploy` fails while they are on.
SANDBOX = env_bool("KAMENG_SANDBOX", False)
BENCH_ENDPOINTS = env_bool("KAMENG_BENCH", False)
GATEWAY_SECRET = os.environ.get("KAMENG_GATEWAY_SECRET", "sandbox-gateway-secret")
# Signs payment-channel complaint notifications (WeChat Pay / Alipay complaints, SPEC §8). Defaults to
# the gateway's secret, so the deploy check on that one (kameng.E004) covers an unset one too.
PAY_CHANNEL_SECRET = os.environ.get("KAMENG_PAY_CHANNEL_SECRET", GATEWAY_SECRET)
# The most conversations one agent holds at once: routing and "接下一个" stop there.
SUPPORT_AGENT_CAP = int(os.environ.get("KAMENG_AGENT_MAX_CONVERSATIONS", "5"))
SITE_URL = os.environ.get("KAMENG_SITE_URL", "http://127.0.0.1:8000")

# --- WeChat official account (SPEC §12): the door /channels/wechat/ checks WeChat's signature with
# this token. Under `make run` (sandbox) the development token works; outside it, no token means the
# door answers 503 and accepts nothing. Replies go out through WeChat's customer-service message
# interface with the account's AppID/AppSecret, or through the sandbox WeChat under KAMENG_SANDBOX.
WECHAT_TOKEN = os.environ.get("KAMENG_WECHAT_TOKEN", "kameng-wechat-dev" if SANDBOX else "")
WECHAT_APPID = os.environ.get("KAMENG_WECHAT_APPID", "")
WECHAT_APPSECRET = os.environ.get("KAMENG_WECHAT_APPSECRET", "")
# The sandbox WeChat: how long its access tokens live and how often a send fails at random.
WECHAT_SANDBOX_TOKEN_TTL = int(os.environ.get("KAMENG_WECHAT_SANDBOX_TOKEN_TTL", "7200"))
WECHAT_SANDBOX_FAILURE_RATE = float(os.environ.get("KAMENG_WECHAT_SANDBOX_FAILURE_RATE", "0"))

# `make run` serves static files itself (everything embedded); a production proxy sets this off.
SERVE_STATIC = env_bool("KAMENG_SERVE_STATIC", True)

# --- email (password reset) ----------------------------------------------------------------
# With KAMENG_EMAIL_HOST set, mail goes out by SMTP; otherwise (`make run`, development) each mail
# is written as a file into var/outbox, where a developer opens the reset link. Tests use memory.
# KAMENG_EMAIL_URL (smtp://user:password@host:port, smtps:// for TLS from the first byte,
# ?starttls=0 to turn STARTTLS off) says the same in one variable and wins over KAMENG_EMAIL_HOST.
EMAIL_HOST = os.environ.get("KAMENG_EMAIL_HOST", "")
EMAIL_URL = os.environ.get("KAMENG_EMAIL_URL", "")
if EMAIL_URL:
    _email = urlsplit(EMAIL_URL)
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _email.hostname or "127.0.0.1"
    EMAIL_USE_SSL = _email.scheme == "smtps"
    EMAIL_PORT = _email.port or (465 if EMAIL_USE_SSL else 25)
    EMAIL_HOST_USER = unquote(_email.username or "")
    EMAIL_HOST_PASSWORD = unquote(_email.password or "")
    EMAIL_USE_TLS = not EMAIL_USE_SSL and parse_qs(_email.query).get("starttls", ["0"])[0] in {"1", "true"}
elif EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = int(os.environ.get("KAMENG_EMAIL_PORT", "587"))
    EMAIL_HOST_USER = os.environ.get("KAMENG_EMAIL_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("KAMENG_EMAIL_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("KAMENG_EMAIL_TLS", True)
    # Notice mail is sent while its notice rows are locked (kameng.accounts.mail): a slow relay must
    # not hold them (or, on SQLite, the write lock) for long; a timeout is retried later.
    EMAIL_TIMEOUT = int(os.environ.get("KAMENG_EMAIL_TIMEOUT", "10"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "outbox"
DEFAULT_FROM_EMAIL = os.environ.get("KAMENG_EMAIL_FROM", "kameng <noreply@kameng.local>")

# --- the customer-service mailbox (SPEC §8 Email, §12) -------------------------------------------
# Mail to support@<SUPPORT_MAIL_DOMAIN> (and the reply addresses support+<token>@…) lands in the
# support conversations: received by `manage.py smtp_listener` (started by `serve`) on
# 127.0.0.1:SMTP_PORT, or fetched from a mailbox by the tick when KAMENG_IMAP_URL is set
# (imap://user:password@host:port/INBOX, imaps:// for TLS).
SUPPORT_MAIL_DOMAIN = os.environ.get("KAMENG_SUPPORT_MAIL_DOMAIN", "kameng.local").lower()
SUPPORT_MAIL_FROM = f"support@{SUPPORT_MAIL_DOMAIN}"
SMTP_HOST = os.environ.get("KAMENG_SMTP_HOST", "127.0.0.1")
SMTP_PORT = int(os.environ.get("KAMENG_SMTP_PORT", "2525"))
IMAP_URL = os.environ.get("KAMENG_IMAP_URL", "")
# A mail bigger than this is refused by the listener (552); one bigger than MAIL_PARSE_MAX_BYTES is
# kept as raw bytes for a person, not parsed.
MAIL_MAX_BYTES = int(os.environ.get("KAMENG_MAIL_MAX_BYTES", str(25 * 1024 * 1024)))
MAIL_PARSE_MAX_BYTES = int(os.environ.get("KAMENG_MAIL_PARSE_MAX_BYTES", str(10 * 1024 * 1024)))

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
CSRF_FAILURE_VIEW = "kameng.accounts.views.csrf_failure"
X_FRAME_OPTIONS = "DENY"
# Every page runs only script files served from here: no inline <script>, no on*= handlers (the
# templates keep their behaviour in static/kameng/*.js), no eval, nothing from a CDN. Inline styles
# are refused too (site.css has every rule); images may be data: URIs (swagger-ui's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [SELF],
        "object-src": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if env_bool("KAMENG_HTTPS", False):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"refusal_without_traceback": {"()": "kameng.logs.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KAMENG_LOG_LEVEL", "WARNING")},
    "loggers": {
        "kameng": {"level": os.environ.get("KAMENG_LOG_LEVEL", "INFO"), "propagate": True},
        "django.request": {"filters": ["refusal_without_traceback"], "propagate": True},
    },
}
