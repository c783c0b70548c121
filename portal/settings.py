"""Settings for the hosting customer portal, read from environment variables (12-factor).

With no variable set the portal runs embedded: SQLite, Celery and e-mails as files under
``var/``. Production sets DATABASE_URL, REDIS_URL, the SMTP settings, DJANGO_SECRET_KEY and
DJANGO_ALLOWED_HOSTS, and leaves DJANGO_DEBUG off.
"""

import os
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PORTAL_VAR_DIR", BASE_DIR / "var"))


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", False)
# The embedded default (no DATABASE_URL) is a developer's machine: it may run without a
# secret. Anything that is not DEBUG must be configured, and refuses to start otherwise.
SECRET_KEY = env("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS")
if DEBUG:
    SECRET_KEY = SECRET_KEY or "django-insecure-embedded-development-key-not-for-production"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "[::1]"]
else:
    if not SECRET_KEY:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off "
            "(set DJANGO_DEBUG=1 for a local development run, as `make run` does)."
        )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is off (comma-separated host names)."
        )
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_htmx",
    "csp",
    "template_partials",
    "portal",
    "accounts",
    "services",
    "support",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "portal.scoping.CurrentCustomerMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "portal.context_processors.portal",
            ],
        },
    },
]

# Database: SQLite under var/ unless DATABASE_URL says otherwise.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat share the file: wait for locks instead of failing at once.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# One cache for every process: allauth's rate limits must be shared by all web workers.
REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "portal.cache.TolerantRedisCache", "LOCATION": REDIS_URL}}  # survives an outage
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard"

