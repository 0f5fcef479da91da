"""Satisfaction surveys (满意度调查): the survey list, create/edit, a survey's page (score, trend
chart, answers, send now, export), and the customer's answer page under /help/ (no login; a
signed link, one answer)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kehu.core.choices import Action
from kehu.core.errors import DomainError
from kehu.core.generic import get_for_action, paginate, success_response
from kehu.core.permissions import can

from ..choices import SurveyKind
from ..filtersets_surveys import SurveyResponseFilterSet
from ..forms_surveys import AnswerForm, SurveyForm, audience_to_text
from ..models import Survey, SurveyResponse
from ..selectors import surveys as selectors
from ..services import surveys as services
from ._common import edit_form_page, form_errors, object_for_edit, require

PER_PAGE = 25


def _require(request: HttpRequest, action: str, model: type = Survey) -> None:
    """Survey settings have no data scope: without the permission, 403."""
    require(request, model, action)


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("Service"), None), (_("Satisfaction surveys"), reverse("service:survey_list")), *extra]


@login_required
@require_GET
def survey_list_view(request: HttpRequest) -> HttpResponse:
    _require(request, Action.VIEW)
    surveys = list(selectors.survey_list(user=request.user))
    for survey in surveys:
        survey.score = selectors.survey_score(survey=survey, user=request.user)  # type: ignore[attr-defined]
    return render(
        request,
        "service/surveys/list.html",
        {
            "surveys": surveys,
            "may_add": can(request.user, Survey, Action.ADD),
            "breadcrumbs": [*_crumbs()[:1], (_("Satisfaction surveys"), None)],
        },
    )


def _initial(survey: Survey | None) -> dict[str, Any]:
    if survey is None:
        return {"kind": SurveyKind.NPS, "frequency": "once", "valid_days": 30, "is_active": True}
    values = {
        name: getattr(survey, name)
        for name in (
            "kind",
            "name",
            "name_en",
            "question",
            "question_en",
            "is_active",
            "send_on_resolve",
            "frequency",
            "valid_days",
        )
    }
    values["audience"] = audience_to_text(survey.audience)
    if survey.next_run_at:
        values["next_run_at"] = timezone.localtime(survey.next_run_at).replace(tzinfo=None)
    return values


@login_required
@require_http_methods(["GET", "POST"])
def survey_edit_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    survey = object_for_edit(request, Survey, pk)

    def save(survey: Survey | None, data: dict[str, Any]) -> Survey:
        if survey is None:
            return services.survey_create(by=request.user, data=dict(data))
        return services.survey_update(survey=survey, by=request.user, data=dict(data))

    return edit_form_page(
        request,
        obj=survey,
        form=SurveyForm(request.POST or None, initial=_initial(survey)),
        save=save,
        saved=_("Survey “%(name)s” saved."),
        new_title=_("New survey"),
        template="service/surveys/form.html",
        name="survey",
        crumbs=_crumbs,
    )


@login_required
@require_GET
def survey_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.VIEW)
    survey = get_for_action(Survey, request.user, pk, Action.VIEW)
    may_answers = can(request.user, SurveyResponse, Action.VIEW)
    context: dict[str, Any] = {
        "survey": survey,
        "breadcrumbs": _crumbs((str(survey), None)),
        "may_change": can(request.user, Survey, Action.CHANGE),
        "may_delete": can(request.user, Survey, Action.DELETE),
        "may_answers": may_answers,
        "invitations": selectors.survey_invitation_counts(survey=survey),
        "audience_text": audience_to_text(survey.audience),
    }
    if survey.kind == SurveyKind.NPS:
        context["audience_count"] = services.survey_audience(survey).count()
    if may_answers:
        base = selectors.response_list(user=request.user, survey=survey)
        params = request.GET.copy()
        params["survey"] = str(survey.pk)
        filterset = SurveyResponseFilterSet(params, queryset=base)
        answers = filterset.qs if filterset.is_valid() else base.none()
        context.update(
            {
                "filterset": filterset,
                "score": selectors.survey_score(survey=survey, responses=base),
                "filtered_score": selectors.survey_score(survey=survey, responses=answers),
                "trend": selectors.survey_trend(survey=survey, responses=base),
                "page": paginate(answers.order_by("-created_at", "-id"), request.GET.get("page"), PER_PAGE),
                "low_high": services.score_range(survey.kind),
            }
        )
        context["chart"] = {
            "kind": survey.kind,
            "months": [row["month"] for row in context["trend"]],
            "values": [row["value"] for row in context["trend"]],
            "counts": [row["count"] for row in context["trend"]],
            "value_label": _("NPS") if survey.kind == SurveyKind.NPS else _("Average rating"),
            "count_label": _("Answers"),
        }
    return render(request, "service/surveys/detail.html", context)


@login_required
@require_POST
def survey_send_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.CHANGE)
    survey = get_for_action(Survey, request.user, pk, Action.CHANGE)
    try:
        job = services.survey_send_now(survey=survey, by=request.user)
    except DomainError as exc:
        return success_response(
            request, url=survey.get_absolute_url(), message=str(exc.message), level="error"
        )
    return success_response(
        request,
        url=survey.get_absolute_url(),
        message=_("Sending started: follow it under Jobs (#%(job)s).") % {"job": job.pk},
    )


@login_required
@require_POST
def survey_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, Action.DELETE)
    survey = get_for_action(Survey, request.user, pk, Action.DELETE)
    try:
        services.survey_delete(survey=survey, by=request.user)
    except DomainError as exc:
        return success_response(
            request, url=survey.get_absolute_url(), message=str(exc.message), level="error"
        )
    return success_response(
        request,
        url=reverse("service:survey_list"),
        message=_("Survey “%(name)s” deleted.") % {"name": survey},
    )


# --- the customer's answer page (/help/survey/<signed>/) ------------------------------------------


def _public(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    response["X-Robots-Tag"] = "noindex"
    response["Referrer-Policy"] = "same-origin"
    return response


def _message(request: HttpRequest, *, title: str, message: str, icon: str, status: int) -> HttpResponse:
    return _public(
        request,
        "service/surveys/public_message.html",
        {"title": title, "message": message, "icon": icon},
        status=status,
    )


def _use_language(request: HttpRequest, language: str) -> None:
    """The invitation's language unless the visitor chose one (the language switch's cookie)."""
    if settings.LANGUAGE_COOKIE_NAME not in request.COOKIES and language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


@never_cache
@require_http_methods(["GET", "POST"])
def survey_answer_view(request: HttpRequest, signed: str) -> HttpResponse:
    try:
        invitation = services.invitation_from_signed(signed)
    except DomainError:
        return _message(
            request,
            title=_("Survey link not valid"),
            message=_(
                "This survey link is not valid: it may have been changed or cut short. "
                "Open the link from your e-mail again, copying the whole address."
            ),
            icon="link-off",
            status=404,
        )
    _use_language(request, invitation.language)
    survey = invitation.survey
    low, high = services.score_range(survey.kind)
    answered = invitation.answered_at is not None
    expired = invitation.expires_at <= timezone.now()
    if answered and request.method == "GET":
        return _message(
            request,
            title=_("Thank you!"),
            message=_("This survey has already been answered. Thank you!"),
            icon="circle-check",
            status=200,
        )
    if expired and not answered:
        return _message(
            request,
            title=_("Survey link expired"),
            message=_("This survey link has expired (it was valid until %(date)s). Thank you all the same.")
            % {"date": timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d")},
            icon="clock-x",
            status=410,
        )
    form = AnswerForm(request.POST or None)
    preset = request.GET.get("score")
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.survey_answer(
                    invitation=invitation,
                    score=form.cleaned_data["score"],
                    comment=form.cleaned_data.get("comment") or "",
                )
            except DomainError as exc:
                if exc.code == services.SurveyError.ALREADY_ANSWERED:
                    return _message(
                        request,
                        title=_("Already answered"),
                        message=_(
                            "This survey has already been answered, so this answer was not recorded. "
                            "Thank you!"
                        ),
                        icon="info-circle",
                        status=409,
                    )
                form_errors(form, exc)
            else:
                return _message(
                    request,
                    title=_("Thank you!"),
                    message=_("Your answer has been recorded. Thank you for your feedback."),
                    icon="heart",
                    status=200,
                )
        preset = request.POST.get("score")
    try:
        selected = int(preset) if preset else None
    except (TypeError, ValueError):
        selected = None
    return _public(
        request,
        "service/surveys/answer.html",
        {
            "invitation": invitation,
            "survey": survey,
            "ticket": invitation.ticket,
            "question": services._question(survey),
            "scores": list(range(low, high + 1)),
            "selected": selected if selected is not None and low <= selected <= high else None,
            "form": form,
            "expires_at": invitation.expires_at,
        },
        status=status,
    )


urlpatterns: list[URLPattern] = [
    path("surveys/", survey_list_view, name="survey_list"),
    path("surveys/add/", survey_edit_view, name="survey_add"),
    path("surveys/<int:pk>/", survey_detail_view, name="survey_detail"),
    path("surveys/<int:pk>/edit/", survey_edit_view, name="survey_edit"),
    path("surveys/<int:pk>/send/", survey_send_view, name="survey_send"),
    path("surveys/<int:pk>/delete/", survey_delete_view, name="survey_delete"),
]

public_urlpatterns: list[URLPattern] = [
    path("survey/<str:signed>/", survey_answer_view, name="survey_answer"),
]
