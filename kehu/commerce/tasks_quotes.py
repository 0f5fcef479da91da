"""Celery tasks of the quotes area (each runs a service; idempotent, safe to retry)."""

from celery import shared_task


@shared_task(name="kehu.commerce.tasks_quotes.quote_expire_due")
def quote_expire_due() -> int:
    """Every day (Celery beat): approved or sent quotes past their validity date become expired."""
    from .services.quotes import quote_expire_due as expire

    return expire()
