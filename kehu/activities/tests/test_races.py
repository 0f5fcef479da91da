"""Parallel requests on PostgreSQL: a repeating task completed by several clicks at once gets
exactly one next occurrence and one "completed" event."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connections
from django.utils import timezone

from kehu.audit.models import TimelineEvent
from kehu.core.tests.test_sequences import database_for_threads, in_thread
from kehu.customers.tests.factories import AccountFactory

from .. import services
from ..choices import TaskStatus
from ..models import Task


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_completes_create_one_occurrence(sales: Any, tmp_path: Path) -> None:
    account = AccountFactory.create(owner=sales.rep1)
    task = services.task_create(
        by=sales.rep1,
        data={
            "title": "日报",
            "due_at": timezone.now() + dt.timedelta(hours=1),
            "recurrence": "daily",
            "account": account,
        },
    )
    threads_n = 6
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            services.task_complete(task=task, by=sales.rep1)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    with database_for_threads(tmp_path):  # SQLite: a shared file database, as in production
        threads = [threading.Thread(target=worker) for _ in range(threads_n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        task = in_thread(lambda: Task.objects.get(pk=task.pk))
        occurrences = in_thread(lambda: Task.objects.filter(series_id=task.pk).count())
        events = in_thread(
            lambda: TimelineEvent.objects.filter(event="task.completed", object_id=task.pk).count()
        )

    assert errors == []
    assert task.status == TaskStatus.DONE and task.version == 2
    assert occurrences == 1 and events == 1
