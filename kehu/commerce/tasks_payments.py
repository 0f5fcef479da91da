"""Celery tasks of payments (each runs a service; idempotent, safe to retry).

Beat schedule entry (config/settings/base.py, CELERY_BEAT_SCHEDULE)::

    # Instalments past due with money outstanding: one notice each to the owner and their manager.
    "commerce-instalments-overdue-notify": {
        "task": "kehu.commerce.tasks_payments.instalments_overdue_notify",
        "schedule": crontab(hour=8, minute=10),
    },
"""

from celery import shared_task


@shared_task(name="kehu.commerce.tasks_payments.instalments_overdue_notify")
def instalments_overdue_notify() -> int:
    """Every day: notify the owner and their department's manager of each instalment that went
    past its due date with money outstanding (once per instalment and due date)."""
    from .services.payments import instalments_overdue_notify as run

    return run()
