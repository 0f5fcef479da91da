"""`manage.py kehu_run` (what `make run` starts): web server + Celery worker + beat on one SQLite file
and the embedded SQLite broker. These tests start the real processes against a scratch database."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from .conftest import PYTHON, ROOT, free_port, manage

pytestmark = pytest.mark.processes

BANNER = "Kehu is running at"


@dataclass
class Running:
    proc: subprocess.Popen[str]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def descendants(pid: int) -> set[int]:
    """Every live process below `pid` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_until(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start(env: dict[str, str], tmp_path: Path) -> Running:
    port = free_port()
    log = tmp_path / "kehu_run.log"
    proc = subprocess.Popen(
        [PYTHON, str(ROOT / "manage.py"), "kehu_run", "--port", str(port), "--no-demo"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Running(proc, f"http://127.0.0.1:{port}", log)
    try:
        wait_until(
            lambda: (BANNER in running.output() and "ready." in running.output()) or proc.poll() is not None,
            60,
            "kehu_run to start",
        )
    except AssertionError:
        proc.kill()
        raise AssertionError(running.output()) from None
    assert proc.poll() is None, running.output()
    return running


@pytest.fixture
def running(scratch_env: dict[str, str], tmp_path: Path) -> Iterator[Running]:
    run = start(scratch_env, tmp_path)
    yield run
    if run.proc.poll() is None:
        for pid in descendants(run.proc.pid):
            os.kill(pid, signal.SIGKILL)
        run.proc.kill()
        run.proc.wait()


def test_healthz_reports_database_and_broker(running: Running) -> None:
    response = requests.get(f"{running.url}/healthz", timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"] == {"ok": True, "detail": "sqlite"}
    assert body["broker"]["ok"] is True
    assert body["broker"]["detail"] == "sqla"
    # Static files are served by the development server (DEBUG is on in config.settings.local).
    css = requests.get(f"{running.url}/static/kehu/kehu.css", timeout=10)
    assert css.status_code == 200
    assert "text/css" in css.headers["Content-Type"]


PRODUCE_JOBS = """
import time
from kehu.core.models import Job
from kehu.core.tasks import job_sweep_stale
for i in range(120):
    Job.objects.create(kind="load", title=f"load {i}", status="running")
    if i % 10 == 9:
        job_sweep_stale.delay()
    time.sleep(0.03)
job_sweep_stale.delay()
"""

TAKE_NUMBERS = """
from kehu.core.services import sequence_next
for i in range(100):
    prefix, _year, n = sequence_next(key="load", prefix="L").split("-")
    print(f"{prefix}-{n}")
"""


def _shell(env: dict[str, str], code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [PYTHON, str(ROOT / "manage.py"), "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _browse(
    url: str, username: str, requests_per_user: int, statuses: Counter[int], lock: threading.Lock
) -> None:
    session = requests.Session()
    session.get(f"{url}/accounts/login/", timeout=30)
    token = session.cookies["csrftoken"]
    login = session.post(
        f"{url}/accounts/login/",
        data={"login": username, "password": "load-test-pw-93", "csrfmiddlewaretoken": token},
        headers={"Referer": f"{url}/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    seen = [login.status_code]
    for i in range(requests_per_user):
        if i % 2 == 0:  # a write: the language switch saves the session row
            token = session.cookies.get("csrftoken", token)
            response = session.post(
                f"{url}/i18n/setlang/",
                data={"language": "en" if i % 4 else "zh-hans", "next": "/", "csrfmiddlewaretoken": token},
                headers={"Referer": f"{url}/"},
                timeout=30,
                allow_redirects=False,
            )
        else:
            response = session.get(f"{url}/", timeout=30, allow_redirects=False)
        seen.append(response.status_code)
    with lock:
        statuses.update(seen)


def test_mixed_load_on_one_sqlite_file_gives_no_lock_errors(
    running: Running, scratch_env: dict[str, str]
) -> None:
    """Web requests that write sessions, processes that write jobs, queue tasks and take document
    numbers, the worker marking those jobs failed and beat writing its schedule, all on one SQLite
    file at once. Without WAL + busy timeout + IMMEDIATE transactions this fails with "database is
    locked"."""
    users = [f"load{i}" for i in range(4)]
    manage(
        scratch_env,
        "shell",
        "-c",
        "from kehu.users.models import User\n"
        f"for name in {users!r}:\n"
        "    User.objects.filter(username=name).exists() or "
        "User.objects.create_user(name, password='load-test-pw-93')",
    )
    # Writes 120 running jobs with no heartbeat and queues sweeps that mark them failed, while two
    # more processes take 100 document numbers each (read-modify-write transactions, the pattern
    # of every service).
    producers = [_shell(scratch_env, PRODUCE_JOBS)] + [_shell(scratch_env, TAKE_NUMBERS) for _ in range(2)]
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    threads = [
        threading.Thread(target=_browse, args=(running.url, name, 74, statuses, lock)) for name in users
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    outputs = []
    for producer in producers:
        out, _ = producer.communicate(timeout=120)
        assert producer.returncode == 0, out
        outputs.append(out.split())
    numbers = outputs[1] + outputs[2]
    assert len(numbers) == 200
    assert sorted(numbers) == [f"L-{n:05d}" for n in range(1, 201)]  # none lost, none repeated
    assert sum(statuses.values()) == 300
    assert set(statuses) <= {200, 302}, statuses

    # The worker took every queued sweep from the SQLite broker: all 120 jobs end failed.
    count = "from kehu.core.models import Job; print(Job.objects.filter(kind='load', status='{}').count())"

    def all_failed() -> bool:
        return manage(scratch_env, "shell", "-v", "0", "-c", count.format("failed")).split() == ["120"]

    wait_until(all_failed, 60, "the worker to sweep the load jobs")
    output = running.output()
    assert "database is locked" not in output.lower()
    assert "Traceback" not in output
    assert re.search(r"Task kehu\.core\.tasks\.job_sweep_stale\[[0-9a-f-]+\] succeeded", output)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_web_worker_and_beat_without_orphans(running: Running, sig: signal.Signals) -> None:
    started = descendants(running.proc.pid)
    assert len(started) >= 3, started  # web, worker, beat
    running.proc.send_signal(sig)
    assert running.proc.wait(timeout=30) == 0, running.output()
    wait_until(lambda: not any(alive(pid) for pid in started), 10, "every child to exit")
    assert f"{sig.name} received" in running.output()
    assert running.output().rstrip().endswith("Stopped.")


def test_a_dying_child_stops_the_others(running: Running) -> None:
    started = descendants(running.proc.pid)
    worker = next(
        pid for pid in started if " worker " in Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    )
    os.kill(worker, signal.SIGKILL)
    assert running.proc.wait(timeout=30) != 0
    wait_until(lambda: not any(alive(pid) for pid in started), 10, "every child to exit")
    assert "worker exited with code -9: stopping the others." in running.output()


def test_the_task_queue_is_declared_before_the_children_start(
    scratch_env: dict[str, str], tmp_path: Path
) -> None:
    """On a fresh SQLite broker, worker and beat would race to create the queue row (kombu's
    SELECT-then-INSERT) and one would die on the unique constraint: kehu_run creates it first."""
    import sqlite3

    broker = tmp_path / "fresh-broker.sqlite3"
    env = {**scratch_env, "CELERY_BROKER_URL": f"sqla+sqlite:///{broker}"}
    code = "from kehu.core.management.commands.kehu_run import Command\nCommand().prepare_broker()"
    manage(env, "shell", "-v", "0", "-c", code)
    manage(env, "shell", "-v", "0", "-c", code)  # idempotent
    with sqlite3.connect(broker) as db:
        assert db.execute("SELECT name FROM kombu_queue").fetchall() == [("celery",)]
