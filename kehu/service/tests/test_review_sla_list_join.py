"""The SLA policy list joins a condition's values with the reader's list separator."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from .factories_sla import policy

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("lang", "joined"), [("en", "High, Urgent"), ("zh-hans", "高、紧急")])
def test_conditions_are_joined_in_the_readers_language(
    company: Any, client: Client, lang: str, joined: str
) -> None:
    policy(name="紧急", conditions={"priorities": [3, 4]})
    client.force_login(company.admin)
    client.cookies["django_language"] = lang
    page = client.get(reverse("service:sla_policy_list")).content.decode()
    assert joined in page
