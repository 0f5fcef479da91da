"""Quotes, their lines, approval rules and the approvals inbox over the API. Writes go through
kehu.commerce.services.quotes / .approvals; status moves are actions
(``POST /api/v1/commerce/quotes/{id}/<action>/``: submit, approve, reject, recall, send, accept,
decline, revise). Refusals answer ``{"code", "message", "fields"}``: ``quote_invalid`` (400),
``quote_state`` (409: the quote's status does not allow it), ``stale_object`` (409),
``permission_denied`` (403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import URLPattern
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.catalog.models import PriceList, Product
from kehu.core.api.actions import ERRORS, ServiceActionMixin
from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import FieldPermissionSerializerMixin, RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.customers.models import Account, Contact
from kehu.customfields.api.fields import CustomFieldsField
from kehu.sales.api.common import (
    LINE_AMOUNTS,
    CurrencyCodeMixin,
    PriceSourceTextField,
    line_description,
    line_quantity,
    optional_decimal,
)
from kehu.users.models import Role
from kehu.users.selectors import assignable_users

from ..filtersets_quotes import ApprovalRuleFilterSet, QuoteFilterSet
from ..models import ApprovalRule, Quote, QuoteApproval, QuoteLine
from ..selectors.approvals import approvals_for
from ..services import approvals as rule_services
from ..services import quotes as services


class QuoteLineSerializer(serializers.ModelSerializer):
    """A line of a quote. Amounts are computed (per line, half-up to the currency's minor unit)."""

    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.none(),
        required=False,
        allow_null=True,
        help_text="Product id (or a free text line).",
    )
    description = line_description()
    quantity = line_quantity()
    unit_price = optional_decimal(
        help_text="Tax-exclusive. Absent or null: the price list's (quantity tiers apply)."
    )
    price_list = serializers.PrimaryKeyRelatedField(
        queryset=PriceList.objects.none(),
        required=False,
        allow_null=True,
        write_only=True,
        help_text="Take the price from this price list (in the quote's currency).",
    )
    discount_percent = optional_decimal(max_digits=7, help_text="0–100; or discount_amount.")
    discount_amount = optional_decimal(help_text="Not above the line's gross.")
    tax_rate = optional_decimal(max_digits=5, decimal_places=2, help_text="0–100; default: the product's.")
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        write_only=True,
        help_text="The quote's version you read (409 when stale).",
    )

    price_source_text = PriceSourceTextField()

    class Meta:
        model = QuoteLine
        fields = [
            "id",
            "quote",
            "position",
            "product",
            "product_code",
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
            "unit_cost",
            *LINE_AMOUNTS,
            "version",
        ]
        read_only_fields = [
            "id",
            "quote",
            "position",
            "product_code",
            "unit",
            "price_source",
            "price_source_text",
            "unit_cost",
            *LINE_AMOUNTS,
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            if "product" in fields and not fields["product"].read_only:
                fields["product"].queryset = Product.objects.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
            if "price_list" in fields:
                fields["price_list"].queryset = PriceList.objects.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
        return fields


class QuoteLineReadSerializer(QuoteLineSerializer):
    class Meta(QuoteLineSerializer.Meta):
        fields = [f for f in QuoteLineSerializer.Meta.fields if f not in ("version", "price_list")]
        read_only_fields = fields


class QuoteApprovalSerializer(serializers.ModelSerializer):
    reason = serializers.CharField(
        source="reason_text",
        read_only=True,
        help_text="Why the quote needs this approval, in the reader's language (the request's "
        "Accept-Language or the user's language setting), built from `reason_data`; steps without "
        "reason data answer the text stored when the quote was submitted.",
    )
    reason_data = serializers.JSONField(
        read_only=True,
        help_text="The reason as data: `rule` (discount_above or total_above, with `limit` and "
        "`actual`; total_above adds `currency`; below_cost lists the `lines`). Empty for steps "
        "written before the data existed.",
    )

    class Meta:
        model = QuoteApproval
        fields = [
            "id",
            "quote",
            "rule",
            "reason",
            "reason_data",
            "approver",
            "role",
            "status",
            "decided_by",
            "decided_at",
            "comment",
        ]
        read_only_fields = fields


class QuoteSerializer(FieldPermissionSerializerMixin, CurrencyCodeMixin, serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, help_text="Account id (create; or give opportunity)."
    )
    opportunity = serializers.IntegerField(
        required=False,
        allow_null=True,
        source="opportunity_id",
        help_text="Create from this opportunity (copies its lines).",
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    price_list = serializers.PrimaryKeyRelatedField(
        queryset=PriceList.objects.none(), required=False, allow_null=True
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(), required=False, help_text="Owner user id (someone else: needs assign)."
    )
    currency = serializers.CharField(
        max_length=3, required=False, help_text="ISO 4217 code among the active currencies."
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    quote_date = serializers.DateField(required=False)
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Send the version you read: 409 if someone changed the quote since.",
    )
    custom = CustomFieldsField(required=False)
    lines = QuoteLineReadSerializer(many=True, read_only=True)
    approvals = QuoteApprovalSerializer(many=True, read_only=True)

    class Meta:
        model = Quote
        fields = [
            "id",
            "number",
            "revision",
            "is_latest",
            "previous",
            "name",
            "account",
            "contact",
            "opportunity",
            "price_list",
            "status",
            "currency",
            "quote_date",
            "valid_until",
            "language",
            "terms",
            "notes",
            "subtotal",
            "discount_total",
            "net_total",
            "tax_total",
            "total",
            "exchange_rate",
            "total_company",
            "submitted_at",
            "approved_at",
            "sent_at",
            "decided_at",
            "decision_note",
            "owner",
            "department",
            "custom",
            "lines",
            "approvals",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "revision",
            "is_latest",
            "previous",
            "status",
            "subtotal",
            "discount_total",
            "net_total",
            "tax_total",
            "total",
            "exchange_rate",
            "total_company",
            "submitted_at",
            "approved_at",
            "sent_at",
            "decided_at",
            "decision_note",
            "department",
            "lines",
            "approvals",
            "created_by",
            "created_at",
            "updated_at",
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            user = request.user
            if "account" in fields:
                fields["account"].queryset = Account.objects.restrict(user, Action.VIEW)  # type: ignore[attr-defined]
            fields["contact"].queryset = Contact.objects.restrict(user, Action.VIEW)  # type: ignore[attr-defined]
            fields["price_list"].queryset = PriceList.objects.restrict(user, Action.VIEW)  # type: ignore[attr-defined]
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            for name in ("account", "opportunity"):
                if name in fields:
                    fields[name].read_only = True
        return fields


class CommentSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, help_text="Needed to reject.")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the customer declined.")


class NoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)


class QuoteLinesReorderSerializer(serializers.Serializer):
    lines = serializers.ListField(
        child=serializers.IntegerField(), help_text="Every line id, in the new order."
    )
    version = serializers.IntegerField(required=False, min_value=1)


@extend_schema_view(
    list=extend_schema(summary="List quotes you may view (latest versions unless all_versions=true)"),
    retrieve=extend_schema(summary="Get a quote with its lines and approvals"),
    create=extend_schema(summary="Create a draft quote", responses={201: QuoteSerializer, **ERRORS}),
    update=extend_schema(summary="Replace a draft's header", responses={200: QuoteSerializer, **ERRORS}),
    partial_update=extend_schema(
        summary="Change a draft's header", responses={200: QuoteSerializer, **ERRORS}
    ),
    destroy=extend_schema(summary="Delete a draft", responses={204: None, **ERRORS}),
)
@extend_schema(tags=["commerce"])
class QuoteViewSet(ServiceActionMixin, RestrictedModelViewSet):
    """Quotes (报价单). Status moves are actions; only a draft (latest version) can be changed."""

    model = Quote
    serializer_class = QuoteSerializer
    filterset_class = QuoteFilterSet
    select_related = ("owner", "department", "account")

    def get_queryset(self) -> Any:
        name = getattr(self, "action", None)
        if name in ("update", "partial_update", "destroy"):
            return super().get_queryset()
        # reads, lines and status moves: the services check "change" (403 when only viewable)
        return (
            Quote.objects.restrict(self.request.user, Action.VIEW)
            .select_related(*self.select_related)
            .prefetch_related("lines", "approvals")
        )

    def perform_service_create(self, data: dict[str, Any]) -> Quote:
        opportunity_id = data.pop("opportunity_id", None)
        opportunity = None
        if opportunity_id:
            from kehu.sales.models import Opportunity

            opportunity = (
                Opportunity.objects.restrict(self.request.user, Action.VIEW).filter(pk=opportunity_id).first()
            )
            if opportunity is None:
                raise serializers.ValidationError({"opportunity": [_("Choose an opportunity you can see.")]})
        if opportunity is None and data.get("account") is None:
            raise serializers.ValidationError({"account": [_("This field is required.")]})
        return services.quote_create(by=self.request.user, opportunity=opportunity, **data)

    def perform_service_update(self, obj: Quote, data: dict[str, Any], version: int | None) -> Quote:
        data.pop("account", None)
        data.pop("opportunity_id", None)
        return services.quote_update(quote=obj, by=self.request.user, data=data, version=version)

    def perform_service_delete(self, obj: Quote) -> None:
        services.quote_delete(quote=obj, by=self.request.user)

    # --- lines ------------------------------------------------------------------------------

    @extend_schema(
        methods=["GET"],
        summary="List a quote's lines",
        responses={200: QuoteLineSerializer(many=True), 404: ErrorSerializer},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a line to a draft",
        request=QuoteLineSerializer,
        responses={201: QuoteLineSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], serializer_class=QuoteLineSerializer, pagination_class=None)
    def lines(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            return Response(QuoteLineSerializer(obj.lines.all(), many=True, context=context).data)
        body = QuoteLineSerializer(data=request.data, context=context)
        body.is_valid(raise_exception=True)
        values = {k: v for k, v in body.validated_data.items() if v is not None or k in ("product",)}
        version = values.pop("version", None)
        if values.get("product") is None:
            values.pop("product", None)
        line = services.quote_line_add(quote=obj, by=request.user, data=values, version=version)
        return Response(QuoteLineSerializer(line, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Put a draft's lines in order",
        request=QuoteLinesReorderSerializer,
        responses={200: QuoteLineSerializer(many=True), **ERRORS},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="lines/reorder",
        serializer_class=QuoteLinesReorderSerializer,
        pagination_class=None,
    )
    def lines_reorder(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        body = QuoteLinesReorderSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        services.quote_lines_reorder(
            quote=obj,
            by=request.user,
            order=body.validated_data["lines"],
            version=body.validated_data.get("version"),
        )
        return Response(
            QuoteLineSerializer(obj.lines.all(), many=True, context=self.get_serializer_context()).data
        )

    # --- status moves ---------------------------------------------------------------------------

    def _read(self, instance: Any) -> Any:
        """The quote as the user may see it (actions declare their body's serializer)."""
        fresh = self.get_queryset().filter(pk=instance.pk).first() if self.action != "destroy" else None
        if fresh is None:
            fresh = Quote.objects.restrict(self.request.user, Action.VIEW).filter(pk=instance.pk).first()
        if fresh is None:
            return {"id": instance.pk}
        return QuoteSerializer(fresh, context=self.get_serializer_context()).data

    @extend_schema(
        summary="Submit a draft for approval (approved at once when no rule applies)",
        request=None,
        responses={200: QuoteSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.service_action(lambda quote, _v: services.quote_submit(quote=quote, by=request.user))

    def _decidable(self) -> Quote:
        pk = str(self.kwargs.get("pk") or "0")
        visible = Quote.objects.restrict(self.request.user, Action.VIEW).filter(pk=pk).first()
        if visible is not None:
            return visible
        step = approvals_for(self.request.user).filter(quote_id=pk).select_related("quote").first()
        if step is None:
            raise Http404
        return step.quote

    def _decided(self, quote: Quote) -> Any:
        fresh = Quote.objects.restrict(self.request.user, Action.VIEW).filter(pk=quote.pk).first()
        if fresh is None:  # an approver who may not view the quote: its id and new status only
            quote.refresh_from_db(fields=["status"])
            return {"id": quote.pk, "status": quote.status}
        return self._read(fresh)

    def _decide(self, decide: Callable[..., Quote]) -> Response:
        """Approve or reject the steps the user may decide (also approvers who cannot view the quote)."""
        by = self.request.user
        return self.service_action(
            lambda quote, values: decide(quote=quote, by=by, comment=values.get("comment", "")),
            CommentSerializer,
            target=self._decidable,
            answer=self._decided,
        )

    @extend_schema(
        summary="Approve (the steps you may decide)",
        request=CommentSerializer,
        responses={200: QuoteSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], serializer_class=CommentSerializer)
    def approve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._decide(services.quote_approve)

    @extend_schema(
        summary="Reject back to draft, with a comment",
        request=CommentSerializer,
        responses={200: QuoteSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], serializer_class=CommentSerializer)
    def reject(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._decide(services.quote_reject)

    @extend_schema(
        summary="Withdraw a quote waiting for approval",
        request=None,
        responses={200: QuoteSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def recall(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.service_action(lambda quote, _v: services.quote_recall(quote=quote, by=request.user))

    @extend_schema(
        summary="Mark an approved quote as sent", request=None, responses={200: QuoteSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def send(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.service_action(
            lambda quote, _v: services.quote_mark_sent(quote=quote, by=request.user, channel="api")
        )

    @extend_schema(
        summary="The customer accepted", request=NoteSerializer, responses={200: QuoteSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"], serializer_class=NoteSerializer)
    def accept(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.service_action(
            lambda quote, values: services.quote_accept(
                quote=quote, by=request.user, note=values.get("note", "")
            ),
            NoteSerializer,
        )

    @extend_schema(
        summary="The customer declined, with the reason",
        request=ReasonSerializer,
        responses={200: QuoteSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], serializer_class=ReasonSerializer)
    def decline(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.service_action(
            lambda quote, values: services.quote_reject_by_customer(
                quote=quote, by=request.user, reason=values["reason"]
            ),
            ReasonSerializer,
        )

    @extend_schema(
        summary="Create the next version (a draft)", request=None, responses={201: QuoteSerializer, **ERRORS}
    )
    @action(detail=True, methods=["post"])
    def revise(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.service_action(
            lambda quote, _v: services.quote_revise(quote=quote, by=request.user),
            status_code=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    retrieve=extend_schema(summary="Get a quote line"),
    update=extend_schema(summary="Replace a draft's line", responses={200: QuoteLineSerializer, **ERRORS}),
    partial_update=extend_schema(
        summary="Change a draft's line", responses={200: QuoteLineSerializer, **ERRORS}
    ),
    destroy=extend_schema(summary="Remove a draft's line", responses={204: None, **ERRORS}),
)
@extend_schema(tags=["commerce"])
class QuoteLineViewSet(
    mixins.RetrieveModelMixin, mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    """Lines of the quotes you may view (list and add them under ``quotes/{id}/lines/``)."""

    serializer_class = QuoteLineSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        visible = Quote.objects.restrict(self.request.user, Action.VIEW)
        return QuoteLine.objects.filter(quote__in=visible).select_related("quote")

    def get_object(self) -> Any:
        return get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])

    def perform_update(self, serializer: Any) -> None:
        data = dict(serializer.validated_data)
        version = data.pop("version", None)
        serializer.instance = services.quote_line_update(
            line=serializer.instance, by=self.request.user, data=data, version=version
        )

    def perform_destroy(self, instance: Any) -> None:
        services.quote_line_delete(line=instance, by=self.request.user)


class ApprovalRuleSerializer(serializers.ModelSerializer):
    role = serializers.PrimaryKeyRelatedField(queryset=Role.objects.all(), required=False, allow_null=True)

    class Meta:
        model = ApprovalRule
        fields = [
            "id",
            "name",
            "kind",
            "threshold",
            "approver_kind",
            "role",
            "position",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


@extend_schema_view(
    create=extend_schema(responses={201: ApprovalRuleSerializer, **ERRORS}),
    update=extend_schema(responses={200: ApprovalRuleSerializer, **ERRORS}),
    partial_update=extend_schema(responses={200: ApprovalRuleSerializer, **ERRORS}),
)
@extend_schema(tags=["commerce"])
class ApprovalRuleViewSet(RestrictedModelViewSet):
    """When a submitted quote needs approval and by whom (settings)."""

    model = ApprovalRule
    serializer_class = ApprovalRuleSerializer
    filterset_class = ApprovalRuleFilterSet
    select_related = ("role",)

    def perform_service_create(self, data: dict[str, Any]) -> ApprovalRule:
        return rule_services.approval_rule_create(by=self.request.user, data=data)

    def perform_service_update(
        self, obj: ApprovalRule, data: dict[str, Any], version: int | None
    ) -> ApprovalRule:
        return rule_services.approval_rule_update(rule=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: ApprovalRule) -> None:
        rule_services.approval_rule_delete(rule=obj, by=self.request.user)


@extend_schema(tags=["commerce"])
class ApprovalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The approvals inbox: pending approval steps you may decide (decide with
    ``POST quotes/{id}/approve/`` or ``…/reject/``)."""

    serializer_class = QuoteApprovalSerializer

    def get_queryset(self) -> Any:
        return approvals_for(self.request.user)


def register(router: SimpleRouter) -> None:
    """Register this area's viewsets."""
    router.register("quotes", QuoteViewSet, basename="quote")
    router.register("quote-lines", QuoteLineViewSet, basename="quote-line")
    router.register("approval-rules", ApprovalRuleViewSet, basename="approval-rule")
    router.register("approvals", ApprovalViewSet, basename="approval")


urlpatterns: list[URLPattern] = []
