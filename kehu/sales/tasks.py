"""Celery tasks of the sales app (each loads by id or runs a service; idempotent, safe to retry)."""

from celery import shared_task


@shared_task(name="kehu.sales.tasks.pool_recycle_due")
def pool_recycle_due() -> int:
    """Every hour (Celery beat): recycle pool records that are due and send the warnings (once per
    ownership). Safe to run as often as wanted."""
    from .services.pools import pool_recycle_due as recycle

    return recycle()


@shared_task(name="kehu.sales.tasks.opportunity_stuck_alerts")
def opportunity_stuck_alerts() -> int:
    """Every day (Celery beat): tell owners about deals stuck in a stage longer than the stage's
    "stuck after" days (once per stage entry). Safe to run as often as wanted."""
    from .services.opportunities import opportunity_stuck_alerts as alerts

    return alerts()
