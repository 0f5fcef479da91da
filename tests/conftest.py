"""Helpers for the platform tests: a scratch installation (its own SQLite database and SQLite broker
in a temporary folder) that subprocesses (`manage.py kehu_run`, Celery workers) can share."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "DATABASE_"))}
    env.update(
        PYTHONUNBUFFERED="1",
        PYTHONDONTWRITEBYTECODE="1",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        LOG_FORMAT="plain",
    )
    env.update(extra)
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> str:
    result = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def scratch_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A migrated SQLite database and an SQLite broker file, like `make run` uses, in a temp dir."""
    folder = tmp_path_factory.mktemp("kehu-scratch")
    env = base_env(
        DATABASE_URL=f"sqlite:///{folder / 'kehu.sqlite3'}",
        CELERY_BROKER_URL=f"sqla+sqlite:///{folder / 'broker.sqlite3'}",
        MEDIA_ROOT=str(folder / "media"),
    )
    manage(env, "migrate", "--no-input", "-v", "0", timeout=300)
    return env
