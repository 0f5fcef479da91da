"""Bad input never gives a 500: out-of-range numbers, malformed filters, NUL characters."""

from __future__ import annotations

import pytest

from .factories import AccountFactory

pytestmark = pytest.mark.django_db

BIG = "99999999999999999999999"


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/api/v1/customers/accounts/?owner={BIG}", 400),
        ("/api/v1/customers/accounts/?created_after=yesterday", 400),
        (f"/api/v1/customers/accounts/{BIG}/", 404),
        ("/api/v1/customers/accounts/?cursor=garbage", 404),
        ("/customers/accounts/?page=999999999999999999999", 200),
        ("/customers/accounts/?per_page=1e9", 200),
        ("/customers/accounts/?q=a%00b", 200),
        ("/customers/contacts/?q=%00", 200),
        ("/customers/accounts/autocomplete/?q=%00", 200),
        ("/search/?q=%00%00", 200),
    ],
)
def test_bad_query_strings(sales, client, url, status) -> None:
    AccountFactory.create(owner=sales.rep1)
    client.force_login(sales.rep1)
    assert client.get(url).status_code == status


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "owner": int(BIG)},
        {"name": "x", "custom": []},
        {"name": "x", "phone": 12345},
        {"name": "x", "email": ["a@b.cn"]},
        {"name": ["x"]},
        {"name": "x", "kind": "alien"},
        {"name": "x", "website": "javascript:alert(1)"},
    ],
)
def test_bad_bodies_are_400(sales, client, body) -> None:
    client.force_login(sales.rep1)
    response = client.post("/api/v1/customers/accounts/", body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()) == {"code", "message", "fields"}


def test_html_in_text_is_escaped(sales, client) -> None:
    account = AccountFactory.create(owner=sales.rep1, name="<script>alert(1)</script>", notes="<b>x</b>")
    client.force_login(sales.rep1)
    for url in ("/customers/accounts/", account.get_absolute_url(), "/search/?q=script"):
        body = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
