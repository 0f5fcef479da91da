"""Operations: /healthz, structured request logging with the request id, production settings."""

from __future__ import annotations

import json
import logging
import secrets
import subprocess

import pytest
from django.db import connection
from django.test import Client

from config.celery import app as celery_app
from kehu.core.logging import JsonFormatter, RequestIdFilter

from .conftest import PYTHON, ROOT, base_env

pytestmark = pytest.mark.django_db


def test_healthz_ok(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"]
    assert response.json() == {
        "status": "ok",
        "database": {"ok": True, "detail": connection.vendor},
        "broker": {"ok": True, "detail": "memory"},
    }


@pytest.mark.parametrize(
    "broker_url",
    [
        "redis://127.0.0.1:1/0",
        "amqp://guest:guest@127.0.0.1:1//",
        "sqla+sqlite:////nonexistent-kehu-dir/b.sqlite3",
    ],
)
def test_healthz_reports_a_broken_broker_with_503(
    client: Client, monkeypatch: pytest.MonkeyPatch, broker_url: str
) -> None:
    monkeypatch.setattr(celery_app.conf, "broker_url", broker_url)
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["database"] == {"ok": True, "detail": connection.vendor}
    assert body["broker"]["ok"] is False
    assert body["broker"]["detail"].startswith("OperationalError: ")


def request_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "kehu.request"]


def test_one_structured_log_line_per_request(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="kehu.request"):
        response = client.get("/healthz")
    (record,) = request_records(caplog)
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["logger"] == "kehu.request"
    assert data["level"] == "INFO"
    assert data["msg"] == "GET /healthz 200"
    assert data["request_id"] == request_id
    assert data["method"] == "GET"
    assert data["path"] == "/healthz"
    assert data["status"] == 200
    assert isinstance(data["duration_ms"], float)
    assert data["duration_ms"] >= 0
    assert data["user_id"] is None


def test_sane_incoming_request_id_is_kept(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="kehu.request"):
        response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a2c91.req_01")
    assert response["X-Request-ID"] == "lb-7f3a2c91.req_01"
    assert [r.request_id for r in request_records(caplog)] == ["lb-7f3a2c91.req_01"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "incoming", ["short", "has spaces in it", "x" * 65, "evil\r\nSet-Cookie: a=b", "名字名字名字名字"]
)
def test_unsafe_incoming_request_id_is_replaced(client: Client, incoming: str) -> None:
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)
    assert response["X-Request-ID"] != incoming
    assert len(response["X-Request-ID"]) == 32


def test_log_line_carries_the_user(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    from kehu.users.tests.factories import UserFactory

    user = UserFactory(username="logged")
    client.force_login(user)
    with caplog.at_level(logging.INFO, logger="kehu.request"):
        client.get("/healthz")
    (record,) = request_records(caplog)
    assert record.user_id == user.pk  # type: ignore[attr-defined]


def production_env(**extra: str) -> dict[str, str]:
    return base_env(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="crm.example.com",
        DATABASE_URL="postgres://kehu:secret@db.example.com:5432/kehu",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        **extra,
    )


def run_manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy_without_warnings() -> None:
    result = run_manage(production_env(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_refuses_to_start_without_a_secret_key() -> None:
    env = production_env()
    del env["SECRET_KEY"]
    result = run_manage(env, "check")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr
