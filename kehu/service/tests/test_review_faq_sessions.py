"""The public FAQ makes no session when read (each cookieless crawler hit made a session row); it
counts those views without one. Voting makes the session, and the voter key is the session's
alone (the address is no part of it)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from kehu.service.models import ArticleVote

from .factories_knowledge import public_article

pytestmark = pytest.mark.django_db


@pytest.fixture
def faq(company: Any) -> Any:
    cache.clear()
    yield public_article(company.admin)
    cache.clear()


def test_reading_makes_no_session_and_counts_every_cookieless_read(faq: Any) -> None:
    url = reverse("help:faq_article", args=[faq.pk])
    for _ in range(3):
        response = Client().get(url)
        assert response.status_code == 200
        assert settings.SESSION_COOKIE_NAME not in response.cookies
    reader = Client()
    for _ in range(2):
        assert settings.SESSION_COOKIE_NAME not in reader.get(url).cookies
    assert not Session.objects.exists()
    faq.refresh_from_db()
    assert faq.view_count == 5


def test_voting_makes_the_session_keyed_on_it_alone(faq: Any) -> None:
    client = Client()
    vote = reverse("help:faq_vote", args=[faq.pk])
    response = client.post(vote, {"helpful": "yes"}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert Session.objects.filter(session_key=session_key).exists()
    raw = f"{settings.SECRET_KEY}:faq-voter:{session_key}"
    assert ArticleVote.objects.get().voter_key == "v:" + hashlib.sha256(raw.encode()).hexdigest()[:60]
    # The same visitor from another address changes their answer, never adds one.
    client.post(vote, {"helpful": "no"}, REMOTE_ADDR="198.51.100.9")
    assert ArticleVote.objects.count() == 1
    faq.refresh_from_db()
    assert (faq.helpful_count, faq.not_helpful_count) == (0, 1)
    # With a session, the visitor's views count once and their answer shows.
    before = faq.view_count
    page = client.get(reverse("help:faq_article", args=[faq.pk]))
    client.get(reverse("help:faq_article", args=[faq.pk]))
    assert page.context["voted"] == "no"
    faq.refresh_from_db()
    assert faq.view_count == before + 1
    assert Session.objects.count() == 1
