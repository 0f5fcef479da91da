"""Writes of the notification centre. Any app may call `notify()`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import models, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.core import confcache
from kehu.core.choices import JobStatus
from kehu.core.errors import DomainError

from . import kinds
from .kinds import Channel
from .models import Level, Notification, NotificationPreference

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
    email: bool | None = None,
) -> list[Notification]:
    """Tell users something in the notification centre (one row each, one INSERT for all).

    `recipients`: users or user ids (inactive users are skipped). `url`: where clicking the
    notification leads (a path inside Kehu). Text is stored as given: pass it already in the
    recipients' language when that matters.

    Channels follow each recipient's preferences for a registered `kind` (`kinds.register_kind`):
    in-app off and e-mail off: no row; in-app off and e-mail on: a row with `in_app=False` that the
    bell never shows but that makes the e-mail go out exactly once. `email`: None (default) as the
    preferences say; False never e-mails; True e-mails unless the recipient switched e-mail off for
    this kind (a kind nobody registered is always in-app and e-mailed only with `email=True`).
    E-mails are sent after commit (see `notification_emails_send`). Returns the rows created,
    including e-mail-only ones.
    """
    ids = _user_ids(recipients)
    if not ids:
        return []
    active = set(get_user_model().objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    if level not in Level.values:
        level = Level.INFO
    registered = kinds.get_kind(kind) if kind else None
    channels = (
        channels_for(user_ids=[pk for pk in ids if pk in active], kind=kind) if registered is not None else {}
    )
    rows = []
    for pk in ids:
        if pk not in active:
            continue
        if registered is not None:
            chosen = channels[pk]
            in_app = Channel.IN_APP in chosen
            by_email = Channel.EMAIL in chosen and email is not False
        else:
            in_app, by_email = True, bool(email)
        if not (in_app or by_email):
            continue
        rows.append(
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
                in_app=in_app,
                email_requested=by_email,
            )
        )
    created = Notification.objects.bulk_create(rows)
    confcache.bump_user(row.recipient_id for row in rows if row.in_app)  # bulk_create sends no signals
    email_ids = [n.pk for n in created if n.email_requested and n.pk is not None]
    if email_ids:
        transaction.on_commit(lambda: _schedule_email(email_ids))
    return created


def channels_for(*, user_ids: Iterable[int], kind: str) -> dict[int, frozenset[str]]:
    """The channels each user gets `kind` on: their saved choice, else the kind's defaults."""
    registered = kinds.get_kind(kind)
    default = registered.default_channels if registered is not None else frozenset({Channel.IN_APP.value})
    result = dict.fromkeys(user_ids, default)
    for pref in NotificationPreference.objects.filter(user_id__in=list(result), kind=kind):
        result[pref.user_id] = frozenset(
            c for c, on in ((Channel.IN_APP.value, pref.in_app), (Channel.EMAIL.value, pref.email)) if on
        )
    return result


