from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .. import registry
from ..choices import TagColour
from ..models import StaticGroup, Tag, TagGroup

MAX_ID = 2**63 - 1
MAX_INT = 2**31 - 1


def _version_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_INT, help_text="Send it back to refuse stale edits (409)."
    )


class TagSerializer(serializers.ModelSerializer):
    group = serializers.PrimaryKeyRelatedField(
        queryset=TagGroup.objects.all(), allow_null=True, required=False, help_text="Tag group id, or null."
    )
    colour = serializers.ChoiceField(choices=TagColour.choices, required=False)
    order = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)
    version = _version_field()

    class Meta:
        model = Tag
        fields = ["id", "name", "group", "colour", "description", "order", "is_active", "version"]


class TagGroupSerializer(serializers.ModelSerializer):
    colour = serializers.ChoiceField(choices=TagColour.choices, required=False)
    order = serializers.IntegerField(min_value=0, max_value=MAX_INT, required=False)
    model_labels = serializers.ListField(
        child=serializers.CharField(max_length=100),
        required=False,
        max_length=50,
        help_text='Model labels the group\'s tags apply to (e.g. "customers.account"); empty: all.',
    )
    version = _version_field()

    class Meta:
        model = TagGroup
        fields = ["id", "name", "colour", "description", "exclusive", "order", "model_labels", "version"]


def _validate_model(value: str) -> str:
    label = value.lower()
    if not registry.is_taggable(label):
        raise serializers.ValidationError(_("Records of this kind cannot be tagged."))
    return label


class TagAssignSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=100, help_text='Model label, e.g. "customers.account".')
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False, max_length=10000
    )
    tags = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False, max_length=100
    )

    def validate_model(self, value: str) -> str:
        return _validate_model(value)


class CountSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Rows affected.")


class TagMergeSerializer(serializers.Serializer):
    target = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), help_text="The tag to keep.")


class StaticGroupSerializer(serializers.ModelSerializer):
    model = serializers.CharField(
        max_length=100, help_text='Model label, e.g. "customers.account" (fixed once created).'
    )
    version = _version_field()

    class Meta:
        model = StaticGroup
        fields = ["id", "name", "model", "description", "is_shared", "owner", "version", "created_at"]
        read_only_fields = ["owner", "created_at"]

    def validate_model(self, value: str) -> str:
        return _validate_model(value)

    def to_internal_value(self, data: Any) -> Any:
        values = super().to_internal_value(data)
        if self.instance is not None:
            values.pop("model", None)
        return values


class MembersSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False, max_length=10000
    )
