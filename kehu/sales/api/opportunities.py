"""Opportunities, pipelines and stages over the API. Writes go through
kehu.sales.services.opportunities / .pipelines; ``POST /api/v1/sales/opportunities/{id}/move/``
calls the same stage-move service as the kanban. Refusals answer ``{"code", "message", "fields"}``:
``stage_not_allowed`` / ``stage_required_fields`` / ``loss_reason_required`` (400), ``stale_object``
(409)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import URLPattern
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.catalog.models import PriceList, Product
from kehu.core.api.actions import ERRORS, ServiceActionMixin
from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.fastlist import FastListSerializer
from kehu.core.api.mixins import (
    CachedModelFieldsMixin,
    FieldPermissionSerializerMixin,
    RestrictedModelViewSet,
)
from kehu.core.choices import Action, FieldMode
from kehu.core.permissions import field_modes
from kehu.customers.api.serializers import EXTERNAL_ID_KWARGS
from kehu.customers.models import Account
from kehu.customfields.api.fields import CustomFieldsField
from kehu.tags.api.fields import TagsField
from kehu.tags.api.mixins import TagsWriteMixin
from kehu.users.selectors import assignable_users

from ..choices import ForecastCategory
from ..filtersets_opportunities import OpportunityFilterSet
from ..models import Opportunity, OpportunityLine, Pipeline, Stage
from ..selectors.opportunities import pipeline_choices, stage_choices
from ..services import opportunities as services
from ..services import opportunity_lines as line_services
from ..services import pipelines as pipeline_services
from .common import (
    LINE_AMOUNTS,
    UNIT_PRICE_HELP,
    CurrencyCodeMixin,
    PriceSourceTextField,
    line_description,
    line_quantity,
    optional_decimal,
)


class OpportunityLineSerializer(serializers.ModelSerializer):
    """A product line of an opportunity. Amounts are computed (per line, half-up to the currency's
    decimal places); the opportunity's amount is the sum of its lines' ``net``."""

    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.none(), help_text="Product id (an active product on a new line)."
    )
    quantity = line_quantity(max_digits=14)
    unit_price = optional_decimal(help_text=UNIT_PRICE_HELP)
    price_list = serializers.PrimaryKeyRelatedField(
        queryset=PriceList.objects.none(),
        required=False,
        allow_null=True,
        help_text="Take the price from this price list (in the opportunity's currency).",
    )
    discount_percent = optional_decimal(
        max_digits=5, decimal_places=2, help_text="0–100; or discount_amount."
    )
    discount_amount = optional_decimal(help_text="Not above the line's gross; or discount_percent.")
    description = line_description(max_length=300)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        write_only=True,
        help_text="The opportunity's version you read (409 if someone changed the opportunity since).",
    )
    opportunity_version = serializers.IntegerField(
        source="opportunity.version", read_only=True, help_text="The opportunity's version after this line."
    )

    price_source_text = PriceSourceTextField()

    class Meta:
        model = OpportunityLine
        fields = [
            "id",
            "opportunity",
            "position",
            "product",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "price_list",
            "price_source",
            "price_source_text",
            "discount_percent",
            "discount_amount",
            "tax_rate",
            *LINE_AMOUNTS,
            "version",
            "opportunity_version",
        ]
        read_only_fields = [
            "id",
            "opportunity",
            "position",
            "unit",
            "price_source",
            "price_source_text",
            "tax_rate",
            *LINE_AMOUNTS,
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            fields["product"].queryset = Product.objects.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
            fields["price_list"].queryset = PriceList.objects.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
        return fields


class OpportunityLineReadSerializer(OpportunityLineSerializer):
    """A line nested in the opportunity (read only)."""

    class Meta(OpportunityLineSerializer.Meta):
        fields = [
            f for f in OpportunityLineSerializer.Meta.fields if f not in ("version", "opportunity_version")
        ]
        read_only_fields = fields


class LinesReorderSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every line id of the opportunity, in the new order."
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Optimistic lock (409 when stale)."
    )


def _check_amount_visible(request: Request) -> None:
    """Lines show what the amount is made of: not for users whose field permissions hide or mask it."""
    if field_modes(request.user, Opportunity).get("amount") in (FieldMode.HIDDEN, FieldMode.MASKED):
        raise PermissionDenied(_("You may not see the amount of this opportunity, nor its products."))


class OpportunitySerializer(
    FieldPermissionSerializerMixin, CurrencyCodeMixin, CachedModelFieldsMixin, serializers.ModelSerializer
):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), help_text="Account id.")
    owner = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(),
        required=False,
        help_text="Owner (负责人) user id; giving it to someone else needs the assign permission.",
    )
    pipeline = serializers.PrimaryKeyRelatedField(
        queryset=pipeline_choices(),
        required=False,
        help_text="Pipeline id (create only; default: the default pipeline).",
    )
    stage = serializers.PrimaryKeyRelatedField(
        queryset=stage_choices(),
        required=False,
        help_text="Stage id (create only; default: the pipeline's first open stage). Move with POST …/move/.",
    )
    amount = serializers.DecimalField(
        max_digits=18,
        decimal_places=2,
        required=False,
        help_text="≥ 0. Follows the product lines while there are any (the sum of their net amounts).",
    )
    currency = serializers.CharField(
        max_length=3, required=False, help_text="ISO 4217 code among the enabled currencies."
    )
    probability = serializers.IntegerField(
        required=False, allow_null=True, help_text="0–100; null (or absent): the stage's probability."
    )
    forecast_category = serializers.ChoiceField(
        choices=ForecastCategory.choices, required=False, help_text="Absent: the stage's category."
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Send the version you read to refuse the update (409) if someone changed the record since.",
    )
    custom = CustomFieldsField(required=False)
    tags = TagsField(required=False)
    lines = OpportunityLineReadSerializer(
        many=True,
        read_only=True,
        help_text="Product lines; while there are any, the amount is the sum of their net amounts.",
    )

    class Meta:
        model = Opportunity
        fields = [
            "id",
            "external_id",
            "name",
            "account",
            "amount",
            "currency",
            "expected_close_date",
            "pipeline",
            "stage",
            "status",
            "probability",
            "probability_overridden",
            "forecast_category",
            "source",
            "campaign",
            "competitors",
            "next_step",
            "loss_reason",
            "loss_notes",
            "description",
            "lead",
            "owner",
            "department",
            "stage_entered_at",
            "closed_at",
            "custom",
            "tags",
            "lines",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        # Lists read through the planned row path (same output as DRF's, see kehu.core.api.fastlist).
        list_serializer_class = FastListSerializer
        extra_kwargs = {
            "external_id": EXTERNAL_ID_KWARGS,  # unique when set: checked by the service
        }
        read_only_fields = [
            "id",
            "status",
            "probability_overridden",
            "lead",
            "department",
            "stage_entered_at",
            "closed_at",
            "lines",
            "created_by",
            "created_at",
            "updated_at",
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "account" in fields:
            fields["account"].queryset = Account.objects.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
        if self._modes().get("amount") in (FieldMode.HIDDEN, FieldMode.MASKED):
            fields.pop("lines", None)  # their net amounts add up to the amount
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in ("pipeline", "stage"):
                if name in fields:
                    fields[name].read_only = True
        return fields


class MoveSerializer(serializers.Serializer):
    stage = serializers.PrimaryKeyRelatedField(queryset=stage_choices(), help_text="Target stage id.")
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Optimistic lock (409 when stale)."
    )
    next_step = serializers.CharField(required=False, allow_blank=True, max_length=500)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    loss_reason = serializers.CharField(required=False, allow_blank=True, max_length=64)
    loss_notes = serializers.CharField(required=False, allow_blank=True)
    custom = serializers.DictField(
        required=False, help_text="Custom field values to set with the move ({name: value})."
    )


@extend_schema_view(
    list=extend_schema(summary="List opportunities you may view"),
    retrieve=extend_schema(summary="Get an opportunity"),
    create=extend_schema(summary="Create an opportunity", responses={201: OpportunitySerializer, **ERRORS}),
    update=extend_schema(summary="Replace an opportunity (not its stage)"),
    partial_update=extend_schema(summary="Change an opportunity (not its stage)"),
    destroy=extend_schema(summary="Delete an opportunity"),
)
@extend_schema(tags=["sales"])
class OpportunityViewSet(TagsWriteMixin, ServiceActionMixin, RestrictedModelViewSet):
    """Opportunities (商机). Filters are the opportunity list's. The stage changes only through
    ``POST {id}/move/`` (the pipeline's rules: allowed next stages, required fields, loss reason)."""

    model = Opportunity
    serializer_class = OpportunitySerializer
    filterset_class = OpportunityFilterSet
    select_related = ("owner", "department", "account", "pipeline", "stage")

    def perform_service_create(self, data: dict[str, Any]) -> Opportunity:
        data.pop("tags", None)
        return services.opportunity_create(
            by=self.request.user,
            account=data.pop("account"),
            name=data.pop("name", ""),
            pipeline=data.pop("pipeline", None),
            stage=data.pop("stage", None),
            amount=data.pop("amount", 0),
            currency=data.pop("currency", None),
            owner=data.pop("owner", None),
            data=data,
            tags=self.new_tags(),  # as the creator's (kehu.tags.api.mixins.TagsWriteMixin)
        )

    def perform_service_update(
        self, obj: Opportunity, data: dict[str, Any], version: int | None
    ) -> Opportunity:
        data.pop("tags", None)
        data.pop("pipeline", None)
        data.pop("stage", None)
        return services.opportunity_update(opportunity=obj, by=self.request.user, data=data, version=version)

    def perform_service_delete(self, obj: Opportunity) -> None:
        services.opportunity_delete(opportunity=obj, by=self.request.user)

    @extend_schema(request=MoveSerializer, responses={200: OpportunitySerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Move the deal to another stage, filling the fields the stage requires on the way."""

        def move(opportunity: Opportunity, values: dict[str, Any]) -> Opportunity:
            stage = values.pop("stage")
            version = values.pop("version", None)
            return services.opportunity_move_stage(
                opportunity=opportunity, stage=stage, by=request.user, version=version, values=values
            )

        return self.service_action(move, MoveSerializer)

    @extend_schema(
        methods=["GET"],
        summary="List an opportunity's product lines",
        parameters=[OpenApiParameter("product", int, description="Only the lines of this product id.")],
        responses={200: OpportunityLineSerializer(many=True), 404: ErrorSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a product line (the amount follows the lines)",
        request=OpportunityLineSerializer,
        responses={201: OpportunityLineSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], serializer_class=OpportunityLineSerializer)
    def lines(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The opportunity's product lines in order; POST adds one (price from the price list when
        no unit price is given)."""
        obj = self.get_object()
        _check_amount_visible(request)
        if request.method == "GET":
            qs = obj.lines.select_related("opportunity")
            product = request.query_params.get("product")
            if product:
                if not product.isdigit():
                    raise serializers.ValidationError({"product": [_("Enter a whole number.")]})
                qs = qs.filter(product_id=int(product))
            return Response(
                OpportunityLineSerializer(qs, many=True, context=self.get_serializer_context()).data
            )
        body = OpportunityLineSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        line = line_services.opportunity_line_add(by=request.user, opportunity=obj, **values)
        line = OpportunityLine.objects.select_related("opportunity").get(pk=line.pk)
        return Response(
            OpportunityLineSerializer(line, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Put an opportunity's product lines in order",
        request=LinesReorderSerializer,
        responses={200: OpportunityLineSerializer(many=True), **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="lines/reorder", serializer_class=LinesReorderSerializer)
    def lines_reorder(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        body = LinesReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        ordered = line_services.opportunity_lines_reorder(
            by=request.user,
            opportunity=obj,
            line_ids=body.validated_data["lines"],
            version=body.validated_data.get("version"),
        )
        qs = OpportunityLine.objects.filter(pk__in=[ln.pk for ln in ordered]).select_related("opportunity")
        return Response(OpportunityLineSerializer(qs, many=True, context=self.get_serializer_context()).data)

    def get_queryset(self) -> Any:
        action_name = getattr(self, "action", None)
        if action_name in ("lines", "lines_reorder"):  # the services check "change" (403)
            return Opportunity.objects.restrict(self.request.user, Action.VIEW)
        if action_name == "move":
            return Opportunity.objects.restrict(self.request.user, Action.CHANGE).select_related(
                *self.select_related
            )
        if action_name == "list":  # the list shows related records as ids: no joins
            return Opportunity.objects.restrict(self.request.user, Action.VIEW)
        return super().get_queryset()


@extend_schema_view(
    retrieve=extend_schema(summary="Get an opportunity's product line"),
    update=extend_schema(
        summary="Replace a product line", responses={200: OpportunityLineSerializer, **ERRORS}
    ),
    partial_update=extend_schema(
        summary="Change a product line", responses={200: OpportunityLineSerializer, **ERRORS}
    ),
    destroy=extend_schema(
        summary="Remove a product line (the last one gone, the amount stays as it was)",
        parameters=[
            OpenApiParameter("version", int, description="The opportunity's version (409 when stale).")
        ],
        responses={204: None, **ERRORS},
    ),
)
@extend_schema(tags=["sales"])
class OpportunityLineViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Product lines of the opportunities you may view (list and add them under
    ``opportunities/{id}/lines/``). Changing one needs the change permission on its opportunity."""

    serializer_class = OpportunityLineSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        visible = Opportunity.objects.restrict(self.request.user, Action.VIEW)
        return OpportunityLine.objects.filter(opportunity__in=visible).select_related("opportunity")

    def get_object(self) -> Any:
        obj = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        _check_amount_visible(self.request)
        return obj

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        serializer.instance = line_services.opportunity_line_update(
            by=self.request.user, line=serializer.instance, data=data, version=version
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        super().update(request, *args, **kwargs)
        fresh = self.get_queryset().get(pk=kwargs["pk"])
        return Response(self.get_serializer(fresh).data)

    def perform_destroy(self, instance: Any) -> None:
        raw = self.request.query_params.get("version")
        if raw and not raw.isdigit():
            raise serializers.ValidationError({"version": [_("Enter a whole number.")]})
        line_services.opportunity_line_delete(
            by=self.request.user, line=instance, version=int(raw) if raw else None
        )


# --- pipelines and stages ---------------------------------------------------------------------


class StageSerializer(serializers.ModelSerializer):
    allowed_next = serializers.PrimaryKeyRelatedField(
        many=True, queryset=stage_choices(), required=False, help_text="Empty: any stage of the pipeline."
    )
    required_fields = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text='Opportunity fields required to enter: standard names, "contact_roles" or "custom.<name>".',
    )

    class Meta:
        model = Stage
        fields = [
            "id",
            "pipeline",
            "name",
            "name_en",
            "order",
            "kind",
            "probability",
            "forecast_category",
            "required_fields",
            "allowed_next",
            "stuck_after_days",
            "color",
        ]
        read_only_fields = ["id"]


class PipelineSerializer(serializers.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "name_en", "description", "is_active", "is_default", "order", "stages"]
        read_only_fields = ["id", "stages"]


@extend_schema_view(
    list=extend_schema(summary="List pipelines"),
    retrieve=extend_schema(summary="Get a pipeline with its stages"),
    create=extend_schema(summary="Create a pipeline (with an open, a won and a lost stage)"),
    update=extend_schema(summary="Replace a pipeline"),
    partial_update=extend_schema(summary="Change a pipeline"),
    destroy=extend_schema(summary="Delete a pipeline (refused while in use)"),
)
@extend_schema(tags=["sales"])
class PipelineViewSet(RestrictedModelViewSet):
    """Pipelines (销售流程): data, edited by administrators. One is the default."""

    model = Pipeline
    serializer_class = PipelineSerializer
    # Pipelines have no masked fields: no ``{id}/reveal/`` (the router lists only actions it finds).
    reveal = None  # type: ignore[assignment]

    def get_queryset(self) -> Any:
        return super().get_queryset().prefetch_related("stages__allowed_next")

    def perform_service_create(self, data: dict[str, Any]) -> Pipeline:
        return pipeline_services.pipeline_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Pipeline, data: dict[str, Any], version: int | None) -> Pipeline:
        return pipeline_services.pipeline_update(by=self.request.user, pipeline=obj, data=data)

    def perform_service_delete(self, obj: Pipeline) -> None:
        pipeline_services.pipeline_delete(by=self.request.user, pipeline=obj)


@extend_schema_view(
    list=extend_schema(summary="List stages"),
    retrieve=extend_schema(summary="Get a stage"),
    create=extend_schema(summary="Add a stage to a pipeline"),
    update=extend_schema(summary="Replace a stage"),
    partial_update=extend_schema(summary="Change a stage"),
    destroy=extend_schema(summary="Delete a stage (refused while in use)"),
)
@extend_schema(tags=["sales"])
class StageViewSet(RestrictedModelViewSet):
    """Stages (阶段) of pipelines; permissions are the pipeline's (view / change)."""

    model = Pipeline  # permission checks: the pipeline's
    serializer_class = StageSerializer
    reveal = None  # type: ignore[assignment]  # no masked fields, no ``{id}/reveal/``

    def get_queryset(self) -> Any:
        needed = Action.VIEW if self.action in ("list", "retrieve") else Action.CHANGE
        pipelines = Pipeline.objects.restrict(self.request.user, needed)
        qs = Stage.objects.filter(pipeline__in=pipelines).prefetch_related("allowed_next")
        pipeline = self.request.query_params.get("pipeline")
        if self.action == "list" and pipeline and pipeline.isdigit():
            qs = qs.filter(pipeline_id=int(pipeline))
        return qs.order_by("pipeline_id", "order", "id")

    def filter_queryset(self, queryset: Any) -> Any:
        return queryset

    def perform_service_create(self, data: dict[str, Any]) -> Stage:
        pipeline = data.pop("pipeline")
        return pipeline_services.stage_create(by=self.request.user, pipeline=pipeline, data=data)

    def perform_service_update(self, obj: Stage, data: dict[str, Any], version: int | None) -> Stage:
        data.pop("pipeline", None)
        return pipeline_services.stage_update(by=self.request.user, stage=obj, data=data)

    def perform_service_delete(self, obj: Stage) -> None:
        pipeline_services.stage_delete(by=self.request.user, stage=obj)

    def _read(self, instance: Any) -> Any:
        return self.get_serializer(self.get_queryset().get(pk=instance.pk)).data


def register(router: SimpleRouter) -> None:
    """Register this area's viewsets on the sales API router."""
    router.register("opportunities", OpportunityViewSet, basename="opportunity")
    router.register("opportunity-lines", OpportunityLineViewSet, basename="opportunity-line")
    router.register("pipelines", PipelineViewSet, basename="pipeline")
    router.register("stages", StageViewSet, basename="stage")


urlpatterns: list[URLPattern] = []
