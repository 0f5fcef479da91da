from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..display import ModesCache, visible_changes, visible_event_data
from ..events import event_type
from ..models import ObjectChange, TimelineEvent


class ObjectChangeSerializer(serializers.ModelSerializer):
    changes = serializers.SerializerMethodField(
        help_text="{field: [before, after]} for create/update/delete (fields hidden from you are left "
        "out, masked ones masked); export: {rows, format, params}; reveal: {revealed: [fields]}."
    )

    class Meta:
        model = ObjectChange
        fields = [
            "id",
            "time",
            "user",
            "user_name",
            "request_id",
            "ip",
            "source",
            "model",
            "object_id",
            "object_repr",
            "action",
            "bulk",
            "changes",
            "parent_model",
            "parent_id",
        ]
        read_only_fields = fields

    def _modes(self) -> ModesCache:
        modes: ModesCache | None = self.context.get("modes")
        if modes is None:
            modes = ModesCache(self.context["request"].user)
            self.context["modes"] = modes
        return modes

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_changes(self, obj: ObjectChange) -> dict[str, Any]:
        return visible_changes(obj, self._modes().for_label(obj.model)) or {}

    def to_representation(self, instance: ObjectChange) -> dict[str, Any]:
        data = super().to_representation(instance)
        data["object_repr"] = self._modes().object_repr(instance)  # a phone row's number follows "phone"
        return data


class TimelineEventSerializer(serializers.ModelSerializer):
    event_label = serializers.SerializerMethodField()
    data = serializers.SerializerMethodField(  # type: ignore[assignment]  # the metaclass takes it
        help_text="The event's details; keys named like fields of its model follow your field "
        "permissions (hidden ones left out, masked ones masked)."
    )

    class Meta:
        model = TimelineEvent
        fields = [
            "id",
            "occurred_at",
            "event",
            "event_label",
            "model",
            "object_id",
            "object_repr",
            "account_id",
            "actor",
            "actor_name",
            "data",
        ]
        read_only_fields = fields

    def get_event_label(self, obj: TimelineEvent) -> str:
        return str(event_type(obj.event).label)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, obj: TimelineEvent) -> dict[str, Any]:
        modes: ModesCache | None = self.context.get("modes")
        if modes is None:
            modes = ModesCache(self.context["request"].user)
            self.context["modes"] = modes
        return visible_event_data(obj.data, modes.for_label(obj.model))


class TimelineQuerySerializer(serializers.Serializer):
    model = serializers.CharField(max_length=100, help_text='The record\'s model, "app_label.model".')
    object_id = serializers.IntegerField(min_value=1, max_value=2**63 - 1, help_text="The record's id.")