@transaction.atomic
def notification_preferences_set(*, user: Any, values: Mapping[str, Iterable[str]]) -> int:
    """Save the user's channels for the given kinds (`{"task.reminder": {"in_app", "email"}}`).

    Kinds not in `values` keep their current choice. Unknown kinds or channels raise a
    `DomainError` (nothing saved). Returns how many kinds were saved."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, set[str]] = {}
    for key, chosen in values.items():
        if kinds.get_kind(key) is None:
            errors.setdefault(key, []).append(_("Unknown kind of notification."))
            continue
        chosen_set = {str(c) for c in chosen}
        bad = chosen_set - set(kinds.CHANNELS)
        if bad:
            errors.setdefault(key, []).append(
                _("Unknown channel: %(channels)s.") % {"channels": ", ".join(sorted(bad))}
            )
            continue
        clean[key] = chosen_set
    if errors:
        raise DomainError(
            _("Some notification preferences are not valid."),
            code="notification_preferences_invalid",
            fields=errors,
        )
    for key, chosen_set in clean.items():
        NotificationPreference.objects.update_or_create(
            user_id=user.pk,
            kind=key,
            defaults={"in_app": Channel.IN_APP in chosen_set, "email": Channel.EMAIL in chosen_set},
        )
    return len(clean)


def _schedule_email(ids: list[int]) -> None:
    from .tasks import notification_email

    notification_email.delay(ids)


def notification_mark_read(*, user: Any, ids: Iterable[int]) -> int:
    """Mark some of the user's notifications read; others' ids are ignored. Returns how many."""
    clean = [int(i) for i in ids if str(i).isdigit()]
    if not clean:
        return 0
    count = (
        Notification.objects.restrict(user, "change")
        .filter(pk__in=clean, read_at__isnull=True)
        .update(read_at=timezone.now())
    )
    if count:
        confcache.bump_user(user.pk)
    return count


def notification_mark_all_read(*, user: Any) -> int:
    count = (
        Notification.objects.restrict(user, "change")
        .filter(read_at__isnull=True)
        .update(read_at=timezone.now())
    )
    if count:
        confcache.bump_user(user.pk)
    return count


def deliver(notifications: Iterable[Any], *, email: bool = True) -> int:
    """E-mail these notifications (rows or ids) whose e-mail is due; returns how many were sent.

    Idempotent and safe to retry: see `notification_email_send`."""
    if not email:
        return 0
    ids = [n if isinstance(n, int) else n.pk for n in notifications]
    sent, _failed = notification_emails_send(ids=ids)
    return sent


def notification_emails_send(*, ids: Iterable[int]) -> tuple[int, list[int]]:
    """Send the due e-mails of these notifications, each in its own short transaction.

    Returns (how many were sent, ids whose sending failed and stays due for a retry)."""
    sent, failed = 0, []
    with get_connection() as connection:
        for pk in dict.fromkeys(int(i) for i in ids):
            result = notification_email_send(notification_id=pk, connection=connection)
            if result is True:
                sent += 1
            elif result is False:
                failed.append(pk)
    return sent, failed


def notification_email_send(*, notification_id: int, connection: Any = None) -> bool | None:
    """E-mail one notification at most once. True: sent now; None: nothing to do; False: failed.

    The row is locked with `SELECT ... FOR UPDATE SKIP LOCKED` (PostgreSQL) and `emailed_at` is
    written in the same transaction as the send, so two workers (the after-commit task and the
    sweep, or a retried task) never both send it: the second finds it locked or already sent. A
    failed send rolls back and leaves the e-mail due for the next try. (If the SMTP server accepted
    the message but the commit then failed, the next try sends it again: at least once, never lost.)
    The message is rendered in the recipient's language and time zone from
    `notifications/email/notification.txt` and `.html`."""
    with transaction.atomic():
        n = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=notification_id, email_requested=True, emailed_at__isnull=True)
            .first()
        )
        if n is None:
            return None
        user = get_user_model().objects.filter(pk=n.recipient_id).first()
        if user is None or not user.email or not user.is_active:
            # Nobody to write to: stop trying (the in-app row, if any, stays).
            Notification.objects.filter(pk=n.pk).update(email_requested=False)
            return None
        message = _email_message(n, user, connection=connection)
        try:
            message.send()
        except Exception:
            log.exception("notification e-mail failed", extra={"notification_id": n.pk})
            return False
        Notification.objects.filter(pk=n.pk).update(emailed_at=timezone.now())
        return True


def _email_message(n: Notification, user: Any, *, connection: Any = None) -> EmailMultiAlternatives:
    from django.template.loader import render_to_string
    from django.urls import reverse

    site = settings.SITE_URL.rstrip("/")
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    time_zone = getattr(user, "time_zone", "") or settings.TIME_ZONE
    with translation.override(language), timezone.override(time_zone):
        context = {
            "n": n,
            "user": user,
            "company_name": settings.KEHU_COMPANY_NAME,
            "open_url": site + n.url if n.url else "",
            "preferences_url": site + reverse("notifications:preferences"),
            "language": translation.get_language(),
        }
        text = render_to_string("notifications/email/notification.txt", context).strip() + "\n"
        html = render_to_string("notifications/email/notification.html", context)
        subject = f"[{settings.KEHU_COMPANY_NAME}] {n.title}".replace("\n", " ").replace("\r", " ")
    message = EmailMultiAlternatives(subject=subject, body=text, to=[user.email], connection=connection)
    message.attach_alternative(html, "text/html")
    return message


def notification_email_sweep(
    *, older_than_seconds: int = 120, max_age_hours: int = 24, limit: int = 500
) -> int:
    """Send e-mails still due (the after-commit task was lost or failed). Run by Celery beat."""
    now = timezone.now()
    ids = list(
        Notification.objects.filter(
            email_requested=True,
            emailed_at__isnull=True,
            created_at__lte=now - timedelta(seconds=older_than_seconds),
            created_at__gte=now - timedelta(hours=max_age_hours),
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    sent, _failed = notification_emails_send(ids=ids)
    return sent


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
