"""The account / contact 360° timeline (kehu.audit.timeline): merge of timeline events and field
changes, ordering, the composite keyset cursor, type filters, field permissions, the HTML partial
and the API."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from django.apps import apps
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.audit import events, registry, timeline
from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.audit.services import new_object_change, timeline_record
from kehu.core.choices import Action, Scope
from kehu.core.testing import Endpoint, PermissionMatrix
from kehu.users.tests.factories import grant

from ..models import Account, AccountPhone
from .factories import AccountFactory, ContactFactory

pytestmark = pytest.mark.django_db

T0 = timezone.make_aware(dt.datetime(2026, 3, 1, 9, 0))
ACCOUNT = "customers.account"


def _quiet_account(owner: Any, **kwargs: Any) -> Account:
    """An account created without operation-log rows (the test writes its own)."""
    with registry.paused():
        return AccountFactory.create(owner=owner, **kwargs)


def _event(
    account: Account, code: str, minutes: int, data: dict[str, Any] | None = None, **kw: Any
) -> TimelineEvent:
    return timeline_record(
        event=code,
        obj=account,
        by=None,
        data=data,
        account_id=account.pk,
        occurred_at=T0 + dt.timedelta(minutes=minutes),
        **kw,
    )


def _change(
    obj: Any, minutes: int, changes: dict[str, Any], action: str = "update", parent: Any = None
) -> ObjectChange:
    change = new_object_change(
        model_label=obj._meta.label_lower,
        object_id=obj.pk,
        object_repr=str(obj),
        action=action,
        changes=changes,
        parent=parent,
        time=T0 + dt.timedelta(minutes=minutes),
    )
    change.save()
    return change


def _keys(page: timeline.TimelinePage) -> list[tuple[str, int]]:
    return [(e.source, e.id) for e in page.entries]


def _all_pages(
    user: Any, account: Account, limit: int, types: set[str] | None = None
) -> list[tuple[str, int]]:
    seen: list[tuple[str, int]] = []
    cursor = None
    for _ in range(1000):
        page = timeline.account_timeline(
            user=user, account_id=account.pk, types=types, before=cursor, limit=limit
        )
        seen += _keys(page)
        if not page.has_more:
            return seen
        cursor = timeline.Cursor.decode(page.next_cursor.encode())  # type: ignore[union-attr]
    raise AssertionError("the cursor never ended")


def test_events_and_changes_merge_newest_first(company: Any) -> None:
    account = _quiet_account(company.admin)
    e1 = _event(account, "interaction.zz_test", 1, {"title": "首次拜访"})
    c2 = _change(account, 2, {"name": ["旧名", "新名"]})
    e3a = _event(account, "task.done", 3)
    e3b = _event(account, "account.lifecycle_changed", 3)
    c3 = _change(account, 3, {"short_name": ["", "短"]})
    other = _quiet_account(company.admin)
    _event(other, "interaction.logged", 5)  # another account's: not on this timeline
    page = timeline.account_timeline(user=company.admin, account_id=account.pk)
    # Same instant: events before changes, then the higher id first.
    assert _keys(page) == [
        ("event", e3b.pk),
        ("event", e3a.pk),
        ("change", c3.pk),
        ("change", c2.pk),
        ("event", e1.pk),
    ]
    assert not page.has_more
    first = page.entries[-1]
    assert (first.kind, first.title, first.subject) == ("interactions", "interaction.zz_test", "首次拜访")
    rename = page.entries[3]
    assert rename.kind == "changes"
    assert [(f.label, f.before, f.after) for f in rename.fields] == [("Name", "旧名", "新名")]


def test_cursor_pages_through_everything_once_even_with_equal_times(company: Any) -> None:
    account = _quiet_account(company.admin)
    rng = random.Random(4)
    for _ in range(40):
        minute = rng.randint(0, 6)  # many entries share an instant
        if rng.random() < 0.5:
            _event(account, rng.choice(["interaction.logged", "task.created", "deal.won"]), minute)
        else:
            _change(account, minute, {"short_name": ["a", "b"]})
    everything = _keys(timeline.account_timeline(user=company.admin, account_id=account.pk, limit=200))
    assert len(everything) == 40
    for limit in (1, 3, 7, 40):
        assert _all_pages(company.admin, account, limit) == everything


def test_type_filters(company: Any) -> None:
    account = _quiet_account(company.admin)
    i = _event(account, "interaction.logged", 1)
    t = _event(account, "task.completed", 2)
    e = _event(account, "account.lifecycle_changed", 3)
    c = _change(account, 4, {"short_name": ["", "x"]})
    events.register_event("test.grouped_task", "Grouped", group="tasks")
    g = _event(account, "test.grouped_task", 5)

    def only(*types: str) -> list[tuple[str, int]]:
        return _keys(timeline.account_timeline(user=company.admin, account_id=account.pk, types=set(types)))

    assert only("interactions") == [("event", i.pk)]
    assert only("tasks") == [("event", g.pk), ("event", t.pk)]
    assert only("events") == [("event", e.pk)]
    assert only("changes") == [("change", c.pk)]
    assert only("interactions", "changes") == [("change", c.pk), ("event", i.pk)]
    assert len(only("interactions", "tasks", "events", "changes")) == 5
    assert only("nonsense") == []
    assert _all_pages(company.admin, account, 1, {"tasks", "events"}) == only("tasks", "events")


def test_a_contacts_changes_show_only_when_the_viewer_may_see_the_contact(company: Any) -> None:
    grant(company.role_rep, "customers.account", Action.VIEW, scope=Scope.ALL)
    grant(company.role_rep, "customers.contact", Action.VIEW, scope=Scope.OWN)
    account = AccountFactory.create(owner=company.rep1)
    mine = ContactFactory.create(owner=company.rep1, account=account, name="我的联系人")
    theirs = ContactFactory.create(owner=company.rep2, account=account, name="别人的联系人")
    page = timeline.account_timeline(user=company.rep1, account_id=account.pk, types={"changes"})
    subjects = {e.subject for e in page.entries}
    assert "我的联系人" in subjects and "别人的联系人" not in subjects
    mine_entry = next(e for e in page.entries if e.subject == "我的联系人")
    assert mine_entry.url == mine.get_absolute_url()
    everyone = timeline.account_timeline(user=company.admin, account_id=account.pk, types={"changes"})
    assert {e.object_id for e in everyone.entries} >= {mine.pk, theirs.pk, account.pk}


def test_field_permissions_apply_to_changes_and_event_data(company: Any) -> None:
    FieldPermission = apps.get_model("users", "FieldPermission")
    grant(company.role_rep, "customers.account", Action.VIEW, scope=Scope.ALL)
    FieldPermission.objects.create(role=company.role_rep, model=ACCOUNT, field="phone", mode="masked")
    FieldPermission.objects.create(role=company.role_rep, model=ACCOUNT, field="notes", mode="hidden")
    account = _quiet_account(company.admin)
    _change(account, 1, {"phone": ["+8613812345678", "+8613912345678"]})
    _change(account, 2, {"notes": ["secret old", "secret new"]})  # only a hidden field: left out
    _change(account, 3, {"notes": ["x", "y"], "name": ["A", "B"]})
    _event(
        account,
        "account.called",
        4,
        {
            "phone": "+8613812345678",
            "notes": "secret",
            "changes": {"phone": ["+8613812345678", ""], "notes": ["a", "b"]},
        },
    )
    _event(account, "account.noted", 5, {"field": "notes", "old": "old secret", "new": "new secret"})
    with registry.paused():
        phone_row = AccountPhone.objects.create(account=account, number="+8613812345678")
    _change(phone_row, 6, {"number": [None, "+8613812345678"]}, action="create", parent=account)

    page = timeline.account_timeline(user=company.rep1, account_id=account.pk)
    text = repr([(e.title, e.subject, e.body, e.fields, e.data) for e in page.entries])
    assert "13812345678" not in text and "13912345678" not in text
    assert "secret" not in text
    by_code = {e.code: e for e in page.entries if e.source == "event"}
    assert by_code["account.called"].data == {
        "phone": "+86 138****5678",
        "changes": {"phone": ["+86 138****5678", ""]},
    }
    assert by_code["account.noted"].fields == [] and "notes" not in str(by_code["account.noted"].data)
    changes = [e for e in page.entries if e.source == "change"]
    assert [[f.name for f in e.fields] for e in changes] == [["number"], ["name"], ["phone"]]
    assert changes[0].subject == "+86 138****5678" and changes[0].fields[0].masked
    assert (changes[2].fields[0].before, changes[2].fields[0].after) == ("+86 138****5678", "+86 139****5678")
    # The administrator sees the values.
    admin_text = repr(
        [
            (e.subject, e.fields, e.data)
            for e in timeline.account_timeline(user=company.admin, account_id=account.pk).entries
        ]
    )
    assert "+8613812345678" in admin_text and "secret" in admin_text


def test_timeline_is_empty_outside_scope_and_for_contacts_filters_to_the_contact(company: Any) -> None:
    grant(company.role_rep, "customers.account", Action.VIEW, scope=Scope.OWN)
    grant(company.role_rep, "customers.contact", Action.VIEW, scope=Scope.OWN)
    account = _quiet_account(company.rep2)
    _event(account, "interaction.logged", 1)
    assert timeline.account_timeline(user=company.rep1, account_id=account.pk).entries == []
    mine = _quiet_account(company.rep1)
    with registry.paused():
        contact = ContactFactory.create(owner=company.rep1, account=mine)
        other = ContactFactory.create(owner=company.rep1, account=mine)
    on_contact = _event(mine, "interaction.logged", 2, contact_id=contact.pk)
    _event(mine, "interaction.logged", 3, contact_id=other.pk)
    _change(contact, 4, {"title": ["", "经理"]}, parent=mine)
    page = timeline.contact_timeline(user=company.rep1, contact_id=contact.pk)
    assert [(e.source, e.code) for e in page.entries] == [
        ("change", "update"),
        ("event", "interaction.logged"),
    ]
    assert page.entries[1].id == on_contact.pk
    assert len(timeline.account_timeline(user=company.rep1, account_id=mine.pk).entries) == 3


def test_cursor_round_trip_and_garbage() -> None:
    cursor = timeline.Cursor(T0, "event", 12)
    assert timeline.Cursor.decode(cursor.encode()) == cursor
    for bad in ("", "x", "!!!", "a" * 300, timeline.Cursor(T0, "event", 1).encode()[:-3]):
        with pytest.raises(timeline.CursorError):
            timeline.Cursor.decode(bad)
    assert timeline.parse_cursor(None) is None


# --- HTML and API -----------------------------------------------------------------------------


def _api(user: Any = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_timeline_partial_and_load_more(company: Any, client: Any) -> None:
    account = _quiet_account(company.admin)
    for minute in range(35):
        _event(account, "interaction.logged", minute, {"title": f"第{minute}次", "body": "<b>粗</b>"})
    client.force_login(company.admin)
    url = f"/audit/timeline/customers.account/{account.pk}/"
    first = client.get(url)
    assert first.status_code == 200
    html = first.content.decode()
    assert html.count('class="timeline-event kehu-timeline-entry"') == 30
    assert "&lt;b&gt;粗&lt;/b&gt;" in html and "<b>粗</b>" not in html
    assert 'data-action="timeline-more"' in html
    cursor = html.split("?before=")[1].split('"')[0]
    more = client.get(f"{url}?before={cursor}")
    assert more.content.decode().count("kehu-timeline-entry") == 5
    assert 'data-action="timeline-more"' not in more.content.decode()
    filtered = client.get(f"{url}?types=changes").content.decode()
    assert "kehu-timeline-entry" not in filtered and 'aria-pressed="true"' in filtered
    assert client.get(f"{url}?before=garbage").status_code == 200  # a broken cursor: the first page
    assert client.get(f"/audit/timeline/users.user/{company.admin.pk}/").status_code == 404
    assert client.get(f"/audit/timeline/customers.account/{account.pk + 1000}/").status_code == 404


def test_timeline_api(company: Any) -> None:
    account = _quiet_account(company.admin)
    for minute in range(5):
        _event(account, "interaction.logged", minute)
    _change(account, 9, {"name": ["a", "b"]})
    url = f"/api/v1/customers/accounts/{account.pk}/timeline/"
    body = _api(company.admin).get(url, {"limit": 4}).json()
    assert [r["source"] for r in body["results"]] == ["change", "event", "event", "event"]
    assert body["results"][0]["fields"] == [
        {"name": "name", "label": "Name", "before": "a", "after": "b", "masked": False}
    ]
    rest = _api(company.admin).get(url, {"limit": 4, "before": body["next_cursor"]}).json()
    assert len(rest["results"]) == 2 and rest["next_cursor"] is None
    only = _api(company.admin).get(url, {"types": "changes"}).json()
    assert [r["kind"] for r in only["results"]] == ["changes"]
    for params, field in (
        ({"types": "nope"}, "types"),
        ({"before": "zzz"}, "before"),
        ({"limit": "0"}, "limit"),
        ({"limit": "x"}, "limit"),
    ):
        bad = _api(company.admin).get(url, params)
        assert bad.status_code == 400 and field in bad.json()["fields"]
    assert (
        _api(company.admin).get("/api/v1/customers/accounts/999999999999999999/timeline/").status_code == 404
    )
    assert _api().get(url).status_code in (401, 403)


def test_timeline_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="customers.account",
        make=lambda owner: AccountFactory.create(owner=owner),
        endpoints=[
            Endpoint(
                "html timeline tab", "get", lambda o: f"/customers/accounts/{o.pk}/?tab=timeline", Action.VIEW
            ),
            Endpoint(
                "html timeline partial",
                "get",
                lambda o: f"/audit/timeline/customers.account/{o.pk}/",
                Action.VIEW,
            ),
            Endpoint(
                "html related tab", "get", lambda o: f"/customers/accounts/{o.pk}/?tab=related", Action.VIEW
            ),
            Endpoint(
                "html contacts tab", "get", lambda o: f"/customers/accounts/{o.pk}/?tab=contacts", Action.VIEW
            ),
            Endpoint(
                "api timeline",
                "get",
                lambda o: f"/api/v1/customers/accounts/{o.pk}/timeline/",
                Action.VIEW,
                api=True,
            ),
        ],
        actions=(Action.VIEW,),
        grant=grant,
    ).run(company, client)


def test_contact_timeline_permission_matrix(company: Any, client: Any) -> None:
    PermissionMatrix(
        model="customers.contact",
        make=lambda owner: ContactFactory.create(owner=owner),
        endpoints=[
            Endpoint(
                "html contact timeline",
                "get",
                lambda o: f"/audit/timeline/customers.contact/{o.pk}/",
                Action.VIEW,
            ),
            Endpoint(
                "html accounts tab", "get", lambda o: f"/customers/contacts/{o.pk}/?tab=accounts", Action.VIEW
            ),
            Endpoint(
                "api contact timeline",
                "get",
                lambda o: f"/api/v1/customers/contacts/{o.pk}/timeline/",
                Action.VIEW,
                api=True,
            ),
        ],
        actions=(Action.VIEW,),
        grant=grant,
    ).run(company, client)
