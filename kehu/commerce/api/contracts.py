"""Contracts over the API: CRUD with the list's filters, attachments (upload, list, download, delete),
the actions activate and terminate, and the conversion of an accepted quote into a contract
(``POST quotes/{id}/contract/``). Writes go through `kehu.commerce.services.contracts`."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from kehu.core.api.actions import ERRORS, ServiceActionMixin
from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.mixins import (
    ACTION_MAP,
    CachedModelFieldsMixin,
    FieldPermissionSerializerMixin,
    RestrictedModelViewSet,
)
from kehu.core.choices import Action
from kehu.core.permissions import can
from kehu.customers.models import Account, Contact
from kehu.customfields.api.fields import CustomFieldsField
from kehu.sales.models import Opportunity

from ..choices import AttachmentKind
from ..filtersets_contracts import ContractFilterSet
from ..models import Contract, ContractAttachment, Quote
from ..selectors import contracts as selectors
from ..services import contracts as services

STAMPS = ["created_at", "updated_at"]


def _user(serializer: serializers.Serializer) -> Any:
    request = serializer.context.get("request")
    return getattr(request, "user", None)


def visible_links(serializer: Any, fields: dict[str, Any], links: dict[str, Any]) -> None:
    """Links offered among the records the user may view (plus the record's current one)."""
    user = _user(serializer)
    instance = serializer.instance if isinstance(serializer.instance, serializer.Meta.model) else None
    for name, model in links.items():
        if name not in fields or fields[name].read_only:
            continue
        qs = model.objects.restrict(user, Action.VIEW) if user is not None else model.objects.none()
        current = getattr(instance, f"{name}_id", None) if instance is not None else None
        if current:
            qs = qs | model.objects.filter(pk=current)
        fields[name].queryset = qs


class AttachmentSerializer(serializers.ModelSerializer):
    size = serializers.IntegerField(read_only=True, help_text="Bytes.")
    download_url = serializers.SerializerMethodField(help_text="GET: the file (needs view on the contract).")

    class Meta:
        model = ContractAttachment
        fields = [
            "id",
            "contract",
            "kind",
            "name",
            "size",
            "content_type",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: ContractAttachment) -> str:
        return f"/api/v1/commerce/contracts/{obj.contract_id}/attachments/{obj.pk}/download/"


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The file (multipart/form-data); type and size limits apply.")
    kind = serializers.ChoiceField(choices=AttachmentKind.choices, default=AttachmentKind.SIGNED)


class DealDocumentSerializer(
    FieldPermissionSerializerMixin, CachedModelFieldsMixin, serializers.ModelSerializer
):
    # The header of a contract or an order: links among the records the user may view, the
    # currency, the optimistic-lock version and custom fields. Subclasses give `Meta`. (A comment,
    # not a docstring: the OpenAPI schema takes the class's docstring as the component's description.)

    account = serializers.PrimaryKeyRelatedField(queryset=Account.objects.none(), help_text="Account id.")
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(),
        required=False,
        allow_null=True,
        help_text="A contact of the account.",
    )
    opportunity = serializers.PrimaryKeyRelatedField(
        queryset=Opportunity.objects.none(), required=False, allow_null=True, help_text="Opportunity id."
    )
    currency = serializers.CharField(
        max_length=3, required=False, help_text="ISO 4217 code (active currency)."
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="Send the version you read: a stale one answers 409."
    )
    custom = CustomFieldsField(required=False)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        visible_links(self, fields, {"account": Account, "contact": Contact, "opportunity": Opportunity})
        return fields


class ContractSerializer(DealDocumentSerializer):
    value = serializers.DecimalField(max_digits=18, decimal_places=4, required=False, help_text="≥ 0.")
    renewal_reminder_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=3650, help_text="Null: no reminder."
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "number",
            "name",
            "account",
            "contact",
            "opportunity",
            "quote",
            "currency",
            "value",
            "status",
            "signed_on",
            "start_on",
            "end_on",
            "renewal_reminder_days",
            "renewal_reminded_at",
            "terms",
            "terminated_on",
            "termination_reason",
            "owner",
            "department",
            "custom",
            "version",
            *STAMPS,
        ]
        read_only_fields = [
            "id",
            "number",
            "quote",
            "status",
            "renewal_reminded_at",
            "terminated_on",
            "termination_reason",
            "owner",
            "department",
            *STAMPS,
        ]


class ActivateSerializer(serializers.Serializer):
    signed_on = serializers.DateField(
        required=False, help_text="The signing date (if not on the contract yet)."
    )
    version = serializers.IntegerField(required=False, min_value=1)


class TerminateSerializer(serializers.Serializer):
    terminated_on = serializers.DateField(help_text="The termination date.")
    reason = serializers.CharField(help_text="Why the contract ends early.")
    version = serializers.IntegerField(required=False, min_value=1)


ATTACHMENT = OpenApiParameter(
    "attachment_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Id of the attachment."
)


