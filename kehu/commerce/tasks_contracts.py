"""Celery tasks of the contracts area (each runs a service; idempotent, safe to retry)."""

from celery import shared_task


@shared_task(name="kehu.commerce.tasks_contracts.contracts_expire_due")
def contracts_expire_due() -> int:
    """Every day (Celery beat): active contracts whose end date passed become expired."""
    from .services.contracts import contract_expire_due

    return contract_expire_due()


@shared_task(name="kehu.commerce.tasks_contracts.contracts_renewal_reminders")
def contracts_renewal_reminders() -> int:
    """Every day (Celery beat): one renewal reminder per contract, its reminder days before the end."""
    from .services.contracts import contract_renewal_reminders_send

    return contract_renewal_reminders_send()
