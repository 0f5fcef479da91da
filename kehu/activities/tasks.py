"""Celery tasks of activities: thin wrappers over services (idempotent, safe to retry)."""

from celery import shared_task

from . import reminders

MAX_BATCHES = 20


@shared_task(name="kehu.activities.tasks.reminders_send_due")
def reminders_send_due() -> int:
    """Beat, every minute: send the task reminders that are due (batches of 500, each one
    transaction; a reminder is never sent twice, see `kehu.activities.reminders`)."""
    sent = 0
    for _ in range(MAX_BATCHES):
        handled, batch_sent = reminders.reminders_send_batch(limit=500)
        sent += batch_sent
        if handled < 500:
            break
    return sent
