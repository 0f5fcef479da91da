from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from ..choices import DayKind, Weekday
from ..models import BusinessCalendar, CalendarDay, WorkingHours, validate_time_zone


class WorkingHoursSerializer(serializers.ModelSerializer):
    weekday = serializers.ChoiceField(choices=Weekday.choices, help_text="0 = Monday … 6 = Sunday")
    end = serializers.TimeField(help_text="00:00 means until midnight.")

    class Meta:
        model = WorkingHours
        fields = ["weekday", "start", "end"]


class CalendarDaySerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=DayKind.choices)
    works_as = serializers.IntegerField(
        min_value=0,
        max_value=6,
        required=False,
        default=0,
        help_text="A make-up day's weekday whose hours apply (0 = Monday … 6 = Sunday).",
    )

    class Meta:
        model = CalendarDay
        fields = ["id", "date", "kind", "name", "works_as"]
        read_only_fields = ["id"]


class BusinessCalendarSerializer(serializers.ModelSerializer):
    """A business calendar with its weekly hours and its days. Sending `hours` replaces the whole
    week (weekdays not named become days off); sending `days` replaces all its days."""

    time_zone = serializers.CharField(max_length=64, required=False, validators=[validate_time_zone])
    hours = WorkingHoursSerializer(many=True, required=False)
    days = CalendarDaySerializer(many=True, required=False)

    class Meta:
        model = BusinessCalendar
        fields = [
            "id",
            "name",
            "time_zone",
            "is_default",
            "is_active",
            "hours",
            "days",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        validators: list[Any] = []

    def validate_days(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        dates = [row["date"] for row in value]
        if len(dates) != len(set(dates)):
            raise serializers.ValidationError(_("A date may appear only once."))
        return value


class LoadHolidaysSerializer(serializers.Serializer):
    year = serializers.IntegerField(min_value=2000, max_value=2100)


class LoadedSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    changed = serializers.IntegerField(help_text="Days added or changed (0 when already loaded).")
    confirmed = serializers.BooleanField(
        help_text="Whether the built-in table was checked against the official notice."
    )


class DueQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    seconds = serializers.IntegerField(min_value=0, max_value=10 * 365 * 86400)


class DueSerializer(serializers.Serializer):
    due = serializers.DateTimeField()


class PauseSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class ElapsedQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    pauses = PauseSerializer(
        many=True, required=False, help_text="Spans not counted (waiting on the customer)."
    )


class ElapsedSerializer(serializers.Serializer):
    seconds = serializers.IntegerField()
