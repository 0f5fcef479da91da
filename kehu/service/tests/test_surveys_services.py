"""Satisfaction surveys: CSAT on resolve (once per ticket), answering (one answer, range, expired
and tampered links), NPS runs (idempotent per run, do-not-e-mail skipped) and the scores."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.core import mail, signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.service.choices import SurveyFrequency, SurveyKind
from kehu.service.models import SurveyInvitation, SurveyResponse
from kehu.service.selectors.surveys import account_satisfaction, nps_score, survey_score, ticket_csat
from kehu.service.services import surveys as services
from kehu.service.services.surveys import SurveyError
from kehu.service.tests.factories import TicketFactory, status
from kehu.service.tests.factories_surveys import InvitationFactory, SurveyFactory, csat, response

pytestmark = pytest.mark.django_db


def resolved_ticket(company: Any, **kwargs: Any) -> Any:
    account = AccountFactory.create(owner=company.rep1)
    contact = ContactFactory.create(owner=company.rep1, account=account, email="li.lei@example.com")
    defaults = {
        "assignee": company.rep2,
        "account": account,
        "contact": contact,
        "status": status("resolved"),
        "resolved_at": timezone.now(),
    }
    return TicketFactory.create(**{**defaults, **kwargs})


# --- CSAT on resolve ----------------------------------------------------------------------------


def test_csat_on_resolve_invites_once_and_emails_a_bilingual_message(company: Any) -> None:
    ticket = resolved_ticket(company)
    services.csat_on_ticket_resolved(ticket=ticket)
    services.csat_on_ticket_resolved(ticket=ticket)  # a retried task, a second resolve

    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation.survey == csat()
    assert invitation.email == "li.lei@example.com"
    assert invitation.contact == ticket.contact and invitation.account == ticket.account
    assert invitation.language == "zh-hans"
    assert invitation.sent_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["li.lei@example.com"]
    assert ticket.number in message.subject
    html = str(message.alternatives[0][0])  # type: ignore[attr-defined]
    links = re.findall(r'href="[^"]*/help/survey/([^/"]+)/\?score=(\d+)"', html)
    assert [int(score) for _signed, score in links] == [1, 2, 3, 4, 5] * 2  # both languages
    assert {services.invitation_from_signed(signed) for signed, _score in links} == {invitation}
    assert "您对本次服务满意吗" in message.body and "How satisfied are you" in message.body


def test_csat_not_sent_for_open_ticket_or_without_address_or_do_not_email(company: Any) -> None:
    open_ticket = resolved_ticket(
        company, status=status("in_progress"), state="in_progress", resolved_at=None
    )
    services.csat_on_ticket_resolved(ticket=open_ticket)
    no_address = resolved_ticket(company, contact=None, requester_email="")
    services.csat_on_ticket_resolved(ticket=no_address)
    blocked = resolved_ticket(company)
    blocked.contact.do_not_email = True
    blocked.contact.save()
    services.csat_on_ticket_resolved(ticket=blocked)
    assert not SurveyInvitation.objects.exists()
    assert mail.outbox == []


def test_csat_falls_back_to_requester_email(company: Any) -> None:
    ticket = resolved_ticket(company, contact=None, requester_email="walk.in@example.com")
    services.csat_on_ticket_resolved(ticket=ticket)
    assert SurveyInvitation.objects.get(ticket=ticket).email == "walk.in@example.com"


def test_one_invitation_per_ticket_is_a_database_rule(company: Any) -> None:
    ticket = resolved_ticket(company)
    InvitationFactory.create(survey=csat(), ticket=ticket)
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory.create(survey=csat(), ticket=ticket)


# --- answering ----------------------------------------------------------------------------------


def test_answer_records_agent_account_contact_and_shows_on_ticket(company: Any) -> None:
    ticket = resolved_ticket(company)
    services.csat_on_ticket_resolved(ticket=ticket)
    invitation = SurveyInvitation.objects.get(ticket=ticket)

    answer = services.survey_answer(invitation=invitation, score=4, comment=" 很好 ")

    assert (answer.score, answer.comment, answer.kind) == (4, "很好", "csat")
    assert answer.agent == company.rep2
    assert answer.account == ticket.account and answer.contact == ticket.contact
    invitation.refresh_from_db()
    assert invitation.answered_at is not None
    assert ticket_csat(ticket) == answer


def test_second_answer_is_refused_and_changes_nothing(company: Any) -> None:
    ticket = resolved_ticket(company)
    invitation = InvitationFactory.create(survey=csat(), ticket=ticket, account=ticket.account)
    services.survey_answer(invitation=invitation, score=5)
    with pytest.raises(SurveyError) as refused:
        services.survey_answer(invitation=invitation, score=1, comment="改主意了")
    assert refused.value.code == SurveyError.ALREADY_ANSWERED
    assert list(SurveyResponse.objects.values_list("score", "comment")) == [(5, "")]


def test_a_ticket_has_one_csat_answer_even_through_a_second_invitation(company: Any) -> None:
    """The database refuses a second CSAT answer for the ticket (race-safe)."""
    ticket = resolved_ticket(company)
    other_survey = SurveyFactory.create(kind=SurveyKind.CSAT)
    first = InvitationFactory.create(survey=csat(), ticket=ticket)
    second = InvitationFactory.create(survey=other_survey, ticket=ticket)
    services.survey_answer(invitation=first, score=3)
    with pytest.raises(SurveyError) as refused:
        services.survey_answer(invitation=second, score=2)
    assert refused.value.code == SurveyError.ALREADY_ANSWERED
    assert SurveyResponse.objects.count() == 1
    second.refresh_from_db()
    assert second.answered_at is None


@pytest.mark.parametrize("score", [0, 6, -1, "abc", "", None, "4.5", 99])
def test_csat_score_out_of_range_is_refused(company: Any, score: Any) -> None:
    invitation = InvitationFactory.create(survey=csat())
    with pytest.raises(SurveyError) as refused:
        services.survey_answer(invitation=invitation, score=score)
    assert refused.value.code == SurveyError.OUT_OF_RANGE
    assert "score" in refused.value.fields
    assert not SurveyResponse.objects.exists()
    invitation.refresh_from_db()
    assert invitation.answered_at is None


@pytest.mark.parametrize(("score", "ok"), [(0, True), (10, True), (11, False), (-1, False)])
def test_nps_range(company: Any, score: int, ok: bool) -> None:
    invitation = InvitationFactory.create(survey=SurveyFactory.create(kind=SurveyKind.NPS))
    if ok:
        assert services.survey_answer(invitation=invitation, score=score).score == score
    else:
        with pytest.raises(SurveyError):
            services.survey_answer(invitation=invitation, score=score)
        assert not SurveyResponse.objects.exists()


def test_score_range_is_a_database_rule(company: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        response(csat(), 6)


def test_expired_link_is_refused(company: Any) -> None:
    invitation = InvitationFactory.create(survey=csat(), expires_at=timezone.now() - dt.timedelta(minutes=1))
    with pytest.raises(SurveyError) as refused:
        services.survey_answer(invitation=invitation, score=5)
    assert refused.value.code == SurveyError.EXPIRED
    assert not SurveyResponse.objects.exists()


def test_tampered_and_unknown_links_are_refused(company: Any) -> None:
    invitation = InvitationFactory.create(survey=csat())
    signed = services.invitation_signed(invitation)
    assert services.invitation_from_signed(signed) == invitation
    tampered = signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")
    for value in (
        tampered,
        invitation.token,
        "x",
        signing.dumps("no-such-token", salt=services.SIGNING_SALT),
    ):
        with pytest.raises(SurveyError) as refused:
            services.invitation_from_signed(value)
        assert refused.value.code == SurveyError.BAD_LINK


def test_comment_too_long_is_refused(company: Any) -> None:
    invitation = InvitationFactory.create(survey=csat())
    with pytest.raises(SurveyError) as refused:
        services.survey_answer(invitation=invitation, score=5, comment="长" * 4001)
    assert "comment" in refused.value.fields
    assert not SurveyResponse.objects.exists()


# --- NPS runs -----------------------------------------------------------------------------------


def nps_audience(company: Any) -> dict[str, Any]:
    account = AccountFactory.create(owner=company.rep1)
    keep = ContactFactory.create(owner=company.rep1, account=account, email="a@example.com", title="采购经理")
    blocked = ContactFactory.create(
        owner=company.rep1, account=account, email="b@example.com", do_not_email=True, title="采购主管"
    )
    no_email = ContactFactory.create(owner=company.rep1, account=account, email="", title="采购")
    other = ContactFactory.create(owner=company.rep1, account=account, email="c@example.com", title="财务")
    return {"keep": keep, "blocked": blocked, "no_email": no_email, "other": other, "account": account}


def test_nps_run_invites_the_audience_once_skipping_do_not_email(company: Any) -> None:
    people = nps_audience(company)
    survey = services.survey_create(
        by=company.admin,
        data={"kind": SurveyKind.NPS, "name": "年度 NPS", "audience": {"title": "采购"}},
    )
    run = timezone.now().replace(microsecond=0)
    counts = services.survey_run_invite(survey=survey, run=run)
    again = services.survey_run_invite(survey=survey, run=run)  # a retried job

    invitations = SurveyInvitation.objects.filter(survey=survey)
    assert list(invitations.values_list("contact_id", flat=True)) == [people["keep"].pk]
    assert counts == {"contacts": 1, "created": 1, "sent": 1, "failed": 0}
    assert again == {"contacts": 1, "created": 0, "sent": 0, "failed": 0}
    assert [m.to for m in mail.outbox] == [["a@example.com"]]
    invitation = invitations.get()
    assert invitation.account == people["account"]
    html = str(mail.outbox[0].alternatives[0][0])  # type: ignore[union-attr]
    assert "?score=0" in html and "?score=10" in html
    # A later run asks again.
    services.survey_run_invite(survey=survey, run=run + dt.timedelta(days=30))
    assert invitations.count() == 2


def test_one_invitation_per_contact_per_run_is_a_database_rule(company: Any) -> None:
    people = nps_audience(company)
    survey = SurveyFactory.create()
    run = timezone.now()
    InvitationFactory.create(survey=survey, run=run, contact=people["keep"])
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory.create(survey=survey, run=run, contact=people["keep"])


def test_due_runs_start_jobs_and_advance_the_schedule(
    company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    nps_audience(company)
    start = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    survey = services.survey_create(
        by=company.admin,
        data={
            "kind": SurveyKind.NPS,
            "name": "月度 NPS",
            "frequency": SurveyFrequency.MONTHLY,
            "next_run_at": start,
        },
    )
    not_due = services.survey_create(
        by=company.admin,
        data={"kind": SurveyKind.NPS, "name": "以后", "next_run_at": timezone.now() + dt.timedelta(days=1)},
    )
    with django_capture_on_commit_callbacks(execute=True):
        jobs = services.surveys_run_due()
    assert len(jobs) == 1
    survey.refresh_from_db()
    assert survey.next_run_at == services.next_run(start, SurveyFrequency.MONTHLY)
    assert survey.last_run_at is not None
    from kehu.core.models import Job

    job = Job.objects.get(pk=jobs[0])
    assert job.status == "succeeded", job.error
    assert job.result["sent"] == 2  # the contacts with an address, not do-not-e-mail
    assert SurveyInvitation.objects.filter(survey=survey, run=start).count() == 2
    assert not SurveyInvitation.objects.filter(survey=not_due).exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.surveys_run_due() == []


def test_once_survey_has_no_next_run(company: Any) -> None:
    assert services.next_run(timezone.now(), SurveyFrequency.ONCE) is None
    jan31 = dt.datetime(2026, 1, 31, 9, tzinfo=dt.UTC)
    assert services.next_run(jan31, SurveyFrequency.MONTHLY) == dt.datetime(2026, 2, 28, 9, tzinfo=dt.UTC)
    assert services.next_run(jan31, SurveyFrequency.QUARTERLY) == dt.datetime(2026, 4, 30, 9, tzinfo=dt.UTC)
    assert services.next_run(jan31, SurveyFrequency.YEARLY) == dt.datetime(2027, 1, 31, 9, tzinfo=dt.UTC)


def test_send_now_refuses_csat_and_inactive(company: Any) -> None:
    with pytest.raises(SurveyError) as refused:
        services.survey_send_now(survey=csat(), by=company.admin)
    assert refused.value.code == SurveyError.NOT_NPS
    inactive = SurveyFactory.create(is_active=False)
    with pytest.raises(SurveyError):
        services.survey_send_now(survey=inactive, by=company.admin)


def test_survey_create_validates_audience_and_fields(company: Any) -> None:
    with pytest.raises(SurveyError) as refused:
        services.survey_create(
            by=company.admin,
            data={
                "kind": SurveyKind.NPS,
                "name": " ",
                "audience": {"completeness_min": "many"},
                "valid_days": 0,
            },
        )
    assert {"name", "audience", "valid_days"} <= set(refused.value.fields)
    with pytest.raises(SurveyError):
        services.survey_create(by=company.admin, data={"kind": "nps", "name": "x", "send_on_resolve": True})
    from kehu.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        services.survey_create(by=company.nobody, data={"kind": "nps", "name": "x"})


def test_survey_with_answers_is_not_deleted(company: Any) -> None:
    survey = SurveyFactory.create()
    response(survey, 9)
    with pytest.raises(SurveyError):
        services.survey_delete(survey=survey, by=company.admin)
    empty = SurveyFactory.create()
    services.survey_delete(survey=empty, by=company.admin)


# --- scores -------------------------------------------------------------------------------------


def test_nps_is_promoters_minus_detractors() -> None:
    assert nps_score([]) is None
    assert nps_score([10, 9, 8, 7, 6, 0]) == 0
    assert nps_score([10, 10, 10, 6]) == 50
    assert nps_score([0, 1, 2, 9]) == -50


def test_survey_score_and_account_panel(company: Any) -> None:
    from kehu.users.tests.factories import grant

    account = AccountFactory.create(owner=company.rep1)
    nps = SurveyFactory.create()
    for score in (10, 9, 7, 3):
        response(nps, score, account=account)
    response(csat(), 4, account=account)
    response(csat(), 2, account=account)
    nps_result = survey_score(survey=nps)
    assert (
        nps_result.count,
        nps_result.promoters,
        nps_result.passives,
        nps_result.detractors,
        nps_result.nps,
    ) == (4, 2, 1, 1, 25)
    assert survey_score(survey=csat()).average == 3.0

    assert account_satisfaction(user=company.nobody, account_id=account.pk) is None  # no permission
    grant(company.role_rep, "service.surveyresponse", "view")
    panel = account_satisfaction(user=company.rep1, account_id=account.pk)
    assert panel is not None
    assert (panel["csat_average"], panel["csat_count"], panel["nps"], panel["nps_count"]) == (3.0, 2, 25, 4)
    assert len(panel["recent"]) == 5


def test_resolving_through_the_ticket_service_invites_once(
    company: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from kehu.service.services.tickets import allowed_next, ticket_move

    ticket = resolved_ticket(company, status=status("in_progress"), state="in_progress", resolved_at=None)
    resolved = status("resolved")
    assert resolved in allowed_next(ticket)
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_move(ticket=ticket, by=company.admin, status=resolved)
    assert SurveyInvitation.objects.filter(ticket=ticket).count() == 1
    assert len(mail.outbox) == 1
    reopen = next(s for s in allowed_next(ticket) if s.state not in ("resolved", "closed"))
    with django_capture_on_commit_callbacks(execute=True):
        ticket = ticket_move(ticket=ticket, by=company.admin, status=reopen)
    with django_capture_on_commit_callbacks(execute=True):
        ticket_move(ticket=ticket, by=company.admin, status=resolved)
    assert SurveyInvitation.objects.filter(ticket=ticket).count() == 1
    assert len(mail.outbox) == 1


def test_csat_by_agent_and_queue_for_the_dashboards(company: Any) -> None:
    from kehu.service.selectors.surveys import csat_by
    from kehu.service.tests.factories import queue_with
    from kehu.users.tests.factories import grant

    grant(company.role_all, "service.surveyresponse", "view")
    grant(company.role_all, "customers.account", "view")
    queue = queue_with(company.rep1)
    account = AccountFactory.create(owner=company.rep1)
    for score, agent in ((5, company.rep1), (1, company.rep1), (4, company.rep2)):
        ticket = TicketFactory.create(account=account, assignee=agent, queue=queue)
        response(csat(), score, account=account, ticket=ticket, agent=agent)
    by_agent = csat_by(user=company.viewer_all, field="agent")
    assert by_agent == [
        {"id": company.rep1.pk, "count": 2, "average": 3.0, "low": 1},
        {"id": company.rep2.pk, "count": 1, "average": 4.0, "low": 0},
    ]
    assert csat_by(user=company.viewer_all, field="queue") == [
        {"id": queue.pk, "count": 3, "average": 3.33, "low": 1}
    ]
    assert csat_by(user=company.nobody, field="agent") == []


# --- review fixes: author, claims, language -----------------------------------------------------


@pytest.mark.parametrize("author", ["deactivated", "none"])
def test_a_survey_without_an_active_author_invites_nobody(company: Any, author: str) -> None:
    from kehu.core.models import Job

    nps_audience(company)
    survey = services.survey_create(
        by=company.admin, data={"kind": SurveyKind.NPS, "name": "NPS", "audience": {}}
    )
    job = services.survey_send_now(survey=survey, by=company.admin)
    if author == "deactivated":
        type(company.admin).objects.filter(pk=company.admin.pk).update(is_active=False)
    else:
        type(survey).objects.filter(pk=survey.pk).update(created_by=None)
    survey.refresh_from_db()
    assert services.survey_audience(survey).count() == 0
    services.survey_run_job(job_id=job.pk)
    job = Job.objects.get(pk=job.pk)
    assert "author is missing or deactivated" in job.message
    assert not SurveyInvitation.objects.filter(survey=survey).exists()
    assert mail.outbox == []


def test_an_invitation_claimed_by_another_job_is_not_sent_again(company: Any) -> None:
    ticket = resolved_ticket(company)
    survey = csat()
    invitation = InvitationFactory.create(survey=survey, ticket=ticket, email="li.lei@example.com")
    stale = SurveyInvitation.objects.get(pk=invitation.pk)  # what an overlapping job loaded
    assert services.invitation_send(invitation=invitation) is True
    assert services.invitation_send(invitation=stale) is False
    assert len(mail.outbox) == 1
    services.csat_on_ticket_resolved(ticket=ticket)
    assert len(mail.outbox) == 1


def test_a_failed_send_releases_the_claim_and_records_the_error(company: Any, settings: Any) -> None:
    ticket = resolved_ticket(company)
    invitation = InvitationFactory.create(survey=csat(), ticket=ticket, email="li.lei@example.com")
    settings.EMAIL_BACKEND = "kehu.service.tests.test_surveys_services.FailingBackend"
    assert services.invitation_send(invitation=invitation) is False
    invitation.refresh_from_db()
    assert invitation.sent_at is None and "SMTP down" in invitation.send_error


def test_nps_invitations_use_the_contacts_language(company: Any, monkeypatch: Any) -> None:
    people = nps_audience(company)
    seen: list[Any] = []

    def language_of(*records: Any) -> str:
        seen.append(records)
        return "en"

    monkeypatch.setattr(services, "_language_of", language_of)
    survey = services.survey_create(
        by=company.admin, data={"kind": SurveyKind.NPS, "name": "NPS", "audience": {"title": "采购经理"}}
    )
    services.survey_run_invite(survey=survey, run=timezone.now().replace(microsecond=0))
    assert SurveyInvitation.objects.get(survey=survey).language == "en"
    assert seen == [(people["keep"], people["account"])]


class FailingBackend:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise OSError("SMTP down")
