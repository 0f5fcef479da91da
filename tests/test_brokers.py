"""Production brokers: a real Celery worker consumes a task through Redis and through RabbitMQ and
writes to the database. (The embedded SQLite broker is covered by tests/test_make_run.py.)

Needs Redis on 127.0.0.1:6379 and RabbitMQ on 127.0.0.1:5672 (guest/guest); `.ci/run` starts them
when they are down."""

from __future__ import annotations

import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from .conftest import PYTHON, ROOT, manage

pytestmark = pytest.mark.brokers

BROKERS = {
    "redis": ("redis://127.0.0.1:6379/0", 6379),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
}


def reachable(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("broker", sorted(BROKERS))
def test_worker_runs_a_task_through_the_broker(
    scratch_env: dict[str, str], tmp_path: Path, broker: str
) -> None:
    url, port = BROKERS[broker]
    assert reachable(port), f"{broker} is not running on 127.0.0.1:{port} (.ci/run starts it)"
    queue = f"kehu-test-{secrets.token_hex(4)}"
    env = {**scratch_env, "CELERY_BROKER_URL": url}
    # A running job without heartbeat: the sweep task (run by the worker) marks it failed.
    job_id = manage(
        env,
        "shell",
        "-v",
        "0",
        "-c",
        "from kehu.core.models import Job\n"
        f"print(Job.objects.create(kind='broker-{broker}', title='{broker}', status='running').pk)",
    ).split()[-1]
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [PYTHON, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "--queues", queue,
         "--loglevel", "INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "--hostname", f"{queue}@%h"],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        manage(
            env,
            "shell",
            "-v",
            "0",
            "-c",
            f"from kehu.core.tasks import job_sweep_stale; job_sweep_stale.apply_async(queue={queue!r})",
        )
        status = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and worker.poll() is None:
            status = manage(
                env,
                "shell",
                "-v",
                "0",
                "-c",
                f"from kehu.core.models import Job; print(Job.objects.get(pk={job_id}).status)",
            ).split()[-1]
            if status == "failed":
                break
            time.sleep(0.5)
        output = log.read_text()
        assert status == "failed", output
        assert "Task kehu.core.tasks.job_sweep_stale[" in output
        assert "succeeded" in output
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        # Leave nothing behind on the broker.
        manage(
            env,
            "shell",
            "-v",
            "0",
            "-c",
            "from config.celery import app\n"
            "with app.connection_for_write() as conn:\n"
            f"    channel = conn.default_channel\n"
            f"    channel.queue_delete({queue!r})\n"
            f"    if {broker!r} == 'redis':\n"
            f"        channel.client.delete(*channel.client.keys('_kombu.binding*.{queue}'))",
        )
