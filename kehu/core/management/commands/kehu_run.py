"""`make run`: load the demo data once, then run the web server, a Celery worker and Celery beat.

Each child runs in its own process group (and is sent SIGTERM if this process dies), so that
Ctrl-C, SIGTERM or SIGHUP here stop everything that was started, children of children included.
If one child exits on its own, the others are stopped too and the command fails.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TextIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError, CommandParser

# The demo company's users (see `manage.py load_demo`), in the order they are shown.
DEMO_USERS = [
    ("admin", "system administrator"),
    ("director", "sales director, all sales data"),
    ("manager1", "sales manager 华北区, region and below"),
    ("manager2", "sales manager 华东区, region and below"),
    ("rep1", "sales rep, own records"),
    ("rep2", "sales rep, own records"),
    ("rep3", "sales rep, own records"),
    ("rep4", "sales rep, own records"),
    ("agent1", "service agent"),
    ("marketer1", "marketing"),
]
DEMO_PASSWORD = "demo1234"
STOP_TIMEOUT = 10.0
READY_TIMEOUT = 90.0


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: deliver SIGTERM to the child if this (parent) process dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    pumps: list[threading.Thread] = field(default_factory=list)

    def start(self, out: TextIO) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own fixed argv
            self.argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: signals reach its whole tree
            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
        )
        pump = threading.Thread(target=self._pump, args=(out,), name=f"pump-{self.name}", daemon=True)
        pump.start()
        self.pumps.append(pump)

    def _pump(self, out: TextIO) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        prefix = f"[{self.name}] "
        for raw in iter(self.proc.stdout.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with contextlib.suppress(ValueError, OSError):
                out.write(prefix + line + "\n")
                out.flush()

    def poll(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    def signal_group(self, sig: int) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, sig)


class Command(BaseCommand):
    help = "Run Kehu for development: demo data (first time), web server, Celery worker and beat."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--no-demo", action="store_true", help="do not load the demo data")
        parser.add_argument(
            "--no-celery", action="store_true", help="run only the web server (no worker, no beat)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port: int = options["port"]
        host: str = options["host"]
        if not options["no_demo"]:
            self.load_demo()
        if not options["no_celery"]:
            self.prepare_broker()
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        children = [
            Child("web", [python, "-u", manage, "runserver", f"{host}:{port}", "--noreload"]),
        ]
        if not options["no_celery"]:
            celery = [python, "-u", "-m", "celery", "-A", "config"]
            children += [
                # Threads: one process, works with the SQLite broker and shares nothing unsafe.
                Child("worker", [*celery, "worker", "--pool", "threads", "--concurrency", "4",
                                 "--loglevel", "INFO", "--without-gossip", "--without-mingle",
                                 "--hostname", f"kehu-{port}@%h"]),
                Child("beat", [*celery, "beat", "--loglevel", "INFO", "--pidfile=",
                               "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler"]),
            ]  # fmt: skip
        code = self.supervise(children, f"http://{host}:{port}")
        if code:
            raise CommandError(f"stopped: {code}")

    # --- demo data ------------------------------------------------------------------------------
    def load_demo(self) -> None:
        user_model = get_user_model()
        if user_model.objects.exists():
            self.stdout.write("Database has users already: demo data not loaded again.")
            return
        if "load_demo" not in get_commands():
            self.stdout.write(
                self.style.WARNING("No `load_demo` command available: starting without demo data.")
            )
            return
        self.stdout.write("Loading the demo company (first run only)…")
        call_command("load_demo", stdout=self.stdout, stderr=self.stderr)

    # --- broker -------------------------------------------------------------------------------------
    def prepare_broker(self) -> None:
        """Declare the task queue once, before worker, beat and web start. kombu's SQLAlchemy transport
        creates a queue row with SELECT-then-INSERT, so on a fresh broker file the worker and the
        first publisher (beat) race, and the loser dies with "UNIQUE constraint failed:
        kombu_queue.name"."""
        from config.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=3)
            channel: Any = conn.default_channel
            channel.queue_declare(queue=app.conf.task_default_queue, durable=True, auto_delete=False)

    # --- supervision ----------------------------------------------------------------------------
    def supervise(self, children: list[Child], url: str) -> str:
        stop_reason: list[str] = []

        def on_signal(signum: int, _frame: FrameType | None) -> None:
            stop_reason.append(signal.Signals(signum).name)

        previous = {
            sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
        }
        failure = ""
        try:
            for child in children:
                child.start(sys.stdout)
            announced = False
            deadline = time.monotonic() + READY_TIMEOUT
            while not stop_reason:
                dead = [c for c in children if c.poll() is not None]
                if dead:
                    failure = ", ".join(f"{c.name} exited with code {c.poll()}" for c in dead)
                    self.stderr.write(self.style.ERROR(f"{failure}: stopping the others."))
                    break
                if not announced:
                    if self.answers(url):
                        announced = True
                        self.announce(url, children)
                    elif time.monotonic() > deadline:
                        failure = f"the web server did not answer at {url} within {READY_TIMEOUT:.0f} s"
                        self.stderr.write(self.style.ERROR(failure))
                        break
                time.sleep(0.3)
            if stop_reason:
                self.stdout.write(f"\n{stop_reason[0]} received: stopping web, worker and beat…")
        finally:
            self.stop(children)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if not failure:
            self.stdout.write("Stopped.")
        return failure

    def stop(self, children: list[Child]) -> None:
        for child in children:
            if child.poll() is None:
                child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in children:
            if child.proc is None:
                continue
            try:
                child.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{child.name} did not stop in {STOP_TIMEOUT:.0f} s: killing it.")
                child.signal_group(signal.SIGKILL)
                child.proc.wait()
            # Whatever is left in its process group (grandchildren) goes too.
            child.signal_group(signal.SIGKILL)
            for pump in child.pumps:
                pump.join(timeout=2)

    @staticmethod
    def answers(url: str) -> bool:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                return bool(response.status)
        except urllib.error.HTTPError:
            return True  # it answered (503 = a dependency is down; healthz tells which)
        except OSError:
            return False

    def announce(self, url: str, children: list[Child]) -> None:
        user_model = get_user_model()
        present = set(
            user_model.objects.filter(username__in=[u for u, _ in DEMO_USERS]).values_list(
                "username", flat=True
            )
        )
        lines = ["", "=" * 72, f"  Kehu is running at {url}/", f"  API docs: {url}/api/docs/"]
        lines.append("  Running: " + ", ".join(c.name for c in children))
        if present:
            lines.append(f"  Demo logins (password {DEMO_PASSWORD}):")
            lines += [f"    {name:<10} {role}" for name, role in DEMO_USERS if name in present]
        else:
            lines.append("  No demo users in this database: create one with `manage.py createsuperuser`.")
        lines += ["  Press Ctrl-C to stop everything.", "=" * 72, ""]
        self.stdout.write("\n".join(lines))
