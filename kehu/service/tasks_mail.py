"""Scheduled and background tasks of the service app: mail.

Beat entry (config/settings/base.py, CELERY_BEAT_SCHEDULE) ``"service-mailboxes-poll"``: every
minute, every active mailbox with an IMAP host is polled (`services.mail.mailboxes_poll`). A poll
never raises (a mailbox's error is kept on it); a run that overlaps the previous one for the same
mailbox skips that mailbox."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.core.cache import cache

BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    "service-mailboxes-poll": {"task": "kehu.service.tasks_mail.mailboxes_poll", "schedule": 60.0},
}
LOCK_SECONDS = 600


@shared_task(name="kehu.service.tasks_mail.mailboxes_poll", acks_late=True)
def mailboxes_poll() -> dict[str, Any]:
    """Poll the active mailboxes; {mailbox id: {"fetched": n, "error": "..."}} for the logs."""
    from .models import Mailbox
    from .services.mail import mailbox_poll

    summary: dict[str, Any] = {}
    for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host="").order_by("id"):
        key = f"kehu:service:mailbox-poll:{mailbox.pk}"
        if not cache.add(key, 1, LOCK_SECONDS):
            summary[str(mailbox.pk)] = {"skipped": "running"}
            continue
        try:
            result = mailbox_poll(mailbox=mailbox)
        finally:
            cache.delete(key)
        summary[str(mailbox.pk)] = {"fetched": result.fetched, "error": result.error}
    return summary


@shared_task(name="kehu.service.tasks_mail.mailbox_poll", acks_late=True)
def mailbox_poll(mailbox_id: int) -> dict[str, Any]:
    """Poll one mailbox now (the "poll now" action)."""
    from .models import Mailbox
    from .services.mail import mailbox_poll as poll

    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None:
        return {}
    result = poll(mailbox=mailbox)
    return {"fetched": result.fetched, "error": result.error}
