"""API of leads: CRUD with the lead list's filters, and ``POST leads/{id}/convert/``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from kehu.catalog.selectors import currency_codes
from kehu.core.api.bulk import BulkActionMixin
from kehu.core.api.errors import ErrorSerializer
from kehu.core.api.fastlist import FastListSerializer
from kehu.core.api.mixins import (
    CachedModelFieldsMixin,
    FieldPermissionSerializerMixin,
    RestrictedModelViewSet,
)
from kehu.core.choices import Action
from kehu.customers.api.serializers import EXTERNAL_ID_KWARGS
from kehu.customers.models import Account, Contact
from kehu.customfields.api.fields import CustomFieldsField
from kehu.dedup.api.serializers import CollisionErrorSerializer
from kehu.tags.api.fields import TagsField
from kehu.tags.api.mixins import TagsWriteMixin
from kehu.users.selectors import assignable_users

from ..choices import LeadStatus, PoolKind
from ..filtersets_leads import LeadFilterSet
from ..models import Lead
from ..selectors.opportunities import pipeline_choices
from ..selectors.pools import pool_choices
from ..services import leads as services

CONFIRM_HELP = (
    "Save although the collision check (撞单检查) found matching records (its policy is “warn”); "
    "without it such a write answers 409 with the matches."
)


class LeadSerializer(FieldPermissionSerializerMixin, CachedModelFieldsMixin, serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(),
        required=False,
        help_text="Owner (负责人) user id; giving a lead to someone else needs the assign permission. "
        "Left out on create: the assignment rules decide (else you own it).",
    )
    pool = serializers.PrimaryKeyRelatedField(
        queryset=pool_choices(PoolKind.LEAD),
        required=False,
        allow_null=True,
        write_only=True,
        help_text="Create only: put the new lead straight into this lead pool (公海), without an owner.",
    )
    status = serializers.ChoiceField(
        choices=[c for c in LeadStatus.choices if c[0] != LeadStatus.CONVERTED],
        required=False,
        help_text="new, contacting, qualified or unqualified (needs `unqualified_reason`). "
        "“converted” is set by the convert action only.",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Send the version you read to refuse the update (409) if someone changed the lead since.",
    )
    confirm_collisions = serializers.BooleanField(required=False, write_only=True, help_text=CONFIRM_HELP)
    custom = CustomFieldsField(required=False)
    region = serializers.CharField(source="region_display", read_only=True, help_text="Region names.")
    tags = TagsField(required=False)
    in_pool = serializers.SerializerMethodField(help_text="Whether the lead is in a pool now (no owner).")

    # Its fields depend on nothing of the request but the field modes (fastlist keeps its plan).
    list_plan_cacheable = True

    class Meta:
        model = Lead
        fields = [
            "id",
            "external_id",
            "name",
            "company",
            "title",
            "mobile",
            "phone",
            "email",
            "wechat",
            "website",
            "tax_number",
            "source",
            "product_interest",
            "campaign",
            "status",
            "unqualified_reason",
            "description",
            "country",
            "province",
            "city",
            "district",
            "region",
            "address",
            "owner",
            "pool",
            "in_pool",
            "department",
            "last_activity_at",
            "owned_since",
            "assignment_rule",
            "converted_at",
            "converted_by",
            "converted_account",
            "converted_contact",
            "converted_opportunity",
            "custom",
            "tags",
            "version",
            "confirm_collisions",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "department",
            "last_activity_at",
            "owned_since",
            "assignment_rule",
            "converted_at",
            "converted_by",
            "converted_account",
            "converted_contact",
            "converted_opportunity",
            "created_by",
            "created_at",
            "updated_at",
        ]
        # Lists: planned once per page (kehu.core.api.fastlist), same output as DRF's pass.
        list_serializer_class = FastListSerializer
        extra_kwargs = {
            "external_id": EXTERNAL_ID_KWARGS,  # unique when set: checked by the service
            "mobile": {
                "help_text": "Any common format; stored as E.164 (+8613812345678), default region CN."
            },
            "phone": {"help_text": "Any common format; stored as E.164."},
            "email": {"help_text": "Stored lower-case."},
            "source": {"help_text": "A value of the picklist `source`."},
            "product_interest": {"help_text": "A value of the picklist `product_interest`."},
            "unqualified_reason": {"help_text": "A value of the picklist `lead_unqualified_reason`."},
            "tax_number": {"help_text": "Unified social credit code (统一社会信用代码), 18 characters."},
            "country": {"help_text": "ISO 3166-1 alpha-2 code; CN is implied by a province."},
            "province": {"help_text": "GB/T 2260 code of the province (110000)."},
            "city": {"help_text": "GB/T 2260 code of the city."},
            "district": {"help_text": "GB/T 2260 code of the district or county."},
        }

    def get_in_pool(self, obj: Lead) -> bool:
        item = getattr(obj, "pool_item", None) if hasattr(obj, "pool_item") else None
        return bool(item is not None and item.in_pool)


class LeadConvertSerializer(serializers.Serializer):
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(),
        required=False,
        allow_null=True,
        help_text="An existing account you may view (e.g. a match of the collision check); "
        "left out: a new account is made from the lead.",
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(),
        required=False,
        allow_null=True,
        help_text="An existing contact of that account; left out: a new contact is made "
        "(see create_contact).",
    )
    create_contact = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Make a contact from the lead (default: when the lead has a company).",
    )
    create_opportunity = serializers.BooleanField(required=False, default=False)
    pipeline = serializers.PrimaryKeyRelatedField(
        queryset=pipeline_choices(),
        required=False,
        allow_null=True,
        help_text="Pipeline of the new opportunity (default: the default pipeline).",
    )
    opportunity_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    amount = serializers.DecimalField(max_digits=18, decimal_places=2, required=False, allow_null=True)
    currency = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=3,
        help_text="ISO 4217 code of an active currency (catalog currencies); default: the company currency.",
    )
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    version = serializers.IntegerField(required=False, min_value=1, allow_null=True)
    confirm_collisions = serializers.BooleanField(required=False, default=False, help_text=CONFIRM_HELP)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            account: Any = fields["account"]
            account.queryset = Account.objects.restrict(request.user, Action.VIEW)
            contact: Any = fields["contact"]
            contact.queryset = Contact.objects.restrict(request.user, Action.VIEW)
        return fields

    def validate_currency(self, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        code = str(value).strip().upper()
        codes = currency_codes()
        if code not in codes:
            raise serializers.ValidationError(
                _("Unknown currency “%(code)s”. Choose one of: %(codes)s.")
                % {"code": value, "codes": ", ".join(codes)}
            )
        return code


class ConversionResultSerializer(serializers.Serializer):
    lead = serializers.IntegerField(source="lead.pk")
    account = serializers.IntegerField(source="account.pk")
    account_created = serializers.BooleanField()
    contact = serializers.IntegerField(source="contact.pk", allow_null=True, default=None)
    contact_created = serializers.BooleanField()
    opportunity = serializers.IntegerField(source="opportunity.pk", allow_null=True, default=None)


@extend_schema_view(
    list=extend_schema(summary="List leads you may view"),
    retrieve=extend_schema(summary="Get a lead"),
    create=extend_schema(summary="Create a lead (collision check; assignment rules when no owner is given)"),
    update=extend_schema(summary="Replace a lead (refused once converted)"),
    partial_update=extend_schema(summary="Change a lead (refused once converted)"),
    destroy=extend_schema(summary="Delete a lead (refused once converted)"),
)
@extend_schema(tags=["sales"])
class LeadViewSet(TagsWriteMixin, BulkActionMixin, RestrictedModelViewSet):
    """Leads (线索). Filters are the lead list's. Phones are stored in E.164, e-mails lower-case;
    picklist fields take picklist values. A converted lead is read-only (409). `tags`: a list of
    tag ids or names replaces the lead's tags (one tag per exclusive group)."""

    model = Lead
    serializer_class = LeadSerializer
    filterset_class = LeadFilterSet
    select_related = ("owner", "department", "created_by", "pool_item")

    def get_queryset(self) -> Any:
        if self.action == "list":
            # The list shows users and departments by id (no joins); `in_pool` reads the pool item.
            return Lead.objects.restrict(self.request.user, Action.VIEW).select_related("pool_item")
        return super().get_queryset()

    def _confirmed(self) -> bool:
        return (
            bool(self.request.data.get("confirm_collisions")) if hasattr(self.request.data, "get") else False
        )

    def perform_service_create(self, data: dict[str, Any]) -> Lead:
        data.pop("confirm_collisions", None)
        if data.get("pool") is None:
            data.pop("pool", None)
        data.pop("tags", None)
        return services.lead_create(
            by=self.request.user,
            data=data,  # type: ignore[arg-type]
            confirmed=self._confirmed(),
            tags=self.new_tags(),  # as the creator's (kehu.tags.api.mixins.TagsWriteMixin)
        )

    def perform_service_update(self, obj: Lead, data: dict[str, Any], version: int | None) -> Lead:
        data.pop("confirm_collisions", None)
        data.pop("pool", None)
        data.pop("tags", None)
        return services.lead_update(
            lead=obj,
            by=self.request.user,
            data=data,  # type: ignore[arg-type]
            version=version,
            confirmed=self._confirmed(),
        )

    def perform_service_delete(self, obj: Lead) -> None:
        services.lead_delete(lead=obj, by=self.request.user)

    @extend_schema(
        request=LeadConvertSerializer,
        responses={
            200: ConversionResultSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid input, or the lead is not qualified."),
            403: OpenApiResponse(
                ErrorSerializer, description="You may not create accounts/contacts/opportunities."
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such lead in your scope."),
            409: OpenApiResponse(
                PolymorphicProxySerializer(
                    component_name="LeadConvertConflict",
                    serializers=[ErrorSerializer, CollisionErrorSerializer],
                    resource_type_field_name=None,
                ),
                description="Already converted or a stale version (code, message), or a collision "
                '(code "collision" with the matches; send confirm_collisions to convert anyway).',
            ),
        },
        summary="Convert a qualified lead into an account, a contact and optionally an opportunity",
    )
    @action(detail=True, methods=["post"])
    def convert(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """One transaction: the lead becomes “converted” (read-only), linked to the account (an
        existing one you pick, or a new one), the contact and the opportunity. Converting twice
        answers 409."""
        lead = self.get_object()
        body = LeadConvertSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        confirmed = bool(data.pop("confirm_collisions", False))
        result = services.lead_convert(lead=lead, by=request.user, confirmed=confirmed, **data)
        return Response(ConversionResultSerializer(result).data, status=status.HTTP_200_OK)


def register(router: SimpleRouter) -> None:
    """Register this area's viewsets on the sales API router."""
    router.register("leads", LeadViewSet, basename="lead")


urlpatterns: list[Any] = []
