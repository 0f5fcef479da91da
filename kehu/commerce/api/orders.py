"""Orders over the API: CRUD with the list's filters, lines (while the order is in its initial
status), ``move-status/``, order statuses (read), and the conversions ``POST quotes/{id}/order/``
and ``POST contracts/{id}/order/``. Writes go through `kehu.commerce.services.orders`."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from kehu.catalog.models import Product
from kehu.core.api.actions import ERRORS, ServiceActionMixin
from kehu.core.api.mixins import ACTION_MAP, RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can
from kehu.sales.api.common import (
    LINE_AMOUNTS,
    UNIT_PRICE_HELP,
    PriceSourceTextField,
    line_description,
    line_quantity,
    optional_decimal,
)

from ..filtersets_orders import OrderFilterSet
from ..models import Contract, Order, OrderLine, OrderStatus, Quote
from ..selectors import orders as selectors
from ..services import orders as services
from .contracts import STAMPS, DealDocumentSerializer


class OrderStatusSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderStatus
        fields = ["id", "code", "name", "name_en", "kind", "position", "is_initial", "next_statuses"]
        read_only_fields = fields


class OrderLineSerializer(serializers.ModelSerializer):
    """A line of an order. Amounts are computed (per line, half-up to the currency's minor unit);
    the order's totals are the sums of its lines."""

    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.none(), required=False, allow_null=True, help_text="Product id (optional)."
    )
    description = line_description()
    quantity = line_quantity()
    unit_price = optional_decimal(help_text=UNIT_PRICE_HELP)
    discount_percent = optional_decimal(max_digits=7)
    discount_amount = optional_decimal()
    tax_rate = optional_decimal(max_digits=5, decimal_places=2, help_text="Default: the product's.")
    order_version = serializers.IntegerField(
        required=False,
        min_value=1,
        write_only=True,
        help_text="The order's version you read (409 when stale).",
    )

    price_source_text = PriceSourceTextField()

    class Meta:
        model = OrderLine
        fields = [
            "id",
            "order",
            "position",
            "product",
            "product_code",
            "description",
            "quantity",
            "unit",
            "unit_price",
            "price_source",
            "price_source_text",
            "discount_percent",
            "discount_amount",
            "tax_rate",
            *LINE_AMOUNTS,
            "order_version",
        ]
        read_only_fields = [
            "id",
            "order",
            "position",
            "product_code",
            "unit",
            "price_source",
            "price_source_text",
            *LINE_AMOUNTS,
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if "product" in fields:
            fields["product"].queryset = (  # type: ignore[attr-defined]
                Product.objects.restrict(user, Action.VIEW) if user is not None else Product.objects.none()
            )
        return fields


class OrderSerializer(DealDocumentSerializer):
    ordered_on = serializers.DateField(required=False, help_text="Default: today.")
    delivery_address = serializers.CharField(
        required=False, allow_blank=True, help_text="Default: the account's shipping (else primary) address."
    )
    status: Any = serializers.PrimaryKeyRelatedField(
        read_only=True, help_text="Change with POST …/move-status/."
    )
    status_code = serializers.CharField(source="status.code", read_only=True)
    lines = serializers.SerializerMethodField()

    class Meta:
        model = Order
        fields = [
            "id",
            "number",
            "account",
            "contact",
            "opportunity",
            "contract",
            "quote",
            "status",
            "status_code",
            "status_changed_at",
            "currency",
            "ordered_on",
            "delivery_address",
            "shipping_notes",
            "subtotal",
            "discount_total",
            "net_total",
            "tax_total",
            "total",
            "lines",
            "owner",
            "department",
            "custom",
            "version",
            *STAMPS,
        ]
        read_only_fields = [
            "id",
            "number",
            "contract",
            "quote",
            "status_changed_at",
            "subtotal",
            "discount_total",
            "net_total",
            "tax_total",
            "total",
            "owner",
            "department",
            *STAMPS,
        ]

    @extend_schema_field(OrderLineSerializer(many=True))
    def get_lines(self, obj: Order) -> list[dict[str, Any]]:
        return OrderLineSerializer(obj.lines.all(), many=True, context=self.context).data  # type: ignore[return-value]


class MoveStatusSerializer(serializers.Serializer):
    status = serializers.PrimaryKeyRelatedField(
        queryset=OrderStatus.objects.all(), help_text="Target status id."
    )
    note = serializers.CharField(required=False, allow_blank=True, help_text="Shown on the timeline.")
    version = serializers.IntegerField(required=False, min_value=1)


LINE = OpenApiParameter("line_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the line.")


@extend_schema_view(
    list=extend_schema(summary="List orders you may view"),
    retrieve=extend_schema(summary="Get an order"),
    create=extend_schema(summary="Create an order", responses={201: OrderSerializer, **ERRORS}),
    update=extend_schema(summary="Replace an order's header", responses={200: OrderSerializer, **ERRORS}),
    partial_update=extend_schema(
        summary="Change an order's header", responses={200: OrderSerializer, **ERRORS}
    ),
    destroy=extend_schema(summary="Delete an order in its initial status", responses={204: None, **ERRORS}),
)
@extend_schema(tags=["commerce"])
class OrderViewSet(ServiceActionMixin, RestrictedModelViewSet):
    """Orders (订单). The status changes only through ``POST {id}/move-status/`` (the statuses'
    allowed moves); lines change only while the order is in its initial status."""

    model = Order
    serializer_class = OrderSerializer
    filterset_class = OrderFilterSet
    select_related = ("account", "owner", "status", "contract")

    def get_queryset(self) -> Any:
        needed = ACTION_MAP.get(self.action or "", Action.VIEW)
        qs = selectors.order_list(user=self.request.user, action=needed)
        return qs.prefetch_related("lines") if self.action in ("list", "retrieve") else qs

    def perform_service_create(self, data: dict[str, Any]) -> Order:
        return services.order_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Order, data: dict[str, Any], version: int | None) -> Order:
        return services.order_update(order=obj, by=self.request.user, data=data, version=version)

    def perform_service_delete(self, obj: Order) -> None:
        services.order_delete(order=obj, by=self.request.user)

    @extend_schema(request=MoveStatusSerializer, responses={200: OrderSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="move-status")
    def move_status(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Move the order to a status its current status allows (409 otherwise, and from a final one)."""
        return self.service_action(
            lambda order, values: services.order_move_status(
                order=order,
                status=values["status"],
                by=request.user,
                version=values.get("version"),
                note=values.get("note", ""),
            ),
            MoveStatusSerializer,
        )

    @extend_schema(
        methods=["GET"], summary="List an order's lines", responses={200: OrderLineSerializer(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        summary="Add a line (initial status only)",
        request=OrderLineSerializer,
        responses={201: OrderLineSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "post"], serializer_class=OrderLineSerializer)
    def lines(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        context = self.get_serializer_context()
        if request.method == "GET":
            return Response(
                OrderLineSerializer(selectors.order_lines(order=obj), many=True, context=context).data
            )
        body = OrderLineSerializer(data=request.data, context=context)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("order_version", None)
        line = services.order_line_add(order=obj, by=request.user, data=data, version=version)
        return Response(OrderLineSerializer(line, context=context).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["PATCH"],
        summary="Change a line (initial status only)",
        parameters=[LINE],
        request=OrderLineSerializer,
        responses={200: OrderLineSerializer, **ERRORS},
    )
    @extend_schema(
        methods=["DELETE"],
        summary="Remove a line (initial status only)",
        parameters=[LINE],
        request=None,
        responses={204: None, **ERRORS},
    )
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path=r"lines/(?P<line_id>\d+)",
        serializer_class=OrderLineSerializer,
    )
    def line(self, request: Request, line_id: str, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        found = get_object_or_404(OrderLine, pk=int(line_id), order=obj)
        context = self.get_serializer_context()
        if request.method == "DELETE":
            services.order_line_delete(line=found, by=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        body = OrderLineSerializer(found, data=request.data, partial=True, context=context)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        version = data.pop("order_version", None)
        line = services.order_line_update(line=found, by=request.user, data=data, version=version)
        return Response(OrderLineSerializer(line, context=context).data)


@extend_schema_view(
    list=extend_schema(summary="List the order statuses"),
    retrieve=extend_schema(summary="Get an order status"),
)
@extend_schema(tags=["commerce"])
class OrderStatusViewSet(viewsets.ReadOnlyModelViewSet):
    """Order statuses and their allowed moves (edited on the settings page)."""

    serializer_class = OrderStatusSerializer
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        return selectors.order_statuses()


def _created(request: Request, make: Any) -> Response:
    if not can(request.user, Order, Action.ADD):
        raise PermissionDenied
    order = make()
    return Response(OrderSerializer(order, context={"request": request}).data, status=status.HTTP_201_CREATED)


class QuoteOrderView(APIView):
    """``POST /api/v1/commerce/quotes/{id}/order/``: an order from an accepted quote (latest version),
    its lines copied exactly."""

    @extend_schema(
        tags=["commerce"],
        summary="Create an order from an accepted quote",
        request=None,
        responses={201: OrderSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        quote = get_object_or_404(Quote.objects.restrict(request.user, Action.VIEW), pk=pk)
        return _created(request, lambda: services.order_create_from_quote(by=request.user, quote=quote))


class ContractOrderView(APIView):
    """``POST /api/v1/commerce/contracts/{id}/order/``: an order from a draft or active contract
    (its quote's lines copied when it came from one)."""

    @extend_schema(
        tags=["commerce"],
        summary="Create an order from a contract",
        request=None,
        responses={201: OrderSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        contract = get_object_or_404(Contract.objects.restrict(request.user, Action.VIEW), pk=pk)
        return _created(
            request, lambda: services.order_create_from_contract(by=request.user, contract=contract)
        )


urlpatterns: list[URLPattern] = [
    path("quotes/<int:pk>/order/", QuoteOrderView.as_view(), name="quote-order"),
    path("contracts/<int:pk>/order/", ContractOrderView.as_view(), name="contract-order"),
]


def register(router: SimpleRouter) -> None:
    """Register this area's viewsets."""
    router.register("orders", OrderViewSet, basename="order")
    router.register("order-statuses", OrderStatusViewSet, basename="orderstatus")