# django-allauth: e-mail login, verified addresses, no account enumeration.
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Off only for `make soak` (simulated customers spend without a password prompt); on everywhere else.
ACCOUNT_REAUTHENTICATION_REQUIRED = env_bool("PORTAL_REAUTHENTICATION_REQUIRED", True)
ACCOUNT_REAUTHENTICATION_TIMEOUT = env_int("PORTAL_REAUTHENTICATION_TIMEOUT", 300)
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Portal] "
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "http" if DEBUG else "https"
# Sign-up is by invitation only: a customer's owner invites people (accounts/invitations.py).
PORTAL_OPEN_SIGNUP = env_bool("PORTAL_OPEN_SIGNUP", False)
MFA_SUPPORTED_TYPES = ["totp", "webauthn", "recovery_codes"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG
MFA_TOTP_ISSUER = env("PORTAL_MFA_ISSUER", "Hosting portal")
# The sessions page lists each session with its start, address and browser. Tracking the last
# activity too would cost five queries on every request (measured), so it is off.
USERSESSIONS_TRACK_ACTIVITY = False
# Staff reach the admin only through allauth's login, and only with MFA enabled.
PORTAL_ADMIN_REQUIRE_MFA = env_bool("PORTAL_ADMIN_REQUIRE_MFA", True)
PORTAL_INVITATION_MAX_AGE_DAYS = env_int("PORTAL_INVITATION_MAX_AGE_DAYS", 7)

# Internationalisation: French, Dutch, English; times in Brussels.
LANGUAGE_CODE = "en"
LANGUAGES = [("fr", _("French")), ("nl", _("Dutch")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Brussels"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Static files straight from the apps' folders while developing (no collectstatic needed).
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"

# E-mail: SMTP when EMAIL_HOST is set, otherwise files under var/mail/.
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Hosting portal <portal@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
EMAIL_HOST = env("EMAIL_HOST")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))

# Celery: Redis in production, kombu's filesystem transport under var/ when embedded.
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    _queue_dir = str(VAR_DIR / "celery" / "queue")
    for _folder in ("queue", "processed", "control"):
        (VAR_DIR / "celery" / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": _queue_dir,
        "data_folder_out": _queue_dir,
        "processed_folder": str(VAR_DIR / "celery" / "processed"),
        "store_processed": False,
        # Exchanges and broadcasts (portal_doctor's worker ping): kombu's default is ./control.
        "control_folder": str(VAR_DIR / "celery" / "control"),
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE = {
    "warn-response-deadlines": {
        "task": "support.tasks.warn_response_deadlines",
        "schedule": 300.0,  # every five minutes: "less than one working hour left" needs some precision
    },
    "purge-expired-invitations": {
        "task": "accounts.tasks.purge_expired_invitations",
        "schedule": crontab(hour=3, minute=15),
    },
}

# Security. Behind a TLS-terminating proxy in production.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # htmx reads nothing from it: the token is in hx-headers.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Content-Security-Policy: no inline script anywhere; htmx is configured by a meta tag so
# that it injects no inline style either.
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
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", "INFO")},
}

# A banner on every page when the portal runs with demo data and relaxed admin MFA (make run).
PORTAL_DEMO_BANNER = env_bool("PORTAL_DEMO_BANNER", False)
# make bench: /bench/ok/, the baseline page ("ok" through the same middleware and session).
PORTAL_BENCH_URLS = env_bool("PORTAL_BENCH_URLS", False)

# Support desk (art. 7): the working calendar and the response targets live in support/sla.py
# and can be changed here (SUPPORT_OPENING_TIME, SUPPORT_CLOSING_TIME, SUPPORT_WORKING_WEEKDAYS,
# SUPPORT_HOLIDAY_COUNTRY, SUPPORT_TIME_ZONE, SUPPORT_RESPONSE_TARGETS).
SUPPORT_REOPEN_DAYS = env_int("SUPPORT_REOPEN_DAYS", 14)
SUPPORT_ATTACHMENT_MAX_BYTES = env_int("SUPPORT_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
SUPPORT_ATTACHMENT_MAX_FILES = env_int("SUPPORT_ATTACHMENT_MAX_FILES", 5)
# Allow-listed attachment types: extension -> the content types a browser may send for it.
SUPPORT_ATTACHMENT_TYPES = {
    "pdf": {"application/pdf"},
    "png": {"image/png"},
    "jpg": {"image/jpeg"},
    "jpeg": {"image/jpeg"},
    "gif": {"image/gif"},
    "webp": {"image/webp"},
    "txt": {"text/plain"},
    "log": {"text/plain", "application/octet-stream"},
    "csv": {"text/csv", "text/plain", "application/vnd.ms-excel"},
    "zip": {"application/zip", "application/x-zip-compressed"},
    "eml": {"message/rfc822", "application/octet-stream"},
}
# Where staff notifications go (new tickets, customer remarks, deadline warnings) when a ticket
# has no assignee: a team mailbox. Empty: every active staff user.
SUPPORT_STAFF_EMAILS = env_list("SUPPORT_STAFF_EMAILS")
# Public address of the portal, for links in e-mails sent by workers (no request there).
PORTAL_BASE_URL = env("PORTAL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# Billing: Belgian VAT, payment term, and the provider's bank account for payment instructions.
BILLING_VAT_RATE = env("BILLING_VAT_RATE", "21.00")
BILLING_PAYMENT_TERM_DAYS = env_int("BILLING_PAYMENT_TERM_DAYS", 30)
BILLING_BENEFICIARY = env("BILLING_BENEFICIARY", "Hosting Provider SA")
BILLING_IBAN = env("BILLING_IBAN", "BE68539007547034")
BILLING_BIC = env("BILLING_BIC", "GKCCBEBB")
BILLING_COMPANY_ADDRESS = env("BILLING_COMPANY_ADDRESS", "Rue du Port 1, 1000 Bruxelles, Belgique")
BILLING_COMPANY_VAT = env("BILLING_COMPANY_VAT", "BE0403170701")

# Secrets at rest (portal/crypto.py): comma-separated Fernet keys, newest first.
PORTAL_ENCRYPTION_KEYS = env_list("PORTAL_ENCRYPTION_KEYS")

# DNS (art. 4.3): the provider's nameservers, put in every zone we host.
DNS_NAMESERVERS = env_list("DNS_NAMESERVERS", "ns1.hosting-provider.example,ns2.hosting-provider.example")
DNS_HOSTMASTER = env("DNS_HOSTMASTER", "hostmaster.hosting-provider.example")
DNS_MIN_TTL = env_int("DNS_MIN_TTL", 60)
DNS_MAX_TTL = env_int("DNS_MAX_TTL", 86400)
# Hosting contracts ending within this many days remind the customer to move the site (art. 3.5).
HOSTING_END_REMINDER_DAYS = env_int("HOSTING_END_REMINDER_DAYS", 60)
BACKUP_RETENTION_DAYS = env_int("BACKUP_RETENTION_DAYS", 14)

# The systems the portal hands work to. The built-in backends are manual fulfilment: staff see
# the work in the admin and complete it; none reports a success that did not happen.
HOSTING_PLATFORM_BACKEND = env("HOSTING_PLATFORM_BACKEND", "services.hosting_platform.ManualPlatform")
DOMAIN_REGISTRY_BACKEND = env("DOMAIN_REGISTRY_BACKEND", "services.registry.ManualRegistry")
CERTIFICATE_AUTHORITY_BACKEND = env(
    "CERTIFICATE_AUTHORITY_BACKEND", "services.certificate_authority.ManualCertificateAuthority"
)
MICROSOFT_BACKEND = env("MICROSOFT_BACKEND", "services.microsoft.ManualMicrosoft")

# Renewals and notices (issue 7: services/renewals.py, services/notices.py, services/tasks.py).
RENEWAL_INVOICE_DAYS = env_int("RENEWAL_INVOICE_DAYS", 30)  # the renewal invoice is issued this long before the end
RENEWAL_REMINDER_DAYS = [int(days) for days in env_list("RENEWAL_REMINDER_DAYS", "14,7,1")]  # unpaid renewal
CERTIFICATE_NOTICE_DAYS = [int(days) for days in env_list("CERTIFICATE_NOTICE_DAYS", "30,14,7,1")]  # art. 5.2.2
JOBS_BATCH_SIZE = env_int("JOBS_BATCH_SIZE", 500)  # items a job reads and writes per transaction (services/jobs.py)
# Test-only (tests/services/test_renewals_worker.py): seconds each job item waits, so that a worker can be
# killed in the middle of a job. Leave it at 0.
RENEWALS_ITEM_DELAY_SECONDS = float(env("RENEWALS_ITEM_DELAY_SECONDS", "0") or 0)
if REDIS_URL:
    # A task not acknowledged within this time is delivered again (a worker killed mid-task): longer
    # than the longest job, since a job still running would then run twice (harmless, but wasted).
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
# Every night, Brussels time (CELERY_TIMEZONE): paid periods are extended before unpaid ones expire,
# and both before the next renewal invoices are issued.
CELERY_BEAT_SCHEDULE.update(
    {
        "extend-prepaid-periods": {
            "task": "services.tasks.extend_prepaid_periods",
            "schedule": crontab(hour=1, minute=30),
        },
        "expire-unpaid": {"task": "services.tasks.expire_unpaid", "schedule": crontab(hour=1, minute=45)},
        "issue-renewal-invoices": {
            "task": "services.tasks.issue_renewal_invoices",
            "schedule": crontab(hour=2, minute=0),
        },
        "send-certificate-expiry-notices": {
            "task": "services.tasks.send_certificate_expiry_notices",
            "schedule": crontab(hour=2, minute=15),
        },
        # Daily: the month is billed once, on its first night, or on the next one if that run was missed.
        "bill-m365-licences": {"task": "services.tasks.bill_m365_licences", "schedule": crontab(hour=2, minute=30)},
    }
)
