"""API shapes of accounts and contacts. Validation of phones, e-mails, picklists, custom fields,
owners and scopes happens in the services (one path for forms, API and imports)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from rest_framework import serializers

from kehu.core.api.fastlist import FastListSerializer
from kehu.core.api.mixins import CachedModelFieldsMixin, FieldPermissionSerializerMixin
from kehu.core.choices import FieldMode
from kehu.core.masking import mask_value
from kehu.customfields.api.fields import CustomFieldsField
from kehu.tags.api.fields import TagsField
from kehu.users.selectors import assignable_users

from ..choices import AddressKind, EmailKind, PhoneKind
from ..models import (
    Account,
    AccountAddress,
    AccountContactRelation,
    Contact,
)
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
# `external_id`: unique when set, checked by the services (one message for forms, API and imports:
# code "duplicate_external_id"), so no model-derived unique validator here.
EXTERNAL_ID_KWARGS: dict[str, Any] = {
    "validators": [],
    "help_text": "The record's id in another system (the key of imports and integrations); unique when set.",
}

# Nested lists follow the field permissions of their plain (primary) field: key -> (plain fields,
# {row key: mask kind}).
_LISTS = {
    "phones": (("phone", "mobile"), {"number": "phone"}),
    "emails": (("email",), {"email": "email"}),
    "addresses": (("address",), {"street": "text", "postcode": "text"}),
}


class ListPermissionsMixin(FieldPermissionSerializerMixin):
    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        modes = self._modes()
        for name, (plain, _keys) in _LISTS.items():
            found = [modes.get(p) for p in plain if modes.get(p)]
            if FieldMode.HIDDEN in found:
                fields.pop(name, None)
            elif found and name in fields:
                fields[name].read_only = True
        return fields

    def apply_read_permissions(self, data: Any) -> Any:
        data = super().apply_read_permissions(data)
        modes = self._modes()
        for name, (plain, keys) in _LISTS.items():
            if name in data and any(modes.get(p) == FieldMode.MASKED for p in plain):
                for row in data[name]:
                    for key, kind in keys.items():
                        if row.get(key):
                            row[key] = mask_value(row[key], kind)
        return data


class PlainRowsSerializer(serializers.ListSerializer):
    """Read path of a nested list of plain rows (phones, e-mails, addresses): each readable field
    straight from the (prefetched) row, without DRF's per-row serializer pass (a list page has 25
    accounts × 3 lists). Same output: `field.to_representation(value)`, None kept as None. Reads
    nothing of the request (`context_free`: a kept list plan may share it, see fastlist)."""

    context_free = True

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        fields = self.__dict__.get("_kehu_plan")
        if fields is None:  # once per serializer: a page calls this for 25 accounts × 3 lists
            child: Any = self.child
            fields = [(f.field_name, f.source_attrs, f.to_representation) for f in child._readable_fields]
            self.__dict__["_kehu_plan"] = fields
        out = []
        for row in rows:
            item = {}
            for name, attrs, represent in fields:
                value = row
                for attr in attrs:
                    value = getattr(value, attr)
                item[name] = None if value is None else represent(value)
            out.append(item)
        return out


class PhoneSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PhoneKind.choices, default=PhoneKind.WORK)
    number = serializers.CharField(max_length=40, help_text="Any common format; stored as E.164.")
    is_primary = serializers.BooleanField(default=False)

    class Meta:
        list_serializer_class = PlainRowsSerializer


class EmailSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EmailKind.choices, default=EmailKind.WORK)
    email = serializers.CharField(max_length=254, help_text="Stored lower-case.")
    is_primary = serializers.BooleanField(default=False)

    class Meta:
        list_serializer_class = PlainRowsSerializer


class RegionSerializerMixin(serializers.Serializer):
    region = serializers.CharField(source="region_display", read_only=True, help_text="Region names.")


_REGION_HELP = {
    "country": {"help_text": "ISO 3166-1 alpha-2 code (CN, JP, US ...); CN is implied by a province."},
    "province": {"help_text": "GB/T 2260 code of the province (440000)."},
    "city": {"help_text": "GB/T 2260 code of the city (440300); empty for municipalities."},
    "district": {"help_text": "GB/T 2260 code of the district or county (440305)."},
}
_REGION_FIELDS = ["country", "province", "city", "district", "region"]


class AddressRowSerializer(RegionSerializerMixin, CachedModelFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = AccountAddress
        fields = ["kind", *_REGION_FIELDS, "street", "postcode", "is_primary"]
        list_serializer_class = PlainRowsSerializer
        extra_kwargs = {**_REGION_HELP, "kind": {"default": AddressKind.OFFICE}}


class AddressSerializer(RegionSerializerMixin, serializers.ModelSerializer):
    """An address of an account (endpoint /customers/addresses/)."""

    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), help_text="Id of an account you may change."
    )

    class Meta:
        model = AccountAddress
        fields = ["id", "account", "kind", *_REGION_FIELDS, "street", "postcode", "is_primary"]
        extra_kwargs = {**_REGION_HELP, "kind": {"default": AddressKind.OFFICE}}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            if isinstance(self.instance, AccountAddress):
                fields["account"].read_only = True
            else:
                fields["account"].queryset = Account.objects.restrict(request.user, "view")  # type: ignore[attr-defined]
        return fields


class RelationSerializer(serializers.ModelSerializer):
    """A contact's link to an account in a role (endpoint /customers/account-contact-relations/)."""

    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(), help_text="Id of an account you may view."
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), help_text="Id of a contact you may change."
    )
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = AccountContactRelation
        fields = ["id", "account", "account_name", "contact", "role", "is_direct", "start_date", "end_date"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "role": {"help_text": "A value of the picklist contact_role (decision_maker, purchaser ...)."},
            "is_direct": {
                "help_text": "The contact's direct account. Set true to make this account the direct one."
            },
        }
        validators: list[Any] = []  # duplicates are refused by the service (409)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            if isinstance(self.instance, AccountContactRelation):
                fields["account"].read_only = True
                fields["contact"].read_only = True
            else:
                fields["account"].queryset = Account.objects.restrict(request.user, "view")  # type: ignore[attr-defined]
                fields["contact"].queryset = Contact.objects.restrict(request.user, "view")  # type: ignore[attr-defined]
        return fields


