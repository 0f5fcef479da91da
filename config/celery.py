"""Celery application. The broker comes from CELERY_BROKER_URL; the embedded default is a SQLite file
through kombu's SQLAlchemy transport, so `make run` needs no Redis or RabbitMQ."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("kehu")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
