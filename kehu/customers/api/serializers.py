"""API shapes of accounts and contacts. Validation of phones, e-mails, picklists, custom fields,
owners and scopes happens in the services (one path for forms, API and imports)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from kehu.core.api.mixins import FieldPermissionSerializerMixin
from kehu.customfields.api.fields import CustomFieldsField
from kehu.users.selectors import assignable_users

from ..models import Account, Contact
from ..selectors import contact_account_choices


def _custom_field() -> serializers.Field:
    return CustomFieldsField(required=False)


class UserRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = get_user_model()
        fields = ["id", "username", "name"]
        read_only_fields = fields


OWNED_READ_ONLY = ["id", "department", "created_by", "created_at", "updated_at"]


class AccountSerializer(FieldPermissionSerializerMixin, serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(),
        required=False,
        help_text="Owner (负责人) user id; giving it to someone else needs the assign permission.",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Send the version you read to refuse the update (409) if someone changed the record since.",
    )
    custom = _custom_field()

    class Meta:
        model = Account
        fields = [
            "id",
            "kind",
            "name",
            "short_name",
            "phone",
            "email",
            "website",
            "industry",
            "source",
            "level",
            "address",
            "notes",
            "is_active",
            "owner",
            "department",
            "custom",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = OWNED_READ_ONLY
        extra_kwargs = {
            "phone": {"help_text": "Any common format; stored as E.164 (+8613812345678)."},
            "email": {"help_text": "Stored lower-case."},
        }


class ContactSerializer(FieldPermissionSerializerMixin, serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), help_text="Id of an account you may view."
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(),
        required=False,
        help_text="User id of the owner. Giving a record to someone else needs the assign permission.",
    )
    version = serializers.IntegerField(required=False, min_value=1)
    custom = _custom_field()

    class Meta:
        model = Contact
        fields = [
            "id",
            "account",
            "name",
            "title",
            "phone",
            "mobile",
            "email",
            "wechat",
            "is_primary",
            "notes",
            "owner",
            "department",
            "custom",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = OWNED_READ_ONLY
        # "One primary contact per account" is kept by the service (it unsets the previous one).
        validators: list[Any] = []

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if "account" in fields and request is not None:
            # Only accounts the user may view can be referenced (others: "does not exist").
            contact = self.instance if isinstance(self.instance, Contact) else None
            fields["account"].queryset = contact_account_choices(  # type: ignore[attr-defined]
                user=request.user, contact=contact
            )
        return fields
