"""Settings shared by every environment. Everything that differs per deployment comes from the
environment (see docs/configuration.md for the full list)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").exists():
    environ.Env.read_env(str(BASE_DIR / ".env"))

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS: list[str] = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS: list[str] = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # third party
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "django_countries",  # translated country names (customer regions)
    "axes",
    # Kehu, bottom layer first
    "kehu.core",
    "kehu.users",
    "kehu.audit",
    "kehu.notifications",
    "kehu.customfields",
    "kehu.search",
    "kehu.tags",
    "kehu.customers",
    "kehu.dedup",
    "kehu.imports",
    "kehu.catalog",
    "kehu.sales",
    "kehu.commerce",
    "kehu.service",
    "kehu.activities",
    "kehu.quality",
    "kehu.demo",
    # After Kehu's apps, so that Kehu's templates and translations win: kehu/users/templates
    # overrides allauth's templates (Tabler look), and django_celery_beat's catalogue would
    # otherwise translate every "Name" as 任务名.
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
]

MIDDLEWARE = [
    "kehu.core.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "kehu.users.middleware.UserLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kehu.users.middleware.UserTimezoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "kehu.users.middleware.RequireMfaMiddleware",
    "kehu.core.middleware.AuditContextMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "kehu.core.context_processors.shell",
            ],
        },
    }
]

# --- database -------------------------------------------------------------------------------
# SQLite is the embedded default. WAL, a busy timeout and IMMEDIATE transactions let the web
# server, the Celery worker and beat share one file without "database is locked" errors.
VAR_DIR.mkdir(exist_ok=True)
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'kehu.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- auth -----------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "kehu.users.backends.KehuBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# django-allauth: username login, no public sign-up (admins create users).
ACCOUNT_LOGIN_METHODS = {"username", "email"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email", "password1*", "password2*"]
ACCOUNT_ADAPTER = "kehu.users.adapters.AccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_SESSION_REMEMBER = None
# Lockout is django-axes' job; allauth's own rate limit on login would show a different message.
ACCOUNT_RATE_LIMITS = {"login_failed": None, "login": None}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Kehu"

# django-axes: lock a username (on any IP) after repeated failures.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
# Lock the username whatever the IP: a company's users share one NAT address, so locking by IP would
# lock out the whole office because of one person's typos. axes.W006 warns about exactly this
# choice, which is deliberate, so it is silenced below.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "kehu.users.lockout.lockout_response"
AXES_USERNAME_FORM_FIELD = "login"
AXES_USERNAME_CALLABLE = "kehu.users.lockout.get_username"
AXES_VERBOSE = False

# --- i18n -----------------------------------------------------------------------------------
LANGUAGE_CODE = env("LANGUAGE_CODE", default="zh-hans")
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
# Our zh-Hans number formats (thousands grouped with commas, as Chinese business documents do).
FORMAT_MODULE_PATH = ["config.formats"]
USE_TZ = True

# --- static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_URL = "/media/"
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- cache ----------------------------------------------------------------------------------
# Rate limits (web form, customer replies) and the mailbox poll lock count in Django's cache. The
# default is per process; with several gunicorn workers or Celery workers point CACHE_URL at a
# shared cache (e.g. redis://127.0.0.1:6379/1) so they count together.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- e-mail ---------------------------------------------------------------------------------
EMAIL_CONFIG = env.email("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Kehu <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Celery ---------------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}")


def celery_transport_options(broker_url: str) -> dict[str, object]:
    """The embedded SQLite broker is shared by web, worker and beat: wait for its lock instead of
    failing at once (kombu passes these options to SQLAlchemy's create_engine)."""
    if broker_url.startswith("sqla+sqlite"):
        return {"connect_args": {"timeout": 30}}
    return {}


CELERY_BROKER_TRANSPORT_OPTIONS = celery_transport_options(CELERY_BROKER_URL)
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "jobs-sweep-stale": {"task": "kehu.core.tasks.job_sweep_stale", "schedule": 60.0},
    # Task reminders due now (each sent once; a late run catches up, see kehu/activities/reminders.py).
    "activities-reminders-send-due": {"task": "kehu.activities.tasks.reminders_send_due", "schedule": 60.0},
    # Notification e-mails still due (a lost task, an SMTP server that was down).
    "notifications-email-sweep": {
        "task": "kehu.notifications.tasks.notification_email_sweep",
        "schedule": 300.0,
    },
    # One data quality snapshot per model per day (idempotent: a rerun replaces the day's rows).
    "quality-snapshot-daily": {
        "task": "kehu.quality.tasks.snapshot_daily",
        "schedule": crontab(hour=0, minute=30),
    },
    # Pools (公海): recycle records that are due and warn their owners ahead (idempotent).
    "sales-pool-recycle-due": {"task": "kehu.sales.tasks.pool_recycle_due", "schedule": crontab(minute=5)},
    # Deals stuck in a stage longer than its "stuck after" days: one notification per stage entry.
    "sales-opportunity-stuck-alerts": {
        "task": "kehu.sales.tasks.opportunity_stuck_alerts",
        "schedule": crontab(hour=8, minute=0),
    },
    # Every record type scanned for duplicates once a night (idempotent: a rerun refreshes the queue).
    "dedup-scan-nightly": {
        "task": "kehu.dedup.tasks.dedup_scan_scheduled",
        "schedule": crontab(hour=2, minute=15),
    },
    # Contracts (合同): expire the ones past their end date, then send renewal reminders (each once).
    "commerce-contracts-expire-due": {
        "task": "kehu.commerce.tasks_contracts.contracts_expire_due",
        "schedule": crontab(hour=0, minute=45),
    },
    "commerce-contracts-renewal-reminders": {
        "task": "kehu.commerce.tasks_contracts.contracts_renewal_reminders",
        "schedule": crontab(hour=8, minute=10),
    },
    # Quotes (报价单) past their validity date expire (approved or sent ones; idempotent).
    "commerce-quote-expire-due": {
        "task": "kehu.commerce.tasks_quotes.quote_expire_due",
        "schedule": crontab(hour=0, minute=15),
    },
    # Instalments past due with money outstanding: one notice to the owner and their manager.
    "commerce-instalments-overdue": {
        "task": "kehu.commerce.tasks_payments.instalments_overdue_notify",
        "schedule": crontab(hour=8, minute=20),
    },
    # NPS surveys whose next sending is due: one background job per run (idempotent per run).
    "service-surveys-run-due": {
        "task": "kehu.service.tasks_surveys.surveys_run_due",
        "schedule": crontab(minute=10),
    },
    # Churn warning: the active churn rules flag at-risk accounts (one open flag per account).
    "service-churn-evaluate": {
        "task": "kehu.service.tasks_churn.churn_evaluate",
        "schedule": crontab(hour=3, minute=30),
    },
    # Email-to-ticket: poll the support mailboxes (IMAP); a poll never raises, errors stay on the mailbox.
    "service-mailboxes-poll": {"task": "kehu.service.tasks_mail.mailboxes_poll", "schedule": 60.0},
    # Service SLA timers: warnings and breaches due now, escalation actions (each once; reruns harmless).
    "service-sla-sweep": {"task": "kehu.service.tasks_sla.sla_sweep", "schedule": 60.0},
}
# A running job that has not sent a heartbeat for this long is marked failed by the sweep.
KEHU_JOB_STALE_AFTER = timedelta(seconds=env.int("KEHU_JOB_STALE_SECONDS", default=120))
# Task reminders more than this late (beat was down) are skipped as missed instead of sent.
KEHU_REMINDER_MAX_LATE_HOURS = env.int("KEHU_REMINDER_MAX_LATE_HOURS", default=24)
# Bulk actions on lists: up to this many rows run at once, more as a background job in batches.
KEHU_BULK_INLINE_MAX = env.int("KEHU_BULK_INLINE_MAX", default=200)
KEHU_BULK_BATCH_SIZE = env.int("KEHU_BULK_BATCH_SIZE", default=500)
# Share (0-1) of the generated demo company that load_demo loads (tests load a few per cent).
KEHU_DEMO_SCALE = env.float("KEHU_DEMO_SCALE", default=1.0)
# Sales: the currencies an opportunity may use (ISO 4217) and the company currency reports convert
# to. A setting until the quote-to-cash module brings currency records and exchange rates.
KEHU_CURRENCIES = env.list("KEHU_CURRENCIES", default=["CNY", "USD", "EUR", "HKD", "JPY", "GBP"])
KEHU_COMPANY_CURRENCY = env("KEHU_COMPANY_CURRENCY", default="CNY")
# Attachments (contract scans and appendices): the largest upload in bytes, and the accepted file
# types (extensions; the content must match the type too).
KEHU_ATTACHMENT_MAX_BYTES = env.int("KEHU_ATTACHMENT_MAX_BYTES", default=20 * 1024 * 1024)
KEHU_ATTACHMENT_TYPES = env.list(
    "KEHU_ATTACHMENT_TYPES",
    default=["pdf", "png", "jpg", "jpeg", "doc", "docx", "xls", "xlsx", "zip", "ofd"],
)

