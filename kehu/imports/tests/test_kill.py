"""The kill test (issue 6, "nothing lost"): an import running in its own process is killed with
SIGKILL in the middle; the database holds only whole batches, each with its records, their
details and their change-log rows; the heartbeat sweep marks the dead job, the import resumes
after the last committed batch to exactly one record per row, and undo removes them all.

Runs on SQLite (the in-memory test database is copied to a file the processes share) and on
PostgreSQL (the processes use the test database itself)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from kehu.core.services import job_create
from kehu.imports.choices import ImportStatus

from .test_engine import csv_bytes, importer, make_job

pytestmark = [pytest.mark.processes, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[3]
ROWS = 600
BATCH = 50


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "DATABASE_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=database_url,
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def _database(tmp_path: Path) -> tuple[str, Callable[[str], list[tuple[Any, ...]]]]:
    """The URL the processes use and a function reading the shared database."""
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        path = tmp_path / "kill.sqlite3"
        target = sqlite3.connect(path)
        connection.connection.backup(target)
        target.execute("PRAGMA journal_mode=WAL")
        target.close()

        def query(sql: str) -> list[tuple[Any, ...]]:
            with sqlite3.connect(path, timeout=30) as db:
                return list(db.execute(sql).fetchall())

        return f"sqlite:///{path}", query
    s = connection.settings_dict
    password = f":{s['PASSWORD']}" if s.get("PASSWORD") else ""
    url = f"postgres://{s['USER']}{password}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"

    def query_pg(sql: str) -> list[tuple[Any, ...]]:
        with connection.cursor() as cur:
            cur.execute(sql)
            return list(cur.fetchall())

    return url, query_pg


def _shell(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _whole_batches(query: Callable[[str], list[tuple[Any, ...]]], import_id: int) -> tuple[int, int]:
    """(batches, contacts): every contact belongs to a committed batch and has exactly one
    change-log row of the import, its phone and its account relation."""
    tag = f"import-{import_id}"
    batches = query(
        "SELECT number, first_row, last_row, created FROM imports_importbatch "
        f"WHERE job_id = {import_id} ORDER BY number"
    )
    contacts = query("SELECT COUNT(*) FROM customers_contact")[0][0]
    assert [b[0] for b in batches] == list(range(1, len(batches) + 1))
    assert contacts == sum(b[3] for b in batches)
    per_contact = query(
        "SELECT c.id, COUNT(o.id) FROM customers_contact c LEFT JOIN audit_objectchange o "
        f"ON o.object_id = c.id AND o.model = 'customers.contact' AND o.request_id = '{tag}' GROUP BY c.id"
    )
    assert all(count == 1 for _pk, count in per_contact)
    changes = query(f"SELECT COUNT(*) FROM audit_objectchange WHERE request_id = '{tag}'")[0][0]
    assert changes == contacts
    assert query("SELECT COUNT(*) FROM customers_contactphone")[0][0] == contacts
    assert query("SELECT COUNT(*) FROM customers_accountcontactrelation")[0][0] == contacts
    return len(batches), contacts


@pytest.mark.parametrize("threaded", [False, True], ids=["serial", "writer-thread"])
def test_killed_import_keeps_whole_batches_resumes_and_undoes(tmp_path: Path, threaded: bool) -> None:
    """`threaded`: on PostgreSQL a big file is written by a second thread one batch behind the
    preparing (`running.written_batches`); killed with a batch in flight, the server rolls that
    batch back with the connection."""
    from kehu.customers.tests.factories import AccountFactory
    from kehu.imports.running import THREAD_FROM_ROWS, use_writer_thread

    if threaded and connection.vendor != "postgresql":
        pytest.skip("the writer thread runs on PostgreSQL only")

    user = importer()
    AccountFactory(name="北京星辰科技有限公司", external_id="SF-ACC-1", owner=user)
    content = csv_bytes(
        [[f"联系人{i}", "SF-ACC-1", f"139{i:08d}", f"p{i}@example.com", "", f"K-{i}"] for i in range(ROWS)]
    )
    job = make_job(user, content)
    if threaded:  # the file's estimated size decides: claim a big one
        job.row_estimate = THREAD_FROM_ROWS
        job.save(update_fields=["row_estimate"])
    assert use_writer_thread(job) is threaded
    core = job_create(kind="import", owner=user, params={"import_id": job.pk, "step": "import_run"})
    job.status, job.job = ImportStatus.RUNNING, core
    job.save(update_fields=["status", "job"])
    url, query = _database(tmp_path)
    env = _env(url)

    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "manage.py"),
            "import_run",
            str(core.pk),
            "--batch-size",
            str(BATCH),
            "--pause",
            "0.3",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            done = query(f"SELECT COUNT(*) FROM imports_importbatch WHERE job_id = {job.pk}")[0][0]
            if done >= 3 or process.poll() is not None:
                break
            time.sleep(0.05)
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    batches, contacts = _whole_batches(query, job.pk)
    assert 3 <= batches < ROWS // BATCH
    assert 0 < contacts < ROWS
    assert query(f"SELECT status FROM core_job WHERE id = {core.pk}") == [("running",)]

    # The sweep marks the dead job failed; the import resumes after the last committed batch.
    out = _shell(
        env,
        "import datetime as dt; from django.utils import timezone; "
        "from kehu.core.services import job_sweep_stale; from kehu.imports.models import ImportJob; "
        "from kehu.imports.running import import_run_start; "
        "print(job_sweep_stale(now=timezone.now() + dt.timedelta(hours=1))); "
        f"imp = ImportJob.objects.get(pk={job.pk}); j = import_run_start(job=imp, by=imp.owner); "
        "j.refresh_from_db(); print(j.status)",
    )
    assert out.split()[-2:] == ["1", "succeeded"]
    batches, contacts = _whole_batches(query, job.pk)
    assert contacts == ROWS
    assert query(f"SELECT status, rows_done FROM imports_importjob WHERE id = {job.pk}") == [("done", ROWS)]
    assert query("SELECT COUNT(DISTINCT external_id) FROM customers_contact")[0][0] == ROWS

    out = _shell(
        env,
        "from kehu.imports.models import ImportJob; from kehu.imports.running import import_undo_start; "
        f"imp = ImportJob.objects.get(pk={job.pk}); j = import_undo_start(job=imp, by=imp.owner); "
        "j.refresh_from_db(); print(j.status)",
    )
    assert out.split()[-1:] == ["succeeded"]
    assert query("SELECT COUNT(*) FROM customers_contact")[0][0] == 0
    assert query("SELECT COUNT(*) FROM customers_contactphone")[0][0] == 0
    assert (
        query(
            "SELECT COUNT(*) FROM dedup_matchkey WHERE content_type_id IN "
            "(SELECT id FROM django_content_type WHERE model = 'contact')"
        )[0][0]
        == 0
    )
    assert query(f"SELECT status FROM imports_importjob WHERE id = {job.pk}") == [("undone",)]
