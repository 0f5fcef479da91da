"""The web form's signed start time expires (a day): an old page is refused with a form error
telling the visitor to reload it (not silently taken for spam, and no ticket); the page shown again
carries a fresh start time."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from kehu.service.forms_public import STARTED_MAX_AGE, STARTED_SALT, started_seconds_ago
from kehu.service.models import Ticket
from kehu.service.selectors.public import public_ticket_types

pytestmark = pytest.mark.django_db


class _SignedEarlier(signing.TimestampSigner):
    """Signs as if `seconds` ago (the signature's own timestamp, which `max_age` reads)."""

    def __init__(self, seconds: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seconds = seconds

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - self.seconds)


def old_token(seconds: int) -> str:
    return _SignedEarlier(seconds, salt=STARTED_SALT).sign_object(int(time.time()) - seconds)


@pytest.fixture(autouse=True)
def _clear_cache() -> Any:
    cache.clear()
    yield
    cache.clear()


def _form(started: str) -> dict[str, Any]:
    return {
        "name": "李雷",
        "email": "li.lei@example.com",
        "type": public_ticket_types().values_list("pk", flat=True)[0],
        "subject": "打印机无法连接",
        "description": "连不上",
        "website": "",
        "started": started,
    }


def test_tokens_expire_after_a_day() -> None:
    assert started_seconds_ago(old_token(STARTED_MAX_AGE - 60)) is not None
    assert started_seconds_ago(old_token(STARTED_MAX_AGE + 60)) is None


def test_an_expired_form_is_refused_with_a_clear_error(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("help:ticket_new"), _form(old_token(2 * 24 * 3600)))
    assert response.status_code == 400
    assert "The form expired, please reload the page." in response.content.decode()
    assert not Ticket.objects.exists()
    fresh = response.context["form"]["started"].value()
    ago = started_seconds_ago(fresh)
    assert ago is not None and ago < 60
    # A page a few minutes old goes through.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("help:ticket_new"), _form(old_token(300)))
    assert response.status_code == 302
    assert Ticket.objects.count() == 1
