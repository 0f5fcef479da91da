"""The production web server: gunicorn with config/gunicorn.conf.py and config.settings.production."""

from __future__ import annotations

import secrets
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from .conftest import PYTHON, ROOT, free_port

pytestmark = pytest.mark.processes


def test_gunicorn_serves_healthz_with_production_settings(
    scratch_env: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    env = {
        **scratch_env,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": "127.0.0.1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": "2",
        "LOG_FORMAT": "json",
    }
    log = tmp_path / "gunicorn.log"
    proc = subprocess.Popen(
        [PYTHON, "-m", "gunicorn", "-c", str(ROOT / "config" / "gunicorn.conf.py")],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        response = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=30)
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        assert response is not None, log.read_text()
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ok"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        # Everything else is redirected to HTTPS (the proxy in front terminates TLS).
        home = requests.get(f"http://127.0.0.1:{port}/", timeout=30, allow_redirects=False)
        assert home.status_code == 301
        assert home.headers["Location"] == f"https://127.0.0.1:{port}/"
        secure = requests.get(
            f"http://127.0.0.1:{port}/",
            timeout=30,
            allow_redirects=False,
            headers={"X-Forwarded-Proto": "https"},
        )
        assert secure.status_code == 302
        assert secure.headers["Location"].startswith("/accounts/login/")
        assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    output = log.read_text()
    assert '"logger": "kehu.request"' in output
    assert '"path": "/healthz"' in output
