"""Satisfaction surveys over the API: CRUD of surveys (writes through the services), ``send`` (an
NPS sending now, as a background job), and the answers (read-only) filtered by survey, account,
ticket, agent, score and date."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ACTION_MAP, ModelActionPermission, RestrictedModelViewSet
from kehu.core.choices import Action

from ..filtersets_surveys import SurveyResponseFilterSet
from ..models import Survey, SurveyResponse
from ..selectors import surveys as selectors
from ..services import surveys as services

ACTIONS = {**ACTION_MAP, "send": Action.CHANGE}


class SurveySerializer(serializers.ModelSerializer):
    audience = serializers.JSONField(
        required=False, help_text='Contact-list filters, e.g. {"tags": [3], "is_primary": "true"}.'
    )
    response_count = serializers.SerializerMethodField()
    score = serializers.SerializerMethodField()

    class Meta:
        model = Survey
        fields = [
            "id",
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
            "last_run_at",
            "valid_days",
            "response_count",
            "score",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "last_run_at", "created_at", "updated_at"]

    def get_response_count(self, obj: Survey) -> int:
        """The answers you may see (your accounts' answers; 0 without the answers' permission)."""
        count = getattr(obj, "response_count", None)
        if count is None:
            count = selectors.response_list(user=self.context["request"].user, survey=obj).count()
        return int(count or 0)

    def get_score(self, obj: Survey) -> float | None:
        """CSAT: the average rating; NPS: promoters minus detractors (%) — over the answers you may
        see (null without the answers' permission)."""
        score = selectors.survey_score(survey=obj, user=self.context["request"].user)
        if obj.kind == "nps":
            return float(score.nps) if score.nps is not None else None
        return round(score.average, 2) if score.average is not None else None


class SurveyResponseSerializer(serializers.ModelSerializer):
    ticket_number = serializers.CharField(source="ticket.number", read_only=True, default=None)
    account_name = serializers.CharField(source="account.name", read_only=True, default=None)

    class Meta:
        model = SurveyResponse
        fields = [
            "id",
            "survey",
            "kind",
            "score",
            "comment",
            "created_at",
            "ticket",
            "ticket_number",
            "account",
            "account_name",
            "contact",
            "agent",
        ]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List satisfaction surveys"),
    retrieve=extend_schema(summary="Get a satisfaction survey"),
    create=extend_schema(summary="Create a satisfaction survey"),
    update=extend_schema(summary="Replace a satisfaction survey"),
    partial_update=extend_schema(summary="Change a satisfaction survey"),
    destroy=extend_schema(
        summary="Delete a satisfaction survey", responses={204: None, 409: ErrorSerializer}
    ),
)
@extend_schema(tags=["service"])
class SurveyViewSet(RestrictedModelViewSet):
    """Satisfaction surveys (满意度调查): CSAT (1–5, sent when tickets are resolved) and NPS (0–10,
    sent to an audience of contacts on a schedule)."""

    model = Survey
    serializer_class = SurveySerializer

    def get_queryset(self) -> Any:
        return selectors.survey_list(
            user=self.request.user, action=ACTIONS.get(self.action or "", Action.VIEW)
        )

    def perform_service_create(self, data: dict[str, Any]) -> Survey:
        return services.survey_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Survey, data: dict[str, Any], version: int | None) -> Survey:
        return services.survey_update(survey=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Survey) -> None:
        services.survey_delete(survey=obj, by=self.request.user)

    @extend_schema(
        summary="Send an NPS survey now",
        request=None,
        responses={
            202: inline_serializer("SurveySendJob", {"job": serializers.IntegerField()}),
            400: OpenApiResponse(ErrorSerializer, description='Not an NPS survey (code "not_nps").'),
            409: OpenApiResponse(
                ErrorSerializer,
                description='A sending of this survey is already running (code "survey_sending"), '
                "or a stale version.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def send(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Start a sending to the survey's audience (a background job: poll /api/v1/core/jobs/{job})."""
        survey = self.get_object()
        job = services.survey_send_now(survey=survey, by=request.user)
        return Response({"job": job.pk}, status=202)


@extend_schema_view(
    list=extend_schema(summary="List survey answers"),
    retrieve=extend_schema(summary="Get a survey answer"),
)
@extend_schema(tags=["service"])
class SurveyResponseViewSet(viewsets.ReadOnlyModelViewSet):
    """Answers to satisfaction surveys (the accounts the user may see)."""

    model = SurveyResponse
    serializer_class = SurveyResponseSerializer
    permission_classes = [ModelActionPermission]
    filterset_class = SurveyResponseFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        return selectors.response_list(user=self.request.user).order_by("-id")


def register(router: SimpleRouter) -> None:
    router.register("surveys", SurveyViewSet, basename="survey")
    router.register("survey-responses", SurveyResponseViewSet, basename="surveyresponse")
