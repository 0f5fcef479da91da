"""The catalog over the API: products, categories, price lists with their prices, currencies,
exchange rates, and the price a line gets (`prices/resolve/`). Writes go through the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ACTION_MAP, ModelActionPermission, RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can
from kehu.customers.models import Account

from .. import selectors, services
from ..filtersets import ExchangeRateFilterSet, PriceListFilterSet, ProductFilterSet
from ..models import Currency, ExchangeRate, PriceList, PriceListItem, Product, ProductCategory
from .serializers import (
    CategorySerializer,
    CurrencySerializer,
    ExchangeRateSerializer,
    PriceItemSerializer,
    PriceListSerializer,
    PriceQuerySerializer,
    PriceSetSerializer,
    ProductSerializer,
    ResolvedPriceSerializer,
)


def _crud(noun: str, plural: str) -> dict[str, Any]:
    return {
        "list": extend_schema(summary=f"List {plural}"),
        "retrieve": extend_schema(summary=f"Get a {noun}"),
        "create": extend_schema(summary=f"Create a {noun}"),
        "update": extend_schema(summary=f"Replace a {noun}"),
        "partial_update": extend_schema(summary=f"Change a {noun}"),
        "destroy": extend_schema(summary=f"Delete a {noun}"),
    }


@extend_schema_view(**_crud("product", "products and services you may view"))
@extend_schema(tags=["catalog"])
class ProductViewSet(RestrictedModelViewSet):
    """Products and services (产品): what opportunity, quote and order lines refer to. Send the
    `version` you read with a change: a stale one answers 409."""

    model = Product
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet

    def get_queryset(self) -> Any:
        needed = ACTION_MAP.get(self.action or "", Action.VIEW)
        return selectors.product_list(user=self.request.user, action=needed)

    def perform_service_create(self, data: dict[str, Any]) -> Product:
        return services.product_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Product, data: dict[str, Any], version: int | None) -> Product:
        return services.product_update(product=obj, by=self.request.user, data=data, version=version)

    def perform_service_delete(self, obj: Product) -> None:
        services.product_delete(product=obj, by=self.request.user)


@extend_schema_view(**_crud("product category", "product categories"))
@extend_schema(tags=["catalog"])
class CategoryViewSet(RestrictedModelViewSet):
    """The product category tree (`parent` null: a top-level category). A category that still
    holds products or subcategories cannot be deleted (409)."""

    model = ProductCategory
    serializer_class = CategorySerializer
    select_related = ("parent",)

    def perform_service_create(self, data: dict[str, Any]) -> ProductCategory:
        return services.category_create(by=self.request.user, data=data)

    def perform_service_update(
        self, obj: ProductCategory, data: dict[str, Any], version: int | None
    ) -> ProductCategory:
        return services.category_update(category=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: ProductCategory) -> None:
        services.category_delete(category=obj, by=self.request.user)


PRICE_ITEM = OpenApiParameter(
    "item_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the price (tier)."
)


@extend_schema_view(**_crud("price list", "price lists"))
@extend_schema(tags=["catalog"])
class PriceListViewSet(RestrictedModelViewSet):
    """Price lists (价目表): prices in one currency for everyone, a customer level or one account,
    valid between two dates, with quantity tiers (`prices/`). Prices follow their list: reading
    them needs "view" on price lists, setting and deleting them "change"."""

    model = PriceList
    serializer_class = PriceListSerializer
    filterset_class = PriceListFilterSet
    select_related = ("currency", "account")

    def perform_service_create(self, data: dict[str, Any]) -> PriceList:
        return services.price_list_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: PriceList, data: dict[str, Any], version: int | None) -> PriceList:
        return services.price_list_update(price_list=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: PriceList) -> None:
        services.price_list_delete(price_list=obj, by=self.request.user)

    def _changeable(self) -> PriceList:
        """The price list (404 outside the view scope), which the user must also be allowed to change
        (403)."""
        price_list: PriceList = self.get_object()
        allowed = PriceList.objects.restrict(self.request.user, Action.CHANGE).filter(pk=price_list.pk)
        if not allowed.exists():
            raise PermissionDenied(_("You may not change this price list."))
        return price_list

    @extend_schema(
        methods=["GET"],
        summary="List the prices of a price list",
        parameters=[OpenApiParameter("product", OpenApiTypes.INT, description="Only this product's tiers.")],
        responses={200: PriceItemSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Set a price (create or replace the tier of a product and quantity)",
        request=PriceSetSerializer,
        responses={200: PriceItemSerializer, 201: PriceItemSerializer},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filterset_class=None)
    def prices(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """GET: every tier, by product code and quantity. POST: the unit price of `product` from
        `min_quantity` on (201 when new, 200 when it replaced the tier's price)."""
        if request.method == "GET":
            price_list = self.get_object()
            items = selectors.price_list_items(price_list=price_list).filter(
                product__in=Product.objects.restrict(request.user, Action.VIEW)
            )
            product = request.query_params.get("product")
            if product is not None:
                if not product.isdigit():
                    raise serializers.ValidationError({"product": [_("Enter a whole number.")]})
                items = items.filter(product_id=int(product))
            return Response(PriceItemSerializer(items, many=True).data)
        price_list = self._changeable()
        body = PriceSetSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        product = data["product"]
        kwargs = {"min_quantity": data["min_quantity"]} if "min_quantity" in data else {}
        existed = price_list.items.filter(product=product, min_quantity=data.get("min_quantity", 1)).exists()
        item = services.price_set(
            price_list=price_list, product=product, unit_price=data["unit_price"], by=request.user, **kwargs
        )
        return Response(
            PriceItemSerializer(item).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )

    @extend_schema(
        summary="Delete a price (one tier)", parameters=[PRICE_ITEM], request=None, responses={204: None}
    )
    @action(detail=True, methods=["delete"], url_path=r"prices/(?P<item_id>\d+)")
    def price_delete(self, request: Request, *args: Any, item_id: str, **kwargs: Any) -> Response:
        price_list = self._changeable()
        item = PriceListItem.objects.filter(price_list=price_list, pk=int(item_id)).first()
        if item is None:
            raise NotFound()
        services.price_delete(item=item, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


CURRENCY_ID = OpenApiParameter(
    "id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The currency's id or its ISO 4217 code (e.g. USD).",
    pattern=r"^([0-9]+|[A-Za-z]{3})$",
)


@extend_schema_view(
    retrieve=extend_schema(summary="Get a currency", parameters=[CURRENCY_ID]),
    update=extend_schema(summary="Replace a currency (not its code)", parameters=[CURRENCY_ID]),
    partial_update=extend_schema(summary="Change a currency (not its code)", parameters=[CURRENCY_ID]),
    destroy=extend_schema(
        summary="Delete a currency (not the company currency; 409 when in use)", parameters=[CURRENCY_ID]
    ),
    reveal=extend_schema(parameters=[CURRENCY_ID]),
    list=extend_schema(summary="List currencies"),
    create=extend_schema(summary="Add a currency"),
)
@extend_schema(tags=["catalog"])
class CurrencyViewSet(RestrictedModelViewSet):
    """Currencies documents may use; exactly one is the company currency (reports convert to it).
    Address one by id or by its code: `currencies/USD/`."""

    model = Currency
    serializer_class = CurrencySerializer
    lookup_url_kwarg = "id"
    lookup_value_regex = r"[0-9]+|[A-Za-z]{3}"

    def get_object(self) -> Any:
        value = str(self.kwargs[self.lookup_url_kwarg])
        if not value.isdigit():
            self.lookup_field = "code"
            self.kwargs[self.lookup_url_kwarg] = value.upper()
        return super().get_object()

    def perform_service_create(self, data: dict[str, Any]) -> Currency:
        return services.currency_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Currency, data: dict[str, Any], version: int | None) -> Currency:
        return services.currency_update(currency=obj, by=self.request.user, data=data)

    def perform_service_delete(self, obj: Currency) -> None:
        services.currency_delete(currency=obj, by=self.request.user)

    @extend_schema(
        summary="Make this the company currency",
        parameters=[CURRENCY_ID],
        request=None,
        responses={200: CurrencySerializer},
    )
    @action(detail=True, methods=["post"], url_path="make-company")
    def make_company(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The previous company currency stops being it; exchange rates relative to it no longer
        apply. Needs "change" on currencies."""
        currency = self.get_object()
        if not Currency.objects.restrict(request.user, Action.CHANGE).filter(pk=currency.pk).exists():
            raise PermissionDenied(_("You may not change this currency."))
        currency = services.currency_make_company(currency=currency, by=request.user)
        return Response(self._read(currency))


@extend_schema_view(
    list=extend_schema(summary="List exchange rates"),
    retrieve=extend_schema(summary="Get an exchange rate"),
    create=extend_schema(
        summary="Set the rate of a currency from a day (replaces that day's rate)",
        responses={200: ExchangeRateSerializer, 201: ExchangeRateSerializer},
    ),
    destroy=extend_schema(summary="Delete an exchange rate"),
)
@extend_schema(tags=["catalog"])
class ExchangeRateViewSet(RestrictedModelViewSet):
    """Company-currency units for one unit of a currency, from a day on (the rate of a date is the
    latest one on or before it). One rate a day per currency: setting it again replaces it."""

    model = ExchangeRate
    serializer_class = ExchangeRateSerializer
    filterset_class = ExchangeRateFilterSet
    select_related = ("currency",)
    http_method_names = ["get", "post", "delete", "head", "options"]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        existing = ExchangeRate.objects.filter(currency=data["currency"], valid_on=data["valid_on"]).first()
        if existing is not None and not (
            ExchangeRate.objects.restrict(request.user, Action.CHANGE).filter(pk=existing.pk).exists()
        ):
            raise PermissionDenied(_("You may not change this exchange rate."))
        rate = services.exchange_rate_set(
            currency=data["currency"],
            valid_on=data["valid_on"],
            rate=data["rate"],
            source=data.get("source", ""),
            by=request.user,
        )
        return Response(
            self._read(rate), status=status.HTTP_200_OK if existing is not None else status.HTTP_201_CREATED
        )

    def perform_service_delete(self, obj: ExchangeRate) -> None:
        services.exchange_rate_delete(rate=obj, by=self.request.user)


class PriceResolvePermission(ModelActionPermission):
    """Signed in and allowed to view price lists."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return super().has_permission(request, view) and can(request.user, PriceList, Action.VIEW)


@extend_schema(tags=["catalog"])
class PriceResolveView(APIView):
    """The unit price a line gets (the one rule of `kehu.catalog.selectors.price_for`)."""

    permission_classes = [PriceResolvePermission]

    @extend_schema(
        summary="The unit price of a product for a quantity, currency, customer and day",
        parameters=[PriceQuerySerializer],
        responses={200: ResolvedPriceSerializer, 404: ErrorSerializer},
    )
    def get(self, request: Request) -> Response:
        """Among the active price lists of the currency valid that day: the account's own first,
        then its customer level's, then those for everyone; within them the newest, then the
        highest quantity tier not above `quantity`. 404: the product, currency or account is not
        found (or outside your scope), or no list prices the product."""
        query = PriceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        product = selectors.product_list(user=request.user).filter(pk=params["product"]).first()
        if product is None:
            raise NotFound(_("Product not found."))
        wanted = str(params["currency"]).strip()
        lookup = Q(pk=int(wanted)) if wanted.isdigit() else Q(code=wanted.upper())
        currency = Currency.objects.filter(lookup).first()
        if currency is None:
            raise NotFound(_("Currency not found."))
        account = None
        if params.get("account") is not None:
            account = Account.objects.restrict(request.user, Action.VIEW).filter(pk=params["account"]).first()
            if account is None:
                raise NotFound(_("Account not found."))
        resolved = selectors.price_for(
            product=product,
            currency=currency,
            quantity=params.get("quantity", Decimal(1)),
            account=account,
            on=params.get("on"),
        )
        if resolved is None:
            raise NotFound(_("No price list prices this product for that currency, customer and day."))
        return Response(
            ResolvedPriceSerializer(
                {
                    "unit_price": resolved.unit_price,
                    "price_list": {"id": resolved.price_list.pk, "name": resolved.price_list.name},
                    "min_quantity": resolved.min_quantity,
                    "explanation": resolved.explanation,
                }
            ).data
        )
