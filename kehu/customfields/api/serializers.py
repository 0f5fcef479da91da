"""API shapes of custom field definitions and picklists, and the mixin for customizable models."""

from __future__ import annotations

from typing import Any, ClassVar

from rest_framework import serializers

from ..choices import TABLER_COLORS, FieldType
from ..models import CustomField, FieldRule, Picklist, PicklistItem
from ..selectors import picklist_list
from .fields import CustomFieldsField


class CustomFieldsSerializerMixin(serializers.Serializer):
    """For ModelSerializers of customizable models: adds ``custom`` (see ``fields.CustomFieldsField``).

    List ``"custom"`` in ``Meta.fields``. ``validated_data["custom"]`` is the record's complete new
    ``custom`` dict (absent on an update that does not mention custom fields)."""

    custom = CustomFieldsField(required=False)


class PicklistRelatedField(serializers.PrimaryKeyRelatedField):
    """A picklist id, looked up among the picklists the requesting user may read."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        return picklist_list(user=getattr(request, "user", None))


class PicklistItemSerializer(serializers.ModelSerializer):
    picklist = PicklistRelatedField(help_text="Id of the picklist (set on create only).")
    display_label = serializers.CharField(read_only=True, help_text="The label in the request's language.")
    color = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20,
        help_text=f"A palette colour ({', '.join(TABLER_COLORS)}) or a hex colour such as #1f77b4.",
    )

    class Meta:
        model = PicklistItem
        fields = [
            "id",
            "picklist",
            "value",
            "label",
            "label_en",
            "display_label",
            "color",
            "order",
            "is_active",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["order", "created_at", "updated_at"]
        # Uniqueness is checked by the service (it answers with a clear message).
        validators: ClassVar[list[Any]] = []
        extra_kwargs = {
            "value": {
                "help_text": "A stable code stored in records (letters, digits, . _ -). Fixed once in use."
            }
        }


class PicklistItemUpdateSerializer(PicklistItemSerializer):
    picklist: Any = serializers.PrimaryKeyRelatedField(read_only=True, help_text="Id of the picklist.")

    class Meta(PicklistItemSerializer.Meta):
        read_only_fields = ["picklist", "order", "created_at", "updated_at"]


class PicklistSerializer(serializers.ModelSerializer):
    display_name = serializers.CharField(read_only=True, help_text="The name in the request's language.")
    items = PicklistItemSerializer(
        many=True, read_only=True, help_text="Items in order, deactivated ones too."
    )

    class Meta:
        model = Picklist
        fields = [
            "id",
            "code",
            "name",
            "name_en",
            "display_name",
            "description",
            "is_system",
            "items",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_system", "created_at", "updated_at"]
        validators: ClassVar[list[Any]] = []
        extra_kwargs = {"code": {"validators": [], "help_text": "A unique code (set on create only)."}}


class PicklistUpdateSerializer(PicklistSerializer):
    class Meta(PicklistSerializer.Meta):
        read_only_fields = ["code", "is_system", "created_at", "updated_at"]


class CustomFieldSerializer(serializers.ModelSerializer):
    display_label = serializers.CharField(read_only=True, help_text="The label in the request's language.")
    key = serializers.CharField(
        read_only=True, help_text="custom.<name>: the key in error bodies, exports and field permissions."
    )
    type = serializers.ChoiceField(choices=FieldType.choices)
    picklist = PicklistRelatedField(
        required=False, allow_null=True, help_text="Id of the picklist of a choice field."
    )
    picklist_code = serializers.CharField(
        source="picklist.code", read_only=True, allow_null=True, default=None
    )
    default = serializers.JSONField(
        required=False, allow_null=True, help_text="Filled in on new records; validated like a value."
    )

    class Meta:
        model = CustomField
        fields = [
            "id",
            "model",
            "name",
            "key",
            "label",
            "label_en",
            "display_label",
            "type",
            "required",
            "default",
            "pattern",
            "pattern_message",
            "pattern_message_en",
            "help_text",
            "help_text_en",
            "picklist",
            "picklist_code",
            "order",
            "is_active",
            "show_in_list",
            "filterable",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["order", "created_at", "updated_at"]
        validators: ClassVar[list[Any]] = []
        extra_kwargs = {
            "model": {"help_text": "The customizable model, e.g. customers.account (set on create only)."},
            "name": {"validators": [], "help_text": "The key in `custom` objects (set on create only)."},
        }


class CustomFieldUpdateSerializer(CustomFieldSerializer):
    class Meta(CustomFieldSerializer.Meta):
        read_only_fields = ["model", "name", "order", "created_at", "updated_at"]


class ReorderSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), max_length=1000, help_text="Ids in the new order."
    )


class FieldReorderSerializer(ReorderSerializer):
    model = serializers.CharField(max_length=100, help_text="The model whose fields are reordered.")


class FieldRuleSerializer(serializers.ModelSerializer):
    """A data collection standard of one field. For a custom field (``custom.<name>``), `required`
    and the pattern settings are read from and written to its custom field definition."""

    is_custom = serializers.BooleanField(read_only=True)
    weight = serializers.IntegerField(
        min_value=0, max_value=10, required=False, help_text="0 to 10: weight in the completeness score."
    )

    class Meta:
        model = FieldRule
        fields = [
            "id",
            "model",
            "field",
            "is_custom",
            "required",
            "pattern",
            "pattern_message",
            "pattern_message_en",
            "unique",
            "weight",
            "order",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]
        validators: ClassVar[list[Any]] = []
        extra_kwargs = {
            "model": {"help_text": "The customizable model, e.g. customers.account (set on create only)."},
            "field": {
                "validators": [],
                "help_text": "A standard field name or custom.<name> (set on create only).",
            },
        }

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data: dict[str, Any] = super().to_representation(instance)
        if instance.is_custom:
            definition = CustomField.objects.filter(
                model=instance.model, name=instance.field.removeprefix("custom.")
            ).first()
            if definition is not None:
                for key in ("required", "pattern", "pattern_message", "pattern_message_en"):
                    data[key] = getattr(definition, key)
        return data


class FieldRuleUpdateSerializer(FieldRuleSerializer):
    class Meta(FieldRuleSerializer.Meta):
        read_only_fields = ["model", "field", "created_at", "updated_at"]