@extend_schema_view(
    list=extend_schema(summary="List contracts you may view"),
    retrieve=extend_schema(summary="Get a contract"),
    create=extend_schema(summary="Create a draft contract", responses={201: ContractSerializer, **ERRORS}),
    update=extend_schema(summary="Replace a contract", responses={200: ContractSerializer, **ERRORS}),
    partial_update=extend_schema(summary="Change a contract", responses={200: ContractSerializer, **ERRORS}),
    destroy=extend_schema(summary="Delete a draft contract", responses={204: None, **ERRORS}),
)
@extend_schema(tags=["commerce"])
class ContractViewSet(ServiceActionMixin, RestrictedModelViewSet):
    """Contracts (合同): draft → active (``activate/``, needs a signing date) → expired (the end date
    passed) or terminated (``terminate/``). Only drafts can be deleted; expired and terminated
    contracts are read-only."""

    model = Contract
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    select_related = ("account", "owner", "quote")

    def get_queryset(self) -> Any:
        # Actions beyond CRUD (activate, terminate, attachments) read with view: the services
        # check change (403 when visible but not changeable).
        needed = ACTION_MAP.get(self.action or "", Action.VIEW)
        return selectors.contract_list(user=self.request.user, action=needed)

    def perform_service_create(self, data: dict[str, Any]) -> Contract:
        return services.contract_create(by=self.request.user, data=data)

    def perform_service_update(self, obj: Contract, data: dict[str, Any], version: int | None) -> Contract:
        return services.contract_update(contract=obj, by=self.request.user, data=data, version=version)

    def perform_service_delete(self, obj: Contract) -> None:
        services.contract_delete(contract=obj, by=self.request.user)

    @extend_schema(request=ActivateSerializer, responses={200: ContractSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def activate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """draft → active (needs a signing date, not in the future)."""
        return self.service_action(
            lambda contract, values: services.contract_activate(
                contract=contract,
                by=request.user,
                signed_on=values.get("signed_on"),
                version=values.get("version"),
            ),
            ActivateSerializer,
        )

    @extend_schema(request=TerminateSerializer, responses={200: ContractSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def terminate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """active → terminated, with the date and the reason."""
        return self.service_action(
            lambda contract, values: services.contract_terminate(
                contract=contract,
                by=request.user,
                terminated_on=values["terminated_on"],
                reason=values["reason"],
                version=values.get("version"),
            ),
            TerminateSerializer,
        )

    @extend_schema(
        methods=["GET"],
        summary="List a contract's attachments",
        responses={200: AttachmentSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary="Upload an attachment (multipart/form-data)",
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={201: AttachmentSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser],
        serializer_class=AttachmentSerializer,
    )
    def attachments(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The contract's attachments; POST uploads one (a refused type, content or size answers 400
        and stores nothing)."""
        obj = self.get_object()
        if request.method == "GET":
            rows = selectors.contract_attachments(contract=obj)
            return Response(AttachmentSerializer(rows, many=True).data)
        body = AttachmentUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        attachment = services.contract_attachment_add(
            contract=obj,
            by=request.user,
            upload=body.validated_data["file"],
            kind=body.validated_data["kind"],
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Delete an attachment", parameters=[ATTACHMENT], request=None, responses={204: None, **ERRORS}
    )
    @action(detail=True, methods=["delete"], url_path=r"attachments/(?P<attachment_id>\d+)")
    def attachment_delete(self, request: Request, attachment_id: str, *args: Any, **kwargs: Any) -> Response:
        obj = self.get_object()
        found = get_object_or_404(ContractAttachment, pk=int(attachment_id), contract=obj)
        services.contract_attachment_delete(attachment=found, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Download an attachment",
        parameters=[ATTACHMENT],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY, 404: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_id>\d+)/download")
    def attachment_download(self, request: Request, attachment_id: str, *args: Any, **kwargs: Any) -> Any:
        found = selectors.contract_attachment_get(
            user=request.user, contract_id=int(self.kwargs["pk"]), pk=int(attachment_id)
        )
        if found is None:
            raise Http404
        try:
            handle = found.file.open("rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404 from exc
        return FileResponse(
            handle, as_attachment=True, filename=found.name, content_type=found.content_type or None
        )


class QuoteContractView(APIView):
    """``POST /api/v1/commerce/quotes/{id}/contract/``: a draft contract from an accepted quote
    (latest version): account, contact, opportunity, currency, terms, and its total as the value."""

    @extend_schema(
        tags=["commerce"],
        summary="Create a contract from an accepted quote",
        request=None,
        responses={201: ContractSerializer, **ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        quote = get_object_or_404(Quote.objects.restrict(request.user, Action.VIEW), pk=pk)
        if not can(request.user, Contract, Action.ADD):
            raise PermissionDenied
        contract = services.contract_create_from_quote(by=request.user, quote=quote)
        data = ContractSerializer(contract, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)


urlpatterns: list[URLPattern] = [
    path("quotes/<int:pk>/contract/", QuoteContractView.as_view(), name="quote-contract"),
]


def register(router: SimpleRouter) -> None:
    """Register this area's viewsets."""
    router.register("contracts", ContractViewSet, basename="contract")
