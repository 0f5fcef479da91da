"""Timeline renderers (`kehu.audit.events.register_renderer`): an app writes an event's text from its
data in the reader's language when the timeline is built; without a renderer, when it gives
nothing or when it fails, the stored body shows; the timeline reads no more queries with them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext

from kehu.audit import events, registry, timeline
from kehu.audit.services import timeline_record
from kehu.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(dt.datetime(2026, 3, 1, 9, 0))
CODE = "test.rendered"


@pytest.fixture
def account(company: Any) -> Any:
    with registry.paused():
        return AccountFactory.create(owner=company.rep1)


def _event(account: Any, minutes: int, data: dict[str, Any], code: str = CODE) -> None:
    timeline_record(
        event=code,
        obj=account,
        by=None,
        data=data,
        account_id=account.pk,
        occurred_at=T0 + dt.timedelta(minutes=minutes),
    )


def _bodies(company: Any, account: Any) -> dict[int, str]:
    page = timeline.account_timeline(user=company.admin, account_id=account.pk, types={"events"})
    return {e.data.get("n", 0): e.body for e in page.entries if e.code == CODE}


def _in_reader_language(entry: Any) -> str | None:
    if entry.data.get("n") == 2:
        return None  # nothing to say: the stored body shows
    if entry.data.get("n") == 3:
        raise ValueError("broken data")
    # "Field changes" is one of audit's own translated strings (变更 in zh-Hans).
    return f"{gettext('Field changes')} ×{entry.data['n']}"


def test_a_registered_renderer_writes_the_text_in_each_readers_language(
    company: Any, account: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(events._renderers, CODE, _in_reader_language)
    with translation.override("zh-hans"):  # written while the writer reads Chinese
        _event(account, 1, {"n": 1, "body": "stored"})
    _event(account, 2, {"n": 2, "body": "stored two"})
    _event(account, 3, {"n": 3, "body": "stored three"})
    with translation.override("en"):
        english = _bodies(company, account)
        expected_en = f"{gettext('Field changes')} ×1"
    with translation.override("zh-hans"):
        chinese = _bodies(company, account)
        expected_zh = f"{gettext('Field changes')} ×1"
    assert expected_en == "Field changes ×1"
    assert expected_zh != expected_en
    assert english == {1: expected_en, 2: "stored two", 3: "stored three"}
    assert chinese == {1: expected_zh, 2: "stored two", 3: "stored three"}


def test_without_a_renderer_the_stored_body_shows(company: Any, account: Any) -> None:
    _event(account, 1, {"n": 1, "body": "as stored"})
    assert _bodies(company, account) == {1: "as stored"}


def test_the_html_timeline_shows_the_rendered_text(
    company: Any, account: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(events._renderers, CODE, _in_reader_language)
    _event(account, 1, {"n": 1, "body": "stored"})
    client.force_login(company.admin)
    url = f"/audit/timeline/customers.account/{account.pk}/"
    html = client.get(url, headers={"accept-language": "en"}).content.decode()
    assert "Field changes ×1" in html
    assert "stored" not in html.split("kehu-timeline-body", 1)[1].split("</div>", 1)[0]


def test_renderers_add_no_queries(company: Any, account: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(1, 6):
        _event(account, n, {"n": n, "body": f"stored {n}"})

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            timeline.account_timeline(user=company.admin, account_id=account.pk)
        return len(ctx.captured_queries)

    count()  # warms the per-process caches (content types, permissions)
    plain = count()
    monkeypatch.setitem(events._renderers, CODE, _in_reader_language)
    assert count() == plain
