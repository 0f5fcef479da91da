"""Celery tasks of the service app (each loads by id and runs a service; idempotent, safe to retry)."""

from celery import shared_task


@shared_task(name="kehu.service.tasks.ticket_message_send", acks_late=True)
def ticket_message_send(message_id: int) -> None:
    """E-mail an agent's reply to the customer (`mail.outbound.ticket_message_send`)."""
    from .mail.outbound import ticket_message_send as send

    send(message_id=message_id)


@shared_task(name="kehu.service.tasks.csat_on_ticket_resolved", acks_late=True)
def csat_on_ticket_resolved(ticket_id: int) -> None:
    """Invite the requester of a resolved ticket to rate it (`services.surveys`)."""
    from .models import Ticket
    from .services.surveys import csat_on_ticket_resolved as invite

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is not None:
        invite(ticket=ticket)


# The areas' scheduled tasks live in their own modules (tasks_sla, tasks_mail, tasks_surveys,
# tasks_churn); Celery's autodiscovery imports only `tasks`, so they are imported here.
from . import tasks_churn, tasks_mail, tasks_public, tasks_sla, tasks_surveys  # noqa: E402,F401