# Service (issue 8): customer-facing pages and support mailboxes.
# Days a ticket's signed status link stays valid; web-form tickets and status-page replies per hour
# (per IP and per e-mail / ticket); the least seconds a person takes to fill the web form.
KEHU_TICKET_LINK_MAX_AGE = env.int("KEHU_TICKET_LINK_MAX_AGE", default=90)
KEHU_WEB_FORM_PER_HOUR = env.int("KEHU_WEB_FORM_PER_HOUR", default=5)
KEHU_TICKET_REPLIES_PER_HOUR = env.int("KEHU_TICKET_REPLIES_PER_HOUR", default=20)
KEHU_WEB_FORM_MIN_SECONDS = env.float("KEHU_WEB_FORM_MIN_SECONDS", default=3.0)
# A CA bundle for the IMAP servers' TLS certificates (empty: the system's); always verified.
KEHU_MAIL_CA_FILE = env("KEHU_MAIL_CA_FILE", default="") or None

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kehu.users.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "kehu.core.api.pagination.KeysetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "kehu.core.api.schema.KehuAutoSchema",
    "EXCEPTION_HANDLER": "kehu.core.api.errors.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "kehu.core.api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kehu API",
    "DESCRIPTION": "The REST API of Kehu (客户), an open-source CRM. Authenticate with a personal API "
    "token (`Authorization: Token <key>`) or a browser session.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "ENUM_NAME_OVERRIDES": {
        # Several customer models have a "kind" choice field.
        "AccountKindEnum": "kehu.customers.choices.AccountKind",
        "AddressKindEnum": "kehu.customers.choices.AddressKind",
        "PhoneKindEnum": "kehu.customers.choices.PhoneKind",
        "EmailKindEnum": "kehu.customers.choices.EmailKind",
        # Sales and dedup: "kind", "kinds", "status" and "mode" fields of several models.
        "PoolKindEnum": "kehu.sales.choices.PoolKind",
        "StageKindEnum": "kehu.sales.choices.StageKind",
        "LeadStatusEnum": "kehu.sales.choices.LeadStatus",
        # Quote-to-cash: "kind" of rules, attachments, order statuses and invoices; a quote's language.
        "ApprovalRuleKindEnum": "kehu.commerce.choices.ApprovalRuleKind",
        "AttachmentKindEnum": "kehu.commerce.choices.AttachmentKind",
        "OrderStatusKindEnum": "kehu.commerce.choices.OrderStatusKind",
        "InvoiceKindEnum": "kehu.commerce.choices.InvoiceKind",
        # a user's and a document's language: one choice set (the site's languages)
        "LanguageEnum": "kehu.users.models.User.Language",
        "MatchKeyKindEnum": "kehu.dedup.choices.KeyKind",
        "CollisionPolicyModeEnum": "kehu.dedup.choices.PolicyMode",
        # Service: priorities (a ticket's, an SLA policy's "raise to"), "kind" and "status" fields.
        "TicketPriorityEnum": "kehu.service.choices.TicketPriority",
        "TicketKindEnum": "kehu.service.choices.TicketKind",
        "TicketStateEnum": "kehu.service.choices.TicketState",
        "MessageKindEnum": "kehu.service.choices.MessageKind",
        "SLAEventKindEnum": "kehu.service.choices.SLAEventKind",
        "SurveyKindEnum": "kehu.service.choices.SurveyKind",
        "ArticleStatusEnum": "kehu.service.choices.ArticleStatus",
        "InboundStatusEnum": "kehu.service.choices.InboundStatus",
        "RiskStatusEnum": "kehu.service.choices.RiskStatus",
    },
}

# --- logging --------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "kehu.core.logging.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "kehu.core.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env("LOG_FORMAT", default="json"),
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# --- Kehu -----------------------------------------------------------------------------------
# Allow the demo loader to run outside DEBUG only when forced (never in production by default).
KEHU_COMPANY_NAME = env("KEHU_COMPANY_NAME", default="Kehu")
# Quote PDFs: Noto Sans SC (Regular, Bold; OFL) copied here from node_modules by `make assets`.
KEHU_PDF_FONT_DIR = env("KEHU_PDF_FONT_DIR", default=str(VAR_DIR / "fonts" / "noto-sans-sc"))
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
