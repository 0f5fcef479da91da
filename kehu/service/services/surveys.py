"""Satisfaction surveys (满意度调查): CSAT invitations after resolution, NPS runs, answers.

* `csat_on_ticket_resolved` (after commit, from the resolve path): one invitation per ticket (the
  invitation's unique constraint), e-mailed to the ticket's contact or requester in their language.
* NPS surveys have an audience (the contact list's filters) and a schedule; `surveys_run_due` (beat)
  starts a background job per due run, `survey_send_now` one at once; a run creates one invitation
  per contact (unique per run: a retried run sends nobody twice), skipping contacts flagged
  "do not e-mail" and those without an address.
* `survey_answer` (public page): one answer per invitation and per ticket (unique constraints), the
  score in the survey's range; a second answer is refused and changes nothing.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from kehu.audit.services import timeline_record
from kehu.core.choices import Action, JobStatus
from kehu.core.models import Job
from kehu.core.services import job_create, job_run

from ..choices import SurveyFrequency, SurveyKind
from ..models import Survey, SurveyInvitation, SurveyResponse, Ticket
from .common import ServiceError

log = logging.getLogger(__name__)

JOB_KIND = "service.survey_run"
EVENT_ANSWERED = "survey.answered"
SIGNING_SALT = "kehu.service.survey"
BATCH = 500
SEND_AGAIN_AFTER = dt.timedelta(minutes=10)  # "Send now" waits this long after a sending started
SCORE_RANGE = {SurveyKind.CSAT: (1, 5), SurveyKind.NPS: (0, 10)}
FALLBACK_LANGUAGE = "zh-hans"
COMMENT_MAX = 4000
SURVEY_FIELDS = frozenset(
    {
        "kind",
        "name",
        "name_en",
        "question",
        "question_en",
        "is_active",
        "send_on_resolve",
        "audience",
        "frequency",
        "next_run_at",
        "valid_days",
    }
)


class SurveyError(ServiceError):
    ALREADY_ANSWERED = "already_answered"
    EXPIRED = "link_expired"
    BAD_LINK = "bad_link"
    OUT_OF_RANGE = "score_out_of_range"
    NOT_NPS = "not_nps"
    IN_USE = "survey_in_use"
    SENDING = "survey_sending"


# --- links ------------------------------------------------------------------------------------


def invitation_signed(invitation: SurveyInvitation) -> str:
    """The token signed (so a link that was altered is told apart from one that never existed)."""
    return signing.dumps(invitation.token, salt=SIGNING_SALT, compress=False)


def invitation_from_signed(value: str) -> SurveyInvitation:
    """The invitation of a signed link; SurveyError BAD_LINK when it was tampered with or is unknown."""
    try:
        token = signing.loads(value, salt=SIGNING_SALT)
    except signing.BadSignature:
        raise SurveyError(
            _("This survey link is not valid."), code=SurveyError.BAD_LINK, status=404
        ) from None
    invitation = (
        SurveyInvitation.objects.select_related("survey", "ticket", "account", "contact")
        .filter(token=str(token))
        .first()
    )
    if invitation is None:
        raise SurveyError(_("This survey link is not valid."), code=SurveyError.BAD_LINK, status=404)
    return invitation


def invitation_url(invitation: SurveyInvitation, *, score: int | None = None) -> str:
    """The absolute answer link (score pre-selects a rating: the e-mail's star buttons)."""
    path = reverse("help:survey_answer", args=[invitation_signed(invitation)])
    if score is not None:
        path += f"?score={score}"
    base = str(getattr(settings, "SITE_URL", "") or "").rstrip("/")
    return f"{base}{path}"


# --- invitations and e-mail -------------------------------------------------------------------


def _language_of(*records: Any) -> str:
    """The first preferred language among the records (contact, account), else Chinese."""
    known = dict(settings.LANGUAGES)
    for record in records:
        value = str(getattr(record, "language", "") or "").lower() if record is not None else ""
        if value in known:
            return value
    return FALLBACK_LANGUAGE


def csat_survey() -> Survey | None:
    """The survey sent when tickets are resolved: the active CSAT one with the lowest id."""
    return (
        Survey.objects.filter(kind=SurveyKind.CSAT, is_active=True, send_on_resolve=True)
        .order_by("id")
        .first()
    )


def _ticket_address(ticket: Ticket) -> str:
    contact = ticket.contact
    if contact is not None:
        if contact.do_not_email:
            return ""
        if contact.email:
            return str(contact.email)
    return str(ticket.requester_email or "")


def csat_on_ticket_resolved(*, ticket: Ticket) -> None:
    """Called (after commit) when a ticket is resolved: invite its requester to rate it, once per
    ticket, when a CSAT survey sends on resolve and the ticket has an address."""
    ticket = Ticket.objects.select_related("contact", "account").filter(pk=ticket.pk).first()  # type: ignore[assignment]
    if ticket is None or ticket.is_open:
        return None
    survey = csat_survey()
    email = _ticket_address(ticket)
    if survey is None or not email:
        return None
    now = timezone.now()
    try:
        with transaction.atomic():
            invitation, created = SurveyInvitation.objects.get_or_create(
                survey=survey,
                ticket=ticket,
                defaults={
                    "account_id": ticket.account_id,
                    "contact_id": ticket.contact_id,
                    "email": email,
                    "language": _language_of(ticket.contact, ticket.account),
                    "expires_at": now + dt.timedelta(days=survey.valid_days),
                },
            )
    except IntegrityError:  # a parallel resolve created it first
        return None
    if created or (invitation.sent_at is None and not invitation.send_error):
        invitation_send(invitation=invitation)
    return None


def _email_context(invitation: SurveyInvitation) -> dict[str, Any]:
    survey = invitation.survey
    low, high = SCORE_RANGE[SurveyKind(survey.kind)]
    return {
        "invitation": invitation,
        "survey": survey,
        "ticket": invitation.ticket,
        "contact": invitation.contact,
        "scores": [(score, invitation_url(invitation, score=score)) for score in range(low, high + 1)],
        "url": invitation_url(invitation),
        "expires_at": invitation.expires_at,
        "company": getattr(settings, "KEHU_COMPANY_NAME", "") or "Kehu",
    }


def _question(survey: Survey) -> str:
    english = translation.get_language() == "en"
    if english and survey.question_en:
        return survey.question_en
    if survey.question:
        return survey.question
    if survey.kind == SurveyKind.CSAT:
        return _("How satisfied are you with how we handled your request?")
    return _("How likely are you to recommend us to a friend or colleague?")


def _render(invitation: SurveyInvitation, language: str) -> tuple[str, str, str]:
    with translation.override(language):
        context = {**_email_context(invitation), "question": _question(invitation.survey)}
        if invitation.ticket is not None:
            subject = _("How did we do? Ticket %(number)s") % {"number": invitation.ticket.number}
        else:
            subject = _("A quick question from %(company)s") % {"company": context["company"]}
        text = render_to_string("service/surveys/email.txt", context)
        html = render_to_string("service/surveys/_email_body.html", context)
    return subject, text, html


def invitation_message(invitation: SurveyInvitation, *, connection: Any = None) -> EmailMultiAlternatives:
    """The bilingual e-mail: the invitation's language first, the other below it."""
    first = invitation.language or FALLBACK_LANGUAGE
    other = "en" if first != "en" else FALLBACK_LANGUAGE
    subject, text, html = _render(invitation, first)
    _s, text2, html2 = _render(invitation, other)
    with translation.override(first):
        body_html = render_to_string(
            "service/surveys/email.html", {"parts": [html, html2], "subject": subject, "lang": first}
        )
    message = EmailMultiAlternatives(
        subject=subject,
        body=f"{text}\n\n-- \n\n{text2}",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
        connection=connection,
    )
    message.attach_alternative(body_html, "text/html")
    return message


def invitation_send(*, invitation: SurveyInvitation, connection: Any = None) -> bool:
    """E-mail one invitation; records sent_at or the error (never raises for a mail failure).
    False also when another job already claimed (sent) it: see `_claim_and_send`."""
    return bool(_claim_and_send(invitation, connection=connection))


def _claim_and_send(invitation: SurveyInvitation, *, connection: Any = None) -> bool | None:
    """Claim the invitation (a conditional UPDATE setting sent_at while it is still empty), then
    e-mail it: overlapping or retried jobs never send one twice. None when it was already claimed;
    False when the mail failed (the claim is undone and the error recorded); True when sent."""
    now = timezone.now()
    claimed = SurveyInvitation.objects.filter(pk=invitation.pk, sent_at__isnull=True).update(sent_at=now)
    if not claimed:
        return None
    try:
        invitation_message(invitation, connection=connection).send(fail_silently=False)
    except Exception as exc:  # an SMTP failure is recorded on the invitation, not raised
        log.warning("survey invitation not sent", extra={"invitation_id": invitation.pk})
        error = f"{type(exc).__name__}: {exc}"[:500]
        SurveyInvitation.objects.filter(pk=invitation.pk).update(sent_at=None, send_error=error)
        invitation.sent_at, invitation.send_error = None, error
        return False
    SurveyInvitation.objects.filter(pk=invitation.pk).update(send_error="")
    invitation.sent_at, invitation.send_error = now, ""
    return True


# --- answers ----------------------------------------------------------------------------------


def score_range(kind: str) -> tuple[int, int]:
    return SCORE_RANGE[SurveyKind(kind)]


def _clean_score(kind: str, score: Any) -> int:
    low, high = score_range(kind)
    try:
        value = int(score)
        if str(score).strip() != str(value):
            raise ValueError
    except (TypeError, ValueError):
        value = -1
    if not low <= value <= high:
        message = _("Choose a score from %(low)d to %(high)d.") % {"low": low, "high": high}
        raise SurveyError(message, code=SurveyError.OUT_OF_RANGE, fields={"score": [message]})
    return value


def invitation_check_open(invitation: SurveyInvitation, *, now: dt.datetime | None = None) -> None:
    """Refuse an answered or expired invitation (already answered first: it is the clearer news)."""
    now = now or timezone.now()
    if invitation.answered_at is not None:
        raise SurveyError(
            _("This survey has already been answered. Thank you!"),
            code=SurveyError.ALREADY_ANSWERED,
            status=409,
        )
    if invitation.expires_at <= now:
        raise SurveyError(
            _("This survey link has expired."),
            code=SurveyError.EXPIRED,
            status=410,
        )


def survey_answer(
    *, invitation: SurveyInvitation, score: Any, comment: str = "", now: dt.datetime | None = None
) -> SurveyResponse:
    """Record the customer's answer: one per invitation (and per ticket for CSAT)."""
    now = now or timezone.now()
    comment = str(comment or "").strip()
    if len(comment) > COMMENT_MAX:
        message = _("At most %(limit)d characters.") % {"limit": COMMENT_MAX}
        raise SurveyError(message, code="invalid", fields={"comment": [message]})
    with transaction.atomic():
        current = (
            SurveyInvitation.objects.select_for_update(of=("self",))
            .select_related("survey", "ticket")
            .get(pk=invitation.pk)
        )
        invitation_check_open(current, now=now)
        survey = current.survey
        value = _clean_score(survey.kind, score)
        ticket = current.ticket
        try:
            with transaction.atomic():
                response = SurveyResponse.objects.create(
                    survey=survey,
                    kind=survey.kind,
                    invitation=current,
                    ticket=ticket,
                    account_id=current.account_id or getattr(ticket, "account_id", None),
                    contact_id=current.contact_id or getattr(ticket, "contact_id", None),
                    agent_id=getattr(ticket, "assignee_id", None),
                    score=value,
                    comment=comment,
                    created_at=now,
                )
        except IntegrityError:  # answered meanwhile (the invitation or the ticket already has one)
            raise SurveyError(
                _("This survey has already been answered. Thank you!"),
                code=SurveyError.ALREADY_ANSWERED,
                status=409,
            ) from None
        current.answered_at = now
        current.save(update_fields=["answered_at"])
        if response.account_id:
            timeline_record(
                event=EVENT_ANSWERED,
                obj=response,
                by=None,
                account_id=response.account_id,
                contact_id=response.contact_id,
                occurred_at=now,
                data={
                    "kind": survey.kind,
                    "score": value,
                    "comment": comment[:500],
                    "survey": survey.pk,
                    "ticket": getattr(ticket, "number", ""),
                },
            )
    return response


# --- surveys (settings) -----------------------------------------------------------------------


def _audience_errors(audience: Any) -> list[str]:
    from kehu.customers.filtersets import ContactFilterSet
    from kehu.customers.models import Contact

    if not isinstance(audience, Mapping):
        return [_("The audience must be a set of contact filters.")]
    filterset = ContactFilterSet(_querydict(audience), queryset=Contact.objects.none())
    if filterset.is_valid():
        return []
    return [f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in filterset.errors.items()]


def _querydict(params: Mapping[str, Any]) -> Any:
    from kehu.core.exports import params_querydict

    return params_querydict(dict(params))


def _check_survey(survey: Survey) -> None:
    errors: dict[str, list[str]] = {}
    if survey.kind not in SurveyKind.values:
        errors["kind"] = [_("Choose CSAT or NPS.")]
    if not str(survey.name or "").strip():
        errors["name"] = [_("Enter a name.")]
    if survey.frequency not in SurveyFrequency.values:
        errors["frequency"] = [_("Choose how often to send.")]
    if not survey.valid_days or survey.valid_days < 1 or survey.valid_days > 365:
        errors["valid_days"] = [_("From 1 to 365 days.")]
    if survey.kind == SurveyKind.NPS:
        problems = _audience_errors(survey.audience)
        if problems:
            errors["audience"] = problems
        if survey.send_on_resolve:
            errors["send_on_resolve"] = [_("Only a CSAT survey is sent when tickets are resolved.")]
    if errors:
        raise SurveyError(_("Some fields are not valid."), fields=errors)


def _check_can(by: Any, action: str) -> None:
    from kehu.core import owned

    if by is not None:
        owned.check_action(by, Survey, action)


@transaction.atomic
def survey_create(*, by: Any, data: Mapping[str, Any]) -> Survey:
    _check_can(by, Action.ADD)
    unknown = set(data) - SURVEY_FIELDS
    if unknown:
        raise SurveyError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    survey = Survey(created_by=by if getattr(by, "pk", None) else None)
    for name, value in data.items():
        setattr(survey, name, value if value is not None or name == "next_run_at" else getattr(survey, name))
    survey.audience = dict(survey.audience or {})
    _check_survey(survey)
    survey.save()
    return survey


@transaction.atomic
def survey_update(*, survey: Survey, by: Any, data: Mapping[str, Any]) -> Survey:
    _check_can(by, Action.CHANGE)
    unknown = set(data) - SURVEY_FIELDS
    if unknown:
        raise SurveyError(_("Unknown fields: %(names)s") % {"names": ", ".join(sorted(unknown))})
    current = Survey.objects.select_for_update().get(pk=survey.pk)
    if "kind" in data and data["kind"] != current.kind and current.responses.exists():
        message = _("A survey with answers keeps its kind.")
        raise SurveyError(message, code=SurveyError.IN_USE, fields={"kind": [message]})
    for name, value in data.items():
        setattr(current, name, value)
    current.audience = dict(current.audience or {})
    _check_survey(current)
    current.save()
    return current


@transaction.atomic
def survey_delete(*, survey: Survey, by: Any) -> None:
    _check_can(by, Action.DELETE)
    if SurveyResponse.objects.filter(survey=survey).exists():
        raise SurveyError(
            _("This survey has answers: make it inactive instead of deleting it."),
            code=SurveyError.IN_USE,
            status=409,
        )
    survey.delete()


# --- NPS runs ---------------------------------------------------------------------------------


def next_run(after: dt.datetime, frequency: str) -> dt.datetime | None:
    """The sending after `after` for the schedule (None once sent when it runs once)."""
    months = {SurveyFrequency.MONTHLY: 1, SurveyFrequency.QUARTERLY: 3, SurveyFrequency.YEARLY: 12}.get(
        SurveyFrequency(frequency)
    )
    if months is None:
        return None
    month0 = after.month - 1 + months
    year, month = after.year + month0 // 12, month0 % 12 + 1
    day = min(after.day, calendar.monthrange(year, month)[1])
    return after.replace(year=year, month=month, day=day)


def _author_active(survey: Survey) -> bool:
    return survey.created_by_id is not None and survey.created_by is not None and survey.created_by.is_active


def survey_audience(survey: Survey) -> Any:
    """The contacts a run reaches: the audience filters over the contacts the survey's author may
    see (nobody when it has no author or the author is deactivated), with an e-mail address and
    not "do not e-mail"."""
    from kehu.customers.filtersets import ContactFilterSet
    from kehu.customers.models import Contact

    if not _author_active(survey):
        return Contact.objects.none()
    base = Contact.objects.restrict(survey.created_by, Action.VIEW)
    filterset = ContactFilterSet(_querydict(survey.audience or {}), queryset=base)
    qs = filterset.qs if filterset.is_valid() else base.none()
    return qs.filter(do_not_email=False).exclude(email="")


def _start_run(survey: Survey, run: dt.datetime, owner: Any) -> Job:
    job = job_create(
        kind=JOB_KIND,
        owner=owner,
        title=_("Send survey “%(name)s”") % {"name": survey.name},
        params={"survey_id": survey.pk, "run": run.isoformat()},
    )
    transaction.on_commit(lambda: _schedule(job.pk))
    return job


def _schedule(job_id: int) -> None:
    from ..tasks_surveys import survey_run

    survey_run.delay(job_id)


def _sending_recently(survey: Survey) -> bool:
    """Whether a sending of `survey` (its own or the schedule's) is queued or running, or was
    started less than `SEND_AGAIN_AFTER` ago: a second click or an API retry would be a run of its
    own (its moment differs by a second) and e-mail everyone again."""
    since = timezone.now() - SEND_AGAIN_AFTER
    return (
        Job.objects.filter(kind=JOB_KIND, params__survey_id=survey.pk)
        .filter(
            Q(status__in=(JobStatus.PENDING, JobStatus.RUNNING))
            | Q(created_at__gte=since)
            | Q(started_at__gte=since)
        )
        .exists()
    )


@transaction.atomic
def survey_send_now(*, survey: Survey, by: Any, now: dt.datetime | None = None) -> Job:
    """Start a sending of an NPS survey at once (a run of its own, besides the schedule). Refused
    while another sending of it is queued or running or started less than `SEND_AGAIN_AFTER` ago
    (checked under the survey's row lock, so two clicks at once start one sending)."""
    _check_can(by, Action.CHANGE)
    current = Survey.objects.select_for_update().get(pk=survey.pk)
    if current.kind != SurveyKind.NPS:
        raise SurveyError(
            _("Only NPS surveys are sent to a list; CSAT goes out when tickets are resolved."),
            code=SurveyError.NOT_NPS,
        )
    if not current.is_active:
        raise SurveyError(_("Activate the survey before sending it."), code="inactive")
    if _sending_recently(current):
        raise SurveyError(
            _(
                "This survey is being sent or was sent less than %(minutes)s minutes ago: "
                "follow the sending under Jobs and try again later."
            )
            % {"minutes": int(SEND_AGAIN_AFTER.total_seconds() // 60)},
            code=SurveyError.SENDING,
            status=409,
        )
    now = (now or timezone.now()).replace(microsecond=0)
    current.last_run_at = now
    current.save(update_fields=["last_run_at", "updated_at"])
    return _start_run(current, now, by)


def surveys_run_due(*, now: dt.datetime | None = None) -> list[int]:
    """Start the due sendings of NPS surveys (beat). The run is the scheduled moment, so a run
    that starts twice creates each invitation once. Returns the jobs started."""
    now = now or timezone.now()
    jobs: list[int] = []
    due = Survey.objects.filter(
        kind=SurveyKind.NPS, is_active=True, next_run_at__isnull=False, next_run_at__lte=now
    ).values_list("pk", flat=True)
    for pk in list(due):
        with transaction.atomic():
            survey = (
                Survey.objects.select_for_update(of=("self",))
                .select_related("created_by")
                .filter(pk=pk, next_run_at__lte=now, is_active=True)
                .first()
            )
            if survey is None or survey.next_run_at is None:
                continue
            run = survey.next_run_at
            following = next_run(run, survey.frequency)
            while following is not None and following <= now:  # beat was down: skip missed runs
                following = next_run(following, survey.frequency)
            survey.next_run_at = following
            survey.last_run_at = now
            survey.save(update_fields=["next_run_at", "last_run_at", "updated_at"])
            jobs.append(_start_run(survey, run, survey.created_by).pk)
    return jobs


def survey_run_invite(
    *, survey: Survey, run: dt.datetime, progress: Callable[..., None] | None = None
) -> dict[str, int]:
    """Create the run's invitations (one per contact: the unique constraint) and e-mail those not
    sent yet. Idempotent: a retried run sends nobody twice."""
    contacts = survey_audience(survey).order_by("pk")
    total = contacts.count()
    created = sent = failed = done = 0
    expires = run + dt.timedelta(days=survey.valid_days)
    last = 0
    connection = get_connection()
    while True:
        batch = list(contacts.filter(pk__gt=last).select_related("account")[:BATCH])
        if not batch:
            break
        last = batch[-1].pk
        ids = [contact.pk for contact in batch]
        have = set(
            SurveyInvitation.objects.filter(survey=survey, run=run, contact_id__in=ids).values_list(
                "contact_id", flat=True
            )
        )
        rows = [
            SurveyInvitation(
                survey=survey,
                run=run,
                contact_id=contact.pk,
                account_id=contact.account_id,
                email=contact.email,
                language=_language_of(contact, contact.account),
                expires_at=expires,
            )
            for contact in batch
            if contact.pk not in have
        ]
        SurveyInvitation.objects.bulk_create(rows, ignore_conflicts=True)
        created += len(rows)
        pending = SurveyInvitation.objects.filter(
            survey=survey, run=run, contact_id__in=ids, sent_at__isnull=True, send_error=""
        ).select_related("survey", "contact")
        for invitation in pending:
            outcome = _claim_and_send(invitation, connection=connection)
            if outcome is True:
                sent += 1
            elif outcome is False:
                failed += 1
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return {"contacts": total, "created": created, "sent": sent, "failed": failed}


def survey_run_job(*, job_id: int, task_id: str = "") -> Job | None:
    """The body of the sending task: load by id and invite. Idempotent."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_finished:
        return job
    params = job.params

    def work(job: Job, progress: Callable[..., None]) -> dict[str, Any]:
        survey = Survey.objects.select_related("created_by").filter(pk=params.get("survey_id")).first()
        if survey is None:
            raise SurveyError(_("The survey no longer exists."), code="survey_missing")
        run = dt.datetime.fromisoformat(str(params["run"]))
        if not _author_active(survey):
            return {
                "message": _(
                    "Nobody was invited: the survey's author is missing or deactivated, so no "
                    "audience could be chosen. Let an active user save the survey and send it again."
                ),
                "result": {"contacts": 0, "created": 0, "sent": 0, "failed": 0},
            }
        counts = survey_run_invite(survey=survey, run=run, progress=progress)
        return {
            "message": _("%(sent)d invitations sent, %(failed)d failed.") % counts,
            "result": counts,
        }

    return job_run(job_id, work, task_id=task_id)
