"""Settings shared by every environment. Environment files override only what differs."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
import django_stubs_ext
from csp.constants import NONCE, NONE, SELF

from aftercrisis.config.home import ENV_FILE, EXAMPLE_PROTOCOL, read_env_file

django_stubs_ext.monkeypatch()  # lets generic Django classes (ModelForm[Model]) be subscripted at run time

PACKAGE_DIR = Path(__file__).resolve().parents[2]
# The installation's home (default: where the command runs): its settings file, protocol and data.
PROJECT_DIR = Path(os.environ.get("AFTERCRISIS_HOME", Path.cwd()))
VAR_DIR = PROJECT_DIR / "var"
read_env_file(PROJECT_DIR / ENV_FILE)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-development-key-never-used-in-production")
DEBUG = False
ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

# A relative AFTERCRISIS_PROTOCOL is read from the home; without one, the CORE protocol the package carries.
PROTOCOL_FILE = PROJECT_DIR / os.environ.get("AFTERCRISIS_PROTOCOL", EXAMPLE_PROTOCOL)

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
    "aftercrisis.accounts",
    "aftercrisis.lock",
    "aftercrisis.participants",
    "aftercrisis.randomisation",
    "aftercrisis.recruitment",
    "aftercrisis.intervention",
    "aftercrisis.workbook",
    "aftercrisis.followup",
    "aftercrisis.outcomes",
    "aftercrisis.economics",
    "aftercrisis.queries",
    "aftercrisis.reporting",
    "aftercrisis.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "aftercrisis.accounts.middleware.IdleExpiryMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "aftercrisis.accounts.middleware.ActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "aftercrisis.config.errors.RefusalMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "aftercrisis.api.problems.ProblemsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "aftercrisis.config.urls"
WSGI_APPLICATION = "aftercrisis.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,  # each app keeps its pages in its own jinja2/ folder
        "OPTIONS": {"environment": "aftercrisis.config.jinja.environment"},
    },
    {
        # Django's own templates (form widgets) still use the Django engine.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'aftercrisis.sqlite3'}", conn_max_age=60, conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN,
    # so concurrent writers queue instead of failing half way through a transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A page's queries are short. PostgreSQL compiles any plan it estimates costly (jit_above_cost), and at
    # 10,000 participants a count over every participant can reach it: compiling one such plan took 180 ms,
    # running it 27 ms.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A sign-in link (a member of staff choosing a password) works once, for a day.
PASSWORD_RESET_TIMEOUT = 24 * 3600
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"

# Sessions end after 30 idle minutes: IdleExpiryMiddleware renews their age, without a write on every page.
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_IDLE_SECONDS", 30 * 60))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# Requests an API token may make in each window of seconds, counted across processes where the cache is shared
# (production: a file cache in the home), else per process.
API_RATE_LIMIT = (int(os.environ.get("API_RATE_LIMIT", 600)), 60)

# Five failed sign-ins lock the account and address for an hour.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(hours=1)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked.jinja"

# Two-factor sign-in (TOTP) for roles that may see allocations.
OTP_REQUIRED_FOR_UNBLINDED = False
OTP_TOTP_ISSUER = "aftercrisis"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
        "base-uri": [NONE],
        "object-src": [NONE],
    }
}

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]  # the compiled NHS.UK assets, inside the package
STATIC_ROOT = VAR_DIR / "static"

# The key that decides which arm is "A" in blinded reports (analysis.blinding). Masked roles never see it.
BLINDING_KEY = os.environ.get("AFTERCRISIS_BLINDING_KEY", "") or f"derived:{SECRET_KEY}"

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = "aftercrisis <trial@aftercrisis.invalid>"
# Text messages and letters: GOV.UK Notify when a key is set, else "console", "file" (one file per
# message in NOTIFICATIONS_FILE_PATH) or "recording" (in tests).
NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
NOTIFY_SMS_TEMPLATE_ID = os.environ.get("NOTIFY_SMS_TEMPLATE_ID", "")
NOTIFY_LETTER_TEMPLATE_ID = os.environ.get("NOTIFY_LETTER_TEMPLATE_ID", "")
NOTIFICATIONS_BACKEND = os.environ.get("NOTIFICATIONS_BACKEND", "console")
NOTIFICATIONS_FILE_PATH = os.environ.get("NOTIFICATIONS_FILE_PATH", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
