"""Scheduled and background tasks of the service app: churn."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="kehu.service.tasks_churn.churn_evaluate", acks_late=True)
def churn_evaluate() -> dict[str, int]:
    """Flag the accounts the active churn rules point at (daily; idempotent: one open flag per
    account, new reasons added to it)."""
    from .services.churn import churn_evaluate as evaluate

    return evaluate()
