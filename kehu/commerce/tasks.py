"""Celery tasks of the commerce app (each loads by id and runs a service; idempotent, safe to retry)."""

from celery import shared_task


@shared_task(bind=True, name="kehu.commerce.tasks.quote_send_email", acks_late=True)
def quote_send_email(self, job_id: int) -> None:
    """Render a quote's PDF and e-mail it (`services.sending.quote_send_run`)."""
    from .services.sending import quote_send_run

    quote_send_run(job_id=job_id, task_id=self.request.id or "")


# The areas' scheduled tasks live in their own modules; Celery's autodiscovery imports only
# `tasks`, so they are imported here for the worker to know them.
from . import tasks_contracts, tasks_payments, tasks_quotes  # noqa: E402,F401
