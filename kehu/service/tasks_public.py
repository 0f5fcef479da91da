"""Celery tasks of the public help pages (load by id, run a service; safe to retry)."""

from celery import shared_task


@shared_task(name="kehu.service.tasks.ticket_acknowledge", acks_late=True)
def ticket_acknowledge(ticket_id: int, language: str = "") -> None:
    """E-mail a web-form requester that their request arrived (`services.public.ticket_acknowledge`),
    outside the HTTP request that created the ticket."""
    from .services.public import FALLBACK_LANGUAGE
    from .services.public import ticket_acknowledge as acknowledge

    acknowledge(ticket_id=ticket_id, language=language or FALLBACK_LANGUAGE)
