"""Writes of the notification centre. Any app may call `notify()`."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage, get_connection
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core.choices import JobStatus

from .models import Level, Notification

log = logging.getLogger(__name__)


def _user_ids(recipients: Iterable[Any]) -> list[int]:
    ids: list[int] = []
    for r in recipients:
        pk = r if isinstance(r, int) else getattr(r, "pk", None)
        if pk is not None and pk not in ids:
            ids.append(pk)
    return ids


@transaction.atomic
def notify(
    *,
    recipients: Iterable[Any],
    title: str,
    body: str = "",
    url: str = "",
    level: str = Level.INFO,
    kind: str = "",
    actor: Any = None,
    target: models.Model | None = None,
    email: bool = False,
) -> list[Notification]:
    """Tell users something in the notification centre (one row each, one INSERT for all).

    `recipients`: users or user ids (inactive users are skipped). `url`: where clicking the
    notification leads (a path inside Kehu). `email=True` also sends it by e-mail after commit.
    Text is stored as given: pass it already in the recipients' language when that matters.
    """
    ids = _user_ids(recipients)
    if not ids:
        return []
    active = set(get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    if level not in Level.values:
        level = Level.INFO
    rows = [
        Notification(
            recipient_id=pk,
            kind=kind[:64],
            level=level,
            title=str(title)[:200],
            body=str(body),
            url=str(url)[:500],
            actor_id=getattr(actor, "pk", None),
            target_model=target._meta.label_lower if target is not None else "",
            target_id=target.pk if target is not None else None,
        )
        for pk in ids
        if pk in active
    ]
    created = Notification.objects.bulk_create(rows)
    if email and created:
        created_ids = [n.pk for n in created if n.pk is not None]
        if created_ids:
            transaction.on_commit(lambda: _schedule_email(created_ids))
    return created


def _schedule_email(ids: list[int]) -> None:
    from .tasks import notification_email

    notification_email.delay(ids)


def notification_mark_read(*, user: Any, ids: Iterable[int]) -> int:
    """Mark some of the user's notifications read; others' ids are ignored. Returns how many."""
    clean = [int(i) for i in ids if str(i).isdigit()]
    if not clean:
        return 0
    return (
        Notification.objects.restrict(user, "change")
        .filter(pk__in=clean, read_at__isnull=True)
        .update(read_at=timezone.now())
    )


def notification_mark_all_read(*, user: Any) -> int:
    return (
        Notification.objects.restrict(user, "change")
        .filter(read_at__isnull=True)
        .update(read_at=timezone.now())
    )


def deliver(notifications: Iterable[Notification], *, email: bool = True) -> int:
    """Deliver notifications outside the app: by e-mail (Django's EMAIL_BACKEND) when `email`.

    Each recipient with an e-mail address gets one message per notification, sent once
    (`emailed_at` is set); returns how many were sent."""
    if not email:
        return 0
    pending = [n for n in notifications if n.emailed_at is None]
    if not pending:
        return 0
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in={n.recipient_id for n in pending})}
    sent_ids = []
    with get_connection() as connection:
        for n in pending:
            user = users.get(n.recipient_id)
            if user is None or not user.email or not user.is_active:
                continue
            with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
                lines = [n.body] if n.body else []
                if n.url:
                    lines.append(_("Open in Kehu: %(url)s") % {"url": settings.SITE_URL.rstrip("/") + n.url})
                message = EmailMessage(
                    subject=f"[{settings.KEHU_COMPANY_NAME}] {n.title}",
                    body="\n\n".join(lines) or n.title,
                    to=[user.email],
                    connection=connection,
                )
            try:
                message.send()
            except Exception:
                log.exception("notification e-mail failed", extra={"notification_id": n.pk})
                continue
            sent_ids.append(n.pk)
    if sent_ids:
        Notification.objects.filter(pk__in=sent_ids).update(emailed_at=timezone.now())
    return len(sent_ids)


def notify_job_finished(job: Any) -> None:
    """Registered in `kehu.core.services.job_finished_hooks`: tell the owner a job has ended."""
    owner = job.owner
    if owner is None or job.status not in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        return
    with translation.override(getattr(owner, "language", "") or settings.LANGUAGE_CODE):
        if job.status == JobStatus.SUCCEEDED:
            level = Level.SUCCESS
            title = (
                _("Your export is ready")
                if job.kind == "export"
                else _("Job finished: %(title)s") % {"title": job}
            )
            body = job.message
            if job.kind == "export" and job.message:
                body = _("%(job)s: %(message)s") % {"job": job, "message": job.message}
        else:
            level = Level.ERROR
            title = _("Job failed: %(title)s") % {"title": job}
            body = job.message
        notify(
            recipients=[owner],
            title=title,
            body=body,
            url=job.get_absolute_url(),
            level=level,
            kind=f"job.{job.status}",
            target=job,
        )
