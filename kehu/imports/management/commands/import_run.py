"""`manage.py import_run <core job id>`: run an import's background job in this process (the same
task function a Celery worker runs). For operations (a worker-less run) and the kill test."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from kehu.imports import tasks
from kehu.imports.engine import BATCH_SIZE


class Command(BaseCommand):
    help = "Run an import job (dry run, run or undo) by its core.Job id, in this process."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("job_id", type=int)
        parser.add_argument("--batch-size", type=int, default=BATCH_SIZE)
        parser.add_argument("--pause", type=float, default=0.0, help="seconds to wait after each batch")

    def handle(self, *args: Any, **options: Any) -> None:
        from kehu.core.models import Job

        job = Job.objects.get(pk=options["job_id"])
        step = (job.params or {}).get("step", "import_run")
        if step == "import_run":
            tasks.import_run.apply(args=(job.pk, options["batch_size"], options["pause"]), throw=True)
        else:
            getattr(tasks, step).apply(args=(job.pk,), throw=True)
        job.refresh_from_db()
        self.stdout.write(f"{job.status}: {job.message}")
