"""Local development: `make run`. SQLite and the SQLite broker unless the environment says otherwise."""

from typing import Any, cast

from .base import *
from .base import LOGGING, env

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="django-insecure-local-development-only-3e7c1f0a")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])

# Readable log lines in the terminal (LOG_FORMAT=json gives production's one-JSON-object-per-line).
cast(dict[str, Any], LOGGING["handlers"])["console"]["formatter"] = env("LOG_FORMAT", default="plain")
