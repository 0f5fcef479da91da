"""Payment plans, instalments, payments (回款), invoices (发票), receivables aging and account credit
over the API. Writes go through `kehu.commerce.services.payments` / `.invoices`; reads start from
`restrict()`.

* ``payment-plans/``: list, get; POST sets (creates or replaces) the plan of a contract or an order;
  PUT ``payment-plans/{id}/`` replaces its instalments.
* ``instalments/``: list, get (filters: account, plan, due dates, outstanding);
  ``instalments/{id}/apply-credit/`` pays it from the account's credit.
* ``payments/``: list, get, POST records a payment; ``payments/{id}/reverse/``.
* ``invoices/``: list, get, create, change (drafts); ``invoices/{id}/issue/``, ``invoices/{id}/void/``.
* ``receivables/aging/``: outstanding money by aging bucket; ``accounts/{id}/credit/``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Exists, OuterRef
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import ModelActionPermission, RestrictedModelViewSet
from kehu.core.choices import Action
from kehu.core.permissions import can
from kehu.customers.models import Account

from ..choices import AgingBucket, InvoiceKind, PaymentMethod
from ..filtersets_payments import InstalmentFilterSet, InvoiceFilterSet, PaymentFilterSet
from ..models import Contract, Instalment, Invoice, Order, Payment, PaymentPlan
from ..selectors import payments as selectors
from ..selectors.receivables import GROUPINGS, aging
from ..services import invoices as invoice_services
from ..services import payments as services

ERRORS = {400: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer, 409: ErrorSerializer}
STAMPS = ["created_at", "updated_at"]
MONEY: dict[str, Any] = {"max_digits": 18, "decimal_places": 4}


def _user(serializer: serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def _visible(serializer: Any, fields: dict[str, Any], links: dict[str, Any]) -> None:
    user = _user(serializer)
    for name, model in links.items():
        if name in fields and not fields[name].read_only:
            qs = model.objects.restrict(user, Action.VIEW) if user is not None else model.objects.none()
            if name == "payments":
                fields[name].child_relation.queryset = qs
            else:
                fields[name].queryset = qs


# --- serializers ------------------------------------------------------------------------------


class InstalmentSerializer(serializers.ModelSerializer):
    outstanding = serializers.DecimalField(**MONEY, read_only=True, help_text="amount − received.")

    class Meta:
        model = Instalment
        fields = [
            "id",
            "plan",
            "account",
            "sequence",
            "due_on",
            "currency",
            "amount",
            "received",
            "outstanding",
            "note",
            "overdue_notified_at",
            "owner",
            "department",
        ]
        read_only_fields = fields


class PaymentPlanSerializer(serializers.ModelSerializer):
    instalments = InstalmentSerializer(many=True, read_only=True)

    class Meta:
        model = PaymentPlan
        fields = [
            "id",
            "account",
            "contract",
            "order",
            "currency",
            "total",
            "owner",
            "department",
            "instalments",
            *STAMPS,
        ]
        read_only_fields = fields


class InstalmentInSerializer(serializers.Serializer):
    due_on = serializers.DateField()
    amount = serializers.DecimalField(**MONEY, help_text="> 0, in the currency's minor unit.")
    note = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class PlanSetSerializer(serializers.Serializer):
    contract = serializers.PrimaryKeyRelatedField(
        queryset=Contract.objects.none(), required=False, allow_null=True, help_text="Contract id (or order)."
    )
    order = serializers.PrimaryKeyRelatedField(
        queryset=Order.objects.none(), required=False, allow_null=True, help_text="Order id (or contract)."
    )
    instalments = InstalmentInSerializer(
        many=True, help_text="Due dates in order; the amounts add up exactly to the document's value."
    )

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        user = _user(self)
        fields["contract"].queryset = Contract.objects.restrict(user, Action.CHANGE)  # type: ignore[attr-defined]
        fields["order"].queryset = Order.objects.restrict(user, Action.CHANGE)  # type: ignore[attr-defined]
        return fields


class InstalmentsSetSerializer(serializers.Serializer):
    instalments = InstalmentInSerializer(many=True)


class PaymentSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), required=False, help_text="Account id (default: the instalment's)."
    )
    instalment = serializers.PrimaryKeyRelatedField(
        queryset=Instalment.objects.none(),
        required=False,
        allow_null=True,
        help_text="Instalment id; without one the whole amount is a credit (needs allow_credit).",
    )
    amount = serializers.DecimalField(**MONEY, help_text="> 0.")
    received_on = serializers.DateField(required=False, help_text="Default: today; not in the future.")
    method = serializers.ChoiceField(choices=PaymentMethod.choices, default=PaymentMethod.BANK_TRANSFER)
    currency = serializers.CharField(
        max_length=3, required=False, help_text="Only without an instalment (default: company currency)."
    )
    allow_credit = serializers.BooleanField(
        write_only=True,
        default=False,
        help_text="Keep what exceeds the instalment as a credit on the account.",
    )
    reversed = serializers.SerializerMethodField(help_text="Whether a reversal row exists.")

    class Meta:
        model = Payment
        fields = [
            "id",
            "number",
            "account",
            "plan",
            "instalment",
            "currency",
            "amount",
            "applied",
            "credited",
            "received_on",
            "method",
            "reference",
            "note",
            "allow_credit",
            "reverses",
            "reversal_reason",
            "reversed",
            "owner",
            "department",
            *STAMPS,
        ]
        read_only_fields = [
            "id",
            "number",
            "plan",
            "applied",
            "credited",
            "reverses",
            "reversal_reason",
            "owner",
            "department",
            *STAMPS,
        ]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        _visible(self, fields, {"account": Account, "instalment": Instalment})
        return fields

    def get_reversed(self, obj: Payment) -> bool:
        flag = getattr(obj, "has_reversal", None)
        return bool(flag) if flag is not None else Payment.objects.filter(reverses=obj).exists()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("account") and not attrs.get("instalment"):
            raise serializers.ValidationError({"account": [_("Give the account or the instalment.")]})
        return attrs


class CreditApplySerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        **MONEY,
        help_text="> 0; at most the account's credit in the instalment's currency and what the "
        "instalment still lacks.",
    )


class CreditAppliedSerializer(serializers.Serializer):
    instalment = InstalmentSerializer(help_text="The instalment after the credit was applied.")
    amount = serializers.DecimalField(**MONEY, help_text="The credit used.")
    credit = serializers.DecimalField(**MONEY, help_text="The account's credit left in that currency.")


class ReverseSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the payment is reversed.")


class InvoiceSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), help_text="Account id.")
    contract = serializers.PrimaryKeyRelatedField(
        queryset=Contract.objects.none(), required=False, allow_null=True
    )
    order = serializers.PrimaryKeyRelatedField(queryset=Order.objects.none(), required=False, allow_null=True)
    payments = serializers.PrimaryKeyRelatedField(
        queryset=Payment.objects.none(), many=True, required=False, help_text="Payments the invoice covers."
    )
    kind = serializers.ChoiceField(choices=InvoiceKind.choices, default=InvoiceKind.SPECIAL_VAT)
    amount = serializers.DecimalField(**MONEY, help_text="Excluding tax, ≥ 0.")
    tax = serializers.DecimalField(**MONEY, required=False, help_text="≥ 0; total = amount + tax.")
    override = serializers.BooleanField(
        write_only=True,
        default=False,
        help_text="Invoice above the contracted amount (needs change on invoices with scope all).",
    )
    override_reason = serializers.CharField(required=False, allow_blank=True)
    version = serializers.IntegerField(required=False, min_value=1, help_text="A stale version answers 409.")

    class Meta:
        model = Invoice
        fields = [
            "id",
            "number",
            "kind",
            "status",
            "account",
            "contract",
            "order",
            "buyer_name",
            "buyer_tax_id",
            "currency",
            "amount",
            "tax",
            "total",
            "issued_on",
            "payments",
            "over_limit",
            "override",
            "override_reason",
            "note",
            "owner",
            "department",
            "version",
            *STAMPS,
        ]
        read_only_fields = ["id", "status", "total", "over_limit", "owner", "department", *STAMPS]

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if isinstance(self.instance, Invoice):
            fields["account"].read_only = True
        _visible(
            self, fields, {"account": Account, "contract": Contract, "order": Order, "payments": Payment}
        )
        return fields


class IssueSerializer(serializers.Serializer):
    number = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        help_text="The tax system's number (required unless the draft has one).",
    )
    issued_on = serializers.DateField(required=False, help_text="Default: today.")


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="Why the invoice is voided.")


# --- viewsets ---------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="List payment plans you may view"),
    retrieve=extend_schema(summary="Get a payment plan with its instalments"),
)
@extend_schema(tags=["commerce"])
class PaymentPlanViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Payment plans (回款计划) of contracts and orders."""

    model = PaymentPlan
    serializer_class = PaymentPlanSerializer
    permission_classes = [ModelActionPermission]
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "put", "head", "options"]

    def get_queryset(self) -> Any:
        return selectors.plan_list(user=self.request.user).prefetch_related("instalments")

    @extend_schema(
        summary="Set the payment plan of a contract or an order",
        request=PlanSetSerializer,
        responses={201: PaymentPlanSerializer, **ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = PlanSetSerializer(data=request.data, context={"request": request})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        rows = [(r["due_on"], r["amount"], r.get("note", "")) for r in data["instalments"]]
        document = data.get("contract") or data.get("order")
        if document is not None and not can(
            request.user, PaymentPlan, Action.CHANGE if selectors.plan_of(document) else Action.ADD
        ):
            raise PermissionDenied
        plan = services.payment_plan_set(
            contract=data.get("contract"), order=data.get("order"), instalments=rows, by=request.user
        )
        return Response(PaymentPlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Replace a plan's instalments",
        request=InstalmentsSetSerializer,
        responses={200: PaymentPlanSerializer, **ERRORS},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        if not can(request.user, PaymentPlan, Action.CHANGE):
            raise PermissionDenied
        document = plan.contract or plan.order
        model: Any = type(document)
        if not model.objects.restrict(request.user, Action.CHANGE).filter(pk=document.pk).exists():
            raise PermissionDenied
        body = InstalmentsSetSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        rows = [(r["due_on"], r["amount"], r.get("note", "")) for r in body.validated_data["instalments"]]
        plan = services.payment_plan_set(
            contract=plan.contract, order=plan.order, instalments=rows, by=request.user
        )
        return Response(PaymentPlanSerializer(plan).data)


@extend_schema_view(
    list=extend_schema(summary="List instalments you may view"),
    retrieve=extend_schema(summary="Get an instalment"),
)
@extend_schema(tags=["commerce"])
class InstalmentViewSet(viewsets.ReadOnlyModelViewSet):
    model = Instalment
    serializer_class = InstalmentSerializer
    filterset_class = InstalmentFilterSet
    permission_classes = [ModelActionPermission]
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> Any:
        return Instalment.objects.restrict(self.request.user, Action.VIEW).order_by("due_on", "pk")

    @extend_schema(
        summary="Pay an instalment from the account's credit",
        request=CreditApplySerializer,
        responses={200: CreditAppliedSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], url_path="apply-credit")
    def apply_credit(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Use (part of) the account's credit in the instalment's currency for the instalment: a
        negative credit entry, and the instalment's ``received`` goes up. Needs the permission to
        record payments; an instalment out of scope answers 404; an amount above the credit or
        above what the instalment lacks answers 400 with the reason under ``amount``."""
        instalment = self.get_object()
        if not can(request.user, Payment, Action.ADD):
            raise PermissionDenied
        body = CreditApplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        amount = body.validated_data["amount"]
        services.payment_apply_credit(instalment=instalment, amount=amount, by=request.user)
        instalment.refresh_from_db()
        credit = selectors.account_credit(instalment.account_id, instalment.currency)
        return Response(
            CreditAppliedSerializer({"instalment": instalment, "amount": amount, "credit": credit}).data
        )


@extend_schema_view(
    list=extend_schema(summary="List payments you may view"),
    retrieve=extend_schema(summary="Get a payment"),
    create=extend_schema(summary="Record a payment received", responses={201: PaymentSerializer, **ERRORS}),
)
@extend_schema(tags=["commerce"])
class PaymentViewSet(RestrictedModelViewSet):
    """Payments received (回款). Never changed or deleted: ``reverse/`` writes a reversal row."""

    model = Payment
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilterSet
    select_related = ("account",)
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> Any:
        needed = Action.CHANGE if self.action == "reverse" else Action.VIEW
        return selectors.payment_list(user=self.request.user, action=needed).annotate(
            has_reversal=Exists(Payment.objects.filter(reverses=OuterRef("pk")))
        )

    def perform_service_create(self, data: dict[str, Any]) -> Payment:
        instalment = data.get("instalment")
        account = data.get("account") or (instalment.account if instalment is not None else None)
        return services.payment_record(
            account=account,
            instalment=instalment,
            amount=data["amount"],
            received_on=data.get("received_on") or timezone.localdate(),
            method=data.get("method", PaymentMethod.BANK_TRANSFER),
            reference=data.get("reference", ""),
            note=data.get("note", ""),
            allow_credit=data.get("allow_credit", False),
            currency=data.get("currency"),
            by=self.request.user,
        )

    @extend_schema(request=ReverseSerializer, responses={201: PaymentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reverse the payment (reason required); answers the reversal row."""
        obj = self.get_object()
        body = ReverseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reversal = services.payment_reverse(
            payment=obj, reason=body.validated_data["reason"], by=request.user
        )
        return Response(self._read(reversal), status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(summary="List invoices you may view"),
    retrieve=extend_schema(summary="Get an invoice"),
    create=extend_schema(summary="Draft an invoice", responses={201: InvoiceSerializer, **ERRORS}),
    update=extend_schema(summary="Replace a draft invoice", responses={200: InvoiceSerializer, **ERRORS}),
    partial_update=extend_schema(
        summary="Change a draft invoice", responses={200: InvoiceSerializer, **ERRORS}
    ),
)
@extend_schema(tags=["commerce"])
class InvoiceViewSet(RestrictedModelViewSet):
    """Invoices (发票): draft → issued (``issue/``) → void (``void/``). Never deleted."""

    model = Invoice
    serializer_class = InvoiceSerializer
    filterset_class = InvoiceFilterSet
    select_related = ("account",)
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self) -> Any:
        needed = (
            Action.CHANGE if self.action in ("issue", "void", "update", "partial_update") else Action.VIEW
        )
        return selectors.invoice_list(user=self.request.user, action=needed).prefetch_related("payments")

    def perform_service_create(self, data: dict[str, Any]) -> Invoice:
        account = data.pop("account")
        override = data.pop("override", False)
        reason = data.pop("override_reason", "")
        return invoice_services.invoice_create(
            account=account, data=data, by=self.request.user, override=override, override_reason=reason
        )

    def perform_service_update(self, obj: Invoice, data: dict[str, Any], version: int | None) -> Invoice:
        data.pop("account", None)
        override = data.pop("override", False) or obj.over_limit
        reason = data.pop("override_reason", "") or obj.override_reason
        return invoice_services.invoice_update(
            invoice=obj,
            data=data,
            by=self.request.user,
            version=version,
            override=override,
            override_reason=reason,
        )

    @extend_schema(request=IssueSerializer, responses={200: InvoiceSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """draft → issued, with the tax system's number and the issue date."""
        obj = self.get_object()
        body = IssueSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = invoice_services.invoice_issue(
            invoice=obj,
            by=request.user,
            number=body.validated_data.get("number", ""),
            issued_on=body.validated_data.get("issued_on"),
        )
        return Response(self._read(done))

    @extend_schema(request=VoidSerializer, responses={200: InvoiceSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def void(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """draft or issued → void, with the reason."""
        obj = self.get_object()
        body = VoidSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        done = invoice_services.invoice_void(
            invoice=obj, by=request.user, reason=body.validated_data["reason"]
        )
        return Response(self._read(done))


# --- receivables and credit -------------------------------------------------------------------

AGING_ROW = inline_serializer(
    "AgingRow",
    {
        "account": serializers.IntegerField(allow_null=True),
        "account_name": serializers.CharField(),
        "currency": serializers.CharField(),
        "instalments": serializers.IntegerField(),
        "buckets": serializers.DictField(child=serializers.DecimalField(**MONEY)),
        "total": serializers.DecimalField(**MONEY),
        "company_total": serializers.DecimalField(**MONEY, allow_null=True),
    },
)


class AgingView(APIView):
    """``GET receivables/aging/``: outstanding instalments by days past due (not due, 0–30, 31–60,
    61–90, > 90; due on `as_of` = 0 days), per account and currency or per currency, with totals in
    the company currency (rate of `as_of`; currencies without a rate listed in `missing_rates`)."""

    permission_classes = [ModelActionPermission]

    @extend_schema(
        tags=["commerce"],
        summary="Receivables aging",
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATE, description="Default: today."),
            OpenApiParameter("account", OpenApiTypes.INT, description="One account only."),
            OpenApiParameter(
                "group_by", OpenApiTypes.STR, enum=list(GROUPINGS), description="account (default) or none."
            ),
        ],
        responses={
            200: inline_serializer(
                "Aging",
                {
                    "as_of": serializers.DateField(),
                    "company_currency": serializers.CharField(),
                    "buckets": serializers.ListField(child=serializers.CharField()),
                    "totals": serializers.DictField(child=serializers.DecimalField(**MONEY)),
                    "total": serializers.DecimalField(**MONEY),
                    "missing_rates": serializers.ListField(child=serializers.CharField()),
                    "rows": serializers.ListField(child=AGING_ROW),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request) -> Response:
        if not can(request.user, Instalment, Action.VIEW):
            raise PermissionDenied
        errors: dict[str, list[str]] = {}
        as_of = timezone.localdate()
        if request.query_params.get("as_of"):
            try:
                as_of = dt.date.fromisoformat(request.query_params["as_of"])
            except ValueError:
                errors["as_of"] = [_("Enter a date as YYYY-MM-DD.")]
        account = None
        if request.query_params.get("account"):
            try:
                account = int(request.query_params["account"])
            except ValueError:
                errors["account"] = [_("Enter an account id.")]
        group_by = request.query_params.get("group_by") or "account"
        if group_by not in GROUPINGS:
            errors["group_by"] = [_("Group by “account” or “none”.")]
        if errors:
            raise serializers.ValidationError(errors)
        result = aging(request.user, as_of=as_of, account=account, group_by=group_by)
        return Response(
            {
                "as_of": as_of,
                "company_currency": result.company_currency,
                "buckets": list(AgingBucket.values),
                "totals": {k: str(v) for k, v in result.totals.items()},
                "total": str(result.total),
                "missing_rates": result.missing_rates,
                "rows": [
                    {
                        "account": r.account_id,
                        "account_name": r.account_name,
                        "currency": r.currency,
                        "instalments": r.count,
                        "buckets": {k: str(v) for k, v in r.buckets.items()},
                        "total": str(r.total),
                        "company_total": None if r.company_total is None else str(r.company_total),
                    }
                    for r in result.rows
                ],
            }
        )


class AccountCreditView(APIView):
    """``GET accounts/{id}/credit/``: the account's credit per currency (over-payments kept)."""

    @extend_schema(
        tags=["commerce"],
        summary="An account's credit balance",
        responses={
            200: inline_serializer(
                "AccountCredit",
                {
                    "account": serializers.IntegerField(),
                    "credit": serializers.DictField(child=serializers.CharField()),
                },
            ),
            **ERRORS,
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        account = get_object_or_404(Account.objects.restrict(request.user, Action.VIEW), pk=pk)
        if not can(request.user, Payment, Action.VIEW):
            raise PermissionDenied
        credit = selectors.account_credits(account)
        return Response({"account": account.pk, "credit": {k: str(v) for k, v in credit.items()}})


urlpatterns: list[URLPattern] = [
    path("receivables/aging/", AgingView.as_view(), name="receivables-aging"),
    path("accounts/<int:pk>/credit/", AccountCreditView.as_view(), name="account-credit"),
]


def register(router: SimpleRouter) -> None:
    """Register this area's viewsets."""
    router.register("payment-plans", PaymentPlanViewSet, basename="paymentplan")
    router.register("instalments", InstalmentViewSet, basename="instalment")
    router.register("payments", PaymentViewSet, basename="payment")
    router.register("invoices", InvoiceViewSet, basename="invoice")
