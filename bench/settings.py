"""Settings of the benchmark run: production-like (DEBUG off, cached templates, no query logging)
against the dedicated benchmark database that `bench/run.py` puts into DATABASE_URL."""

import warnings

from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "bench-secret-key-not-for-production-2f9c61d0"
ALLOWED_HOSTS = ["*"]
ROOT_URLCONF = "bench.urls"
# Fast hashing for the few logins of the run (requests themselves use sessions).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = "memory://"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LANGUAGE_CODE = "zh-hans"
# Request logs would flood the report; the log records are still built up to the level check.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"handlers": [], "level": "WARNING"},
}

# WhiteNoise warns once when STATIC_ROOT was never collected; the benchmark serves no static files.
warnings.filterwarnings("ignore", message="No directory at", category=UserWarning)

# Outermost: the time of the whole Django stack (middleware, view, template) per request.
MIDDLEWARE = ["bench.middleware.ServerTimingMiddleware", *MIDDLEWARE]  # noqa: F405
