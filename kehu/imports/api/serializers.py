"""Serializers of the imports API: the import job as the wizard sees it, and each step's input."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.api.serializers import JobSerializer

from ..choices import DuplicateAction, ImportMode, OwnerMode
from ..models import ImportJob


@extend_schema_field({"type": "string", "description": "create, update or upsert."})
class ImportModeField(serializers.ChoiceField):
    """The import mode. Described without an enum: the schema's enums are named by field name,
    and another app's "mode" would collide (an ENUM_NAME_OVERRIDES entry in the settings would
    give it its own name: "ImportModeEnum": "kehu.imports.choices.ImportMode")."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=ImportMode.choices, **kwargs)


class ImportJobSerializer(serializers.ModelSerializer):
    """An import (导入): its file, how it is read, its mapping and options, the dry run and the run."""

    job = JobSerializer(read_only=True, help_text="The running or last background job (dry run, run, undo).")
    error_file_url = serializers.SerializerMethodField(help_text="Download URL of the error file, if any.")
    mode = ImportModeField(read_only=True)

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "target",
            "status",
            "original_name",
            "size",
            "sha256",
            "options",
            "headers",
            "row_estimate",
            "preset",
            "mapping",
            "transforms",
            "mode",
            "match_key",
            "on_duplicate",
            "owner_mode",
            "assign_to",
            "pool_id",
            "owner",
            "job",
            "dry_run",
            "result",
            "rows_done",
            "error_file_url",
            "created_at",
            "started_at",
            "finished_at",
            "undone_at",
        ]
        read_only_fields = fields

    def get_error_file_url(self, obj: ImportJob) -> str | None:
        if not obj.error_file:
            return None
        return reverse("imports:error_file", args=[obj.pk])


class ImportCreateSerializer(serializers.Serializer):
    target = serializers.CharField(help_text="The record type, e.g. customers.contact.")
    file = serializers.FileField(help_text="CSV, TSV, XLSX or vCard.")


class ImportRereadSerializer(serializers.Serializer):
    encoding = serializers.CharField(
        required=False, allow_blank=True, help_text="e.g. utf-8, gb18030, cp1252."
    )
    delimiter = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)
    header_row = serializers.IntegerField(required=False, allow_null=True, min_value=0)
    sheet = serializers.CharField(required=False, allow_blank=True)


class ImportMappingSerializer(serializers.Serializer):
    mapping = serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text='{column: field name or ""}.'
    )
    transforms = serializers.DictField(
        required=False,
        help_text="date_order (YMD/DMY/MDY), phone_region, unknown_choices (reject/map/create), "
        "picklists ({field: {value: option}}), separators.",
    )
    mode = ImportModeField(required=False, default=ImportMode.CREATE)
    match_key = serializers.CharField(required=False, allow_blank=True, default="")
    on_duplicate = serializers.ChoiceField(
        choices=DuplicateAction.choices, required=False, default=DuplicateAction.SKIP
    )
    owner_mode = serializers.ChoiceField(choices=OwnerMode.choices, required=False, default=OwnerMode.RULES)
    assign_to = serializers.IntegerField(required=False, allow_null=True, default=None)
    pool_id = serializers.IntegerField(required=False, allow_null=True, default=None)

    def to_service(self) -> dict[str, Any]:
        data = dict(self.validated_data)
        data.setdefault("transforms", None)
        return data


class ImportPreviewRowSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    raw = serializers.ListField(child=serializers.CharField(allow_blank=True))
    values = serializers.DictField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]
    row_error = serializers.CharField(allow_blank=True)


class ImportTargetSerializer(serializers.Serializer):
    target = serializers.CharField()
    name = serializers.CharField()
