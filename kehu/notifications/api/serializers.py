from __future__ import annotations

from rest_framework import serializers

from kehu.notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "level",
            "title",
            "body",
            "url",
            "actor",
            "target_model",
            "target_id",
            "created_at",
            "read_at",
            "is_read",
        ]
        read_only_fields = fields


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(help_text="How many of your notifications are unread.")


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications were marked read just now.")


class NotificationPreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField(max_length=64, help_text="The kind of notification, e.g. `task.reminder`.")
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    description = serializers.CharField(read_only=True)
    in_app = serializers.BooleanField(
        required=False, help_text="Shown in the notification centre (the bell)."
    )
    email = serializers.BooleanField(required=False, help_text="Sent by e-mail.")
    default_in_app = serializers.BooleanField(read_only=True)
    default_email = serializers.BooleanField(read_only=True)
    customised = serializers.BooleanField(read_only=True, help_text="False: the kind's defaults apply.")
