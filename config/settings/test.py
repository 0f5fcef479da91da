"""Test settings: fast hashing, eager Celery, in-memory e-mail. DATABASE_URL picks PostgreSQL."""

from .base import *
from .base import STORAGES, VAR_DIR, celery_transport_options, env

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-6b1d9e2f"
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CELERY_TASK_ALWAYS_EAGER = True
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="memory://")
CELERY_BROKER_TRANSPORT_OPTIONS = celery_transport_options(CELERY_BROKER_URL)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = str(VAR_DIR / "test-media")
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
LANGUAGE_CODE = "en"

# WhiteNoise would warn in every test that STATIC_ROOT was never collected; look files up on demand.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True
