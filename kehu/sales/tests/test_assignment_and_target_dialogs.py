"""The availability and target dialogs in both languages: saved dates show in the date inputs
(type=date reads only ISO dates, whatever the language's date format), the department column and
field say 部门 (not the data scope's 本部门), and a target's pencil opens with its current amount."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import translation

from kehu.core.choices import Action, Scope
from kehu.users.tests.factories import grant

from ..services.assignment import user_availability_set
from ..services.targets import target_set

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture(autouse=True)
def _keep_the_language() -> Any:
    """A request with the zh-hans cookie leaves Chinese active in this thread: restore it."""
    language = translation.get_language()
    yield
    translation.activate(language)


@pytest.fixture
def org(company: Any) -> Any:
    grant(company.role_manager, "sales.lead", Action.VIEW, Action.ASSIGN, scope=Scope.DEPARTMENT)
    grant(
        company.role_manager,
        "sales.target",
        Action.VIEW,
        Action.ADD,
        Action.CHANGE,
        scope=Scope.DEPARTMENT,
    )
    return company


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_availability_dialog_shows_the_saved_dates(client: Any, org: Any, lang: str) -> None:
    user_availability_set(
        user=org.rep2,
        by=org.manager1,
        is_available=True,
        away_from=dt.date(2026, 12, 1),
        away_until=dt.date(2026, 12, 8),
        note="年假",
    )
    client.force_login(org.manager1)
    client.cookies["django_language"] = lang
    with translation.override(lang):
        html = client.get(
            reverse("sales:availability_edit", args=[org.rep2.pk]), headers=HTMX
        ).content.decode()
        page = client.get(reverse("sales:availability")).content.decode()
    assert 'value="2026-12-01"' in html and 'value="2026-12-08"' in html
    if lang == "zh-hans":
        assert "<th>部门</th>" in page and "本部门" not in page


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_target_dialog_prefills_period_start_and_the_current_amount(client: Any, org: Any, lang: str) -> None:
    target_set(
        by=org.manager1,
        user=org.rep1,
        department=None,
        period_kind="month",
        period_start=dt.date(2026, 3, 1),
        amount=Decimal("8000"),
        currency="CNY",
    )
    client.force_login(org.manager1)
    client.cookies["django_language"] = lang
    url = reverse("sales:target_set")
    new = client.get(url, {"kind": "month", "start": "2026-03-01"}, headers=HTMX).content.decode()
    assert 'value="2026-03-01"' in new and 'name="amount" value=' not in new.replace("\n", " ")
    edit = client.get(
        url, {"kind": "month", "start": "2026-03-01", "user": org.rep1.pk}, headers=HTMX
    ).content.decode()
    assert 'value="8000.00"' in edit and 'value="2026-03-01"' in edit
    if lang == "zh-hans":
        assert "部门" in edit and "本部门" not in edit
