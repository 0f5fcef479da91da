"""Sending a quote by e-mail: `quote_send` validates and starts a background job; the Celery task
(`tasks.quote_send_email`) runs `quote_send_run`, which renders the PDF, sends it through Django's
mail backend, marks the quote sent (`services.quotes.quote_mark_sent`, channel "email") and writes
"quote e-mailed to …" on the quote's and its account's timeline. A failure is recorded on the job
(its message for the user) and on the timeline."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from kehu.audit.services import timeline_record
from kehu.core import owned
from kehu.core.choices import Action
from kehu.core.errors import ConflictError, DomainError
from kehu.core.models import Job
from kehu.core.services import job_create, job_run
from kehu.core.validators import normalise_email

from ..choices import QuoteStatus
from ..models import Quote

JOB_KIND = "quote_email"
EVENT_EMAILED = "quote.emailed"
EVENT_EMAIL_FAILED = "quote.email_failed"
MAX_RECIPIENTS = 20
SENDABLE = (QuoteStatus.APPROVED, QuoteStatus.SENT)


class QuoteNotSendableError(ConflictError):
    """The quote's status or version does not allow sending it (409)."""

    code = "quote_state"


class QuoteSendError(DomainError):
    """Bad input for sending a quote (addresses, subject, language)."""

    code = "quote_send_invalid"


def _clean_addresses(values: Iterable[str], field: str, errors: dict[str, list[str]]) -> list[str]:
    cleaned: list[str] = []
    for raw in values:
        raw = str(raw or "").strip()
        if not raw:
            continue
        try:
            address = normalise_email(raw)
        except ValidationError:
            errors.setdefault(field, []).append(
                _("“%(value)s” is not a valid e-mail address.") % {"value": raw[:100]}
            )
            continue
        if address and address not in cleaned:
            cleaned.append(address)
    return cleaned


def check_sendable(quote: Quote) -> None:
    """Only the latest version of an approved or sent quote goes to the customer."""
    if not quote.is_latest:
        raise QuoteNotSendableError(
            _("This is an earlier version of quote %(number)s: only the latest version can be sent.")
            % {"number": quote.number},
            code="quote_not_latest",
        )
    if quote.status not in SENDABLE:
        raise QuoteNotSendableError(
            _("Only an approved quote can be sent; quote %(number)s is %(status)s.")
            % {"number": quote.number, "status": quote.get_status_display().lower()},
            code="quote_not_sendable",
        )


@transaction.atomic
def quote_send(
    *,
    quote: Quote,
    by: Any,
    to: Iterable[str],
    cc: Iterable[str] = (),
    subject: str,
    message: str = "",
    language: str | None = None,
) -> Job:
    """Validate and start sending `quote` as a PDF attachment to `to` (and `cc`). Returns the
    background job; the e-mail goes out after the transaction commits."""
    current = Quote.objects.select_for_update().get(pk=quote.pk)
    owned.check_action(by, Quote, Action.CHANGE, obj=current)
    check_sendable(current)
    errors: dict[str, list[str]] = {}
    recipients = _clean_addresses(to, "to", errors)
    copies = [a for a in _clean_addresses(cc, "cc", errors) if a not in recipients]
    if not recipients and "to" not in errors:
        errors["to"] = [_("Enter at least one e-mail address.")]
    if len(recipients) + len(copies) > MAX_RECIPIENTS:
        errors.setdefault("to", []).append(
            _("At most %(count)d recipients in all.") % {"count": MAX_RECIPIENTS}
        )
    subject = str(subject or "").strip()
    if not subject:
        errors["subject"] = [_("Enter a subject.")]
    elif len(subject) > 200:
        errors["subject"] = [_("At most %(limit)d characters.") % {"limit": 200}]
    language = language or current.language or settings.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        errors["language"] = [_("Choose Chinese or English.")]
    if errors:
        raise QuoteSendError(_("Some fields are not valid."), fields=errors)
    job = job_create(
        kind=JOB_KIND,
        owner=by,
        title=_("E-mail quote %(number)s") % {"number": str(current)},
        params={
            "quote_id": current.pk,
            "to": recipients,
            "cc": copies,
            "subject": subject,
            "message": str(message or ""),
            "language": language,
        },
        total=1,
    )
    transaction.on_commit(lambda: _schedule(job.pk))
    return job


def _schedule(job_id: int) -> None:
    from ..tasks import quote_send_email

    quote_send_email.delay(job_id)


def _reply_to(user: Any) -> list[str]:
    email = getattr(user, "email", "") or ""
    return [email] if email else []


def quote_send_run(*, job_id: int, task_id: str = "") -> Job | None:
    """The body of the sending task: load by id, render, send, mark sent. Idempotent: a job that
    already ended (a redelivered task) does nothing."""
    from ..pdf import quote_pdf, quote_pdf_filename
    from .quotes import quote_mark_sent

    job = Job.objects.select_related("owner").filter(pk=job_id).first()
    if job is None or job.is_finished:
        return job
    user = job.owner
    params = job.params
    recipients: list[str] = list(params.get("to") or [])
    copies: list[str] = list(params.get("cc") or [])
    language = str(params.get("language") or settings.LANGUAGE_CODE)
    quote = Quote.objects.select_related("account").filter(pk=params.get("quote_id")).first()

    def work(job: Job, progress: Callable[..., None]) -> dict[str, Any]:
        if quote is None:
            raise QuoteSendError(_("The quote no longer exists."), code="quote_missing")
        try:
            check_sendable(quote)
            pdf = quote_pdf(quote, language=language)
            email = EmailMessage(
                subject=str(params.get("subject") or ""),
                body=str(params.get("message") or ""),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=recipients,
                cc=copies,
                reply_to=_reply_to(user),
            )
            email.attach(quote_pdf_filename(quote, language), pdf, "application/pdf")
            email.send(fail_silently=False)
        except Exception as exc:
            _record_failure(quote, user, recipients, exc)
            raise
        with transaction.atomic():
            timeline_record(
                event=EVENT_EMAILED,
                obj=quote,
                by=user,
                account_id=quote.account_id,
                data={
                    "title": _("Quote e-mailed to %(to)s") % {"to": ", ".join(recipients)},
                    "to": recipients,
                    "cc": copies,
                    "subject": str(params.get("subject") or ""),
                    "language": language,
                },
            )
            quote_mark_sent(quote=quote, by=user, channel="email")
        progress(1)
        return {
            "message": _("Quote %(number)s e-mailed to %(to)s.")
            % {"number": str(quote), "to": ", ".join(recipients)},
            "result": {"quote_id": quote.pk, "to": recipients, "cc": copies},
        }

    with translation.override(getattr(user, "language", "") or settings.LANGUAGE_CODE):
        return job_run(job_id, work, task_id=task_id)


def _record_failure(quote: Quote, user: Any, recipients: list[str], exc: Exception) -> None:
    reason = str(exc.message) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
    timeline_record(
        event=EVENT_EMAIL_FAILED,
        obj=quote,
        by=user,
        account_id=quote.account_id,
        data={
            "title": _("Quote could not be e-mailed to %(to)s") % {"to": ", ".join(recipients)},
            "body": reason[:1000],
            "to": recipients,
        },
    )