class ContactRelationRowSerializer(serializers.ModelSerializer):
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = AccountContactRelation
        fields = ["id", "account", "account_name", "role", "is_direct", "start_date", "end_date"]
        read_only_fields = fields


class AccountSerializer(ListPermissionsMixin, CachedModelFieldsMixin, serializers.ModelSerializer):
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
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Account.objects.none(),
        required=False,
        allow_null=True,
        help_text="Parent account (group company) id; an account you may view; no cycles.",
    )
    region = serializers.CharField(source="region_display", read_only=True, help_text="Region names.")
    phones = PhoneSerializer(
        many=True, required=False, help_text="All phones; replaces the list when sent. One is primary."
    )
    emails = EmailSerializer(
        many=True, required=False, help_text="All e-mails; replaces the list when sent. One is primary."
    )
    addresses = AddressRowSerializer(
        many=True, required=False, help_text="All addresses; replaces the list when sent. One is primary."
    )
    tags = TagsField(required=False)

    # Its fields depend on nothing of the request but the field modes (fastlist keeps its plan).
    list_plan_cacheable = True

    class Meta:
        model = Account
        fields = [
            "id",
            "external_id",
            "kind",
            "name",
            "short_name",
            "phone",
            "email",
            "phones",
            "emails",
            "website",
            "wechat",
            "tax_number",
            "industry",
            "source",
            "level",
            "lifecycle_stage",
            "lifecycle_changed_at",
            "country",
            "province",
            "city",
            "district",
            "region",
            "address",
            "addresses",
            "parent",
            "last_activity_at",
            "completeness",
            "notes",
            "is_active",
            "owner",
            "department",
            "custom",
            "tags",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*OWNED_READ_ONLY, "lifecycle_changed_at", "last_activity_at", "completeness"]
        # Lists: planned once per page, phones / e-mails / addresses in one query each.
        list_serializer_class = FastListSerializer
        extra_kwargs = {
            "phone": {"help_text": "The primary phone. Any common format; stored as E.164 (+8613812345678)."},
            "email": {"help_text": "The primary e-mail. Stored lower-case."},
            "address": {"help_text": "The primary address on one line (set from `addresses` when sent)."},
            "tax_number": {
                "help_text": "Unified social credit code (统一社会信用代码), 18 characters, check digit."
            },
            "external_id": EXTERNAL_ID_KWARGS,
            **_REGION_HELP,
        }

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if "parent" in fields and request is not None:
            fields["parent"].queryset = Account.objects.restrict(request.user, "view")
        return fields


class ContactSerializer(ListPermissionsMixin, CachedModelFieldsMixin, serializers.ModelSerializer):
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
    phones = PhoneSerializer(
        many=True, required=False, help_text="All phones; replaces the list when sent. One is primary."
    )
    emails = EmailSerializer(
        many=True, required=False, help_text="All e-mails; replaces the list when sent. One is primary."
    )
    role = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        write_only=True,
        help_text="Role at the direct account (picklist contact_role).",
    )
    relations = ContactRelationRowSerializer(
        source="account_relations",
        many=True,
        read_only=True,
        help_text="Every account the contact works with (edit: /customers/account-contact-relations/).",
    )
    tags = TagsField(required=False)

    # Its fields depend on nothing of the request but the field modes (fastlist keeps its plan).
    list_plan_cacheable = True

    class Meta:
        model = Contact
        fields = [
            "id",
            "external_id",
            "account",
            "role",
            "relations",
            "name",
            "title",
            "gender",
            "birthday",
            "phone",
            "mobile",
            "email",
            "phones",
            "emails",
            "wechat",
            "preferred_channel",
            "do_not_call",
            "do_not_email",
            "do_not_sms",
            "do_not_wechat",
            "do_not_visit",
            "is_primary",
            "last_activity_at",
            "completeness",
            "notes",
            "owner",
            "department",
            "custom",
            "tags",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*OWNED_READ_ONLY, "last_activity_at", "completeness"]
        list_serializer_class = FastListSerializer
        extra_kwargs = {"external_id": EXTERNAL_ID_KWARGS}
        # "One primary contact per account" is kept by the service (it unsets the previous one).
        validators: list[Any] = []

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if "account" in fields and request is not None:
            # Only accounts the user may view can be referenced (others: "does not exist").
            contact = self.instance if isinstance(self.instance, Contact) else None
            fields["account"].queryset = contact_account_choices(user=request.user, contact=contact)
        return fields
