"""Celery application. The broker comes from CELERY_BROKER_URL; the embedded default is a SQLite file
through kombu's SQLAlchemy transport, so `make run` needs no Redis or RabbitMQ.

Like config/wsgi.py, a worker or beat started without DJANGO_SETTINGS_MODULE uses the production
settings (which refuse to start without SECRET_KEY and ALLOWED_HOSTS): never a development setup by
accident. `make run` (manage.py kehu_run) starts its worker and beat with config.settings.local.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

app = Celery("kehu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
