from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kehu.core.models import Job


class JobSerializer(serializers.ModelSerializer):
    """A background job (后台任务): status, progress and where to download its files."""

    percent = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="0–100, or null while the total is unknown."
    )
    is_finished = serializers.BooleanField(read_only=True)
    result_url = serializers.SerializerMethodField(help_text="Download URL of the result file, if any.")
    error_url = serializers.SerializerMethodField(help_text="Download URL of the error report, if any.")

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "title",
            "status",
            "is_finished",
            "owner",
            "progress_done",
            "progress_total",
            "percent",
            "message",
            "params",
            "result",
            "result_url",
            "error_url",
            "created_at",
            "started_at",
            "finished_at",
            "heartbeat_at",
        ]
        read_only_fields = fields

    def _url(self, job: Job, which: str) -> str | None:
        if not (job.result_file if which == "result" else job.error_file):
            return None
        url = reverse("core:job_download", args=[job.pk, which])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request is not None else url

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_result_url(self, job: Job) -> str | None:
        return self._url(job, "result")

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_error_url(self, job: Job) -> str | None:
        return self._url(job, "error")
