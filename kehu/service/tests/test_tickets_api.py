"""/api/v1/service/tickets/: CRUD through the services with field errors, the list's filters and
keyset pagination, the actions, messages (internal notes only for those who may change) and
attachments; out of scope → 404, read-only → 403."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kehu.customers.tests.factories import AccountFactory
from kehu.service.choices import MessageKind, TicketState
from kehu.service.models import Ticket, TicketMessage, TicketWatcher
from kehu.service.services import tickets as services
from kehu.service.tests.factories import TicketFactory, status

pytestmark = pytest.mark.django_db
URL = "/api/v1/service/tickets/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_create_through_the_service_and_field_errors(tickets_granted: Any) -> None:
    c = tickets_granted
    api = _api(c.rep1)
    response = api.post(
        URL, {"subject": "打印机坏了", "description": "<p>x<script>1</script></p>"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("TK-") and body["assignee"] == c.rep1.pk
    assert "<script>" not in body["description"]
    before = Ticket.objects.count()
    response = api.post(URL, {"subject": "x", "priority": 9, "channel": "fax"}, format="json")
    assert response.status_code == 400
    assert {"priority", "channel"} <= set(response.json()["fields"])
    response = api.post(URL, {"description": "no subject"}, format="json")
    assert response.status_code == 400 and "subject" in response.json()["fields"]
    # an account the rep may not see
    other: Any = AccountFactory(owner=c.rep3)
    response = api.post(URL, {"subject": "x", "account": other.pk}, format="json")
    assert response.status_code == 400 and "account" in response.json()["fields"]
    assert Ticket.objects.count() == before
    # nobody may not create
    assert _api(c.nobody).post(URL, {"subject": "x"}, format="json").status_code == 403


def test_update_version_and_scope(tickets_granted: Any) -> None:
    c = tickets_granted
    mine: Any = TicketFactory(assignee=c.rep1, subject="old")
    theirs: Any = TicketFactory(assignee=c.rep3)
    api = _api(c.rep1)
    response = api.patch(f"{URL}{mine.pk}/", {"subject": "new", "version": mine.version}, format="json")
    assert response.status_code == 200 and response.json()["subject"] == "new"
    response = api.patch(f"{URL}{mine.pk}/", {"subject": "again", "version": 1}, format="json")
    assert response.status_code == 409
    assert api.get(f"{URL}{theirs.pk}/").status_code == 404
    assert api.patch(f"{URL}{theirs.pk}/", {"subject": "x"}, format="json").status_code == 404
    assert api.delete(f"{URL}{mine.pk}/").status_code == 405
    # the account owner reads but may not change
    acc = AccountFactory(owner=c.rep2)
    read_only: Any = TicketFactory(assignee=c.rep3, account=acc)
    api2 = _api(c.rep2)
    assert api2.get(f"{URL}{read_only.pk}/").status_code == 200
    assert api2.patch(f"{URL}{read_only.pk}/", {"subject": "x"}, format="json").status_code == 403
    assert api2.post(f"{URL}{read_only.pk}/resolve/", {}, format="json").status_code == 403


def test_list_filters_and_keyset_pagination(tickets_granted: Any) -> None:
    c = tickets_granted
    for i in range(5):
        TicketFactory(assignee=c.rep1, subject=f"mine {i}")
    TicketFactory(assignee=c.rep1, status=status("resolved"), subject="done")
    TicketFactory(subject="nobody's")
    api = _api(c.viewer_all)
    response = api.get(URL, {"page_size": 2})
    body = response.json()
    assert response.status_code == 200 and len(body["results"]) == 2 and body["next"]
    seen = [r["id"] for r in body["results"]]
    nxt = api.get(body["next"]).json()
    assert not set(seen) & {r["id"] for r in nxt["results"]}
    response = api.get(URL, {"assignee": "unassigned"})
    assert [r["subject"] for r in response.json()["results"]] == ["nobody's"]
    response = _api(c.rep1).get(URL, {"assignee": "me", "open": "true", "page_size": "50"})
    assert {r["subject"] for r in response.json()["results"]} == {f"mine {i}" for i in range(5)}
    response = api.get(URL, {"state": "resolved"})
    assert [r["subject"] for r in response.json()["results"]] == ["done"]
    assert api.get(URL, {"created_after": "nonsense"}).status_code == 400


def test_actions_assign_move_reply_note_resolve_reopen_watch(tickets_granted: Any) -> None:
    c = tickets_granted
    ticket: Any = TicketFactory(assignee=c.rep1, requester_email="kehu@example.com")
    manager = _api(c.manager1)
    response = manager.post(f"{URL}{ticket.pk}/assign/", {"assignee": c.rep2.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["assignee"] == c.rep2.pk
    rep2 = _api(c.rep2)
    response = rep2.post(f"{URL}{ticket.pk}/move/", {"status": status("in_progress").pk}, format="json")
    assert response.status_code == 200 and response.json()["state"] == TicketState.IN_PROGRESS
    response = rep2.post(f"{URL}{ticket.pk}/move/", {"status": status("new").pk}, format="json")
    assert response.status_code == 400 and response.json()["message"]
    response = rep2.post(f"{URL}{ticket.pk}/reply/", {"body": "<p>您好</p>"}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == MessageKind.REPLY
    assert rep2.post(f"{URL}{ticket.pk}/reply/", {"body": "  "}, format="json").status_code == 400
    response = rep2.post(f"{URL}{ticket.pk}/note/", {"body": "内部备注"}, format="json")
    assert response.status_code == 201 and response.json()["kind"] == MessageKind.NOTE
    response = rep2.post(f"{URL}{ticket.pk}/resolve/", {}, format="json")
    assert response.status_code == 200 and response.json()["state"] == TicketState.RESOLVED
    response = rep2.post(f"{URL}{ticket.pk}/reopen/", {}, format="json")
    assert response.status_code == 200 and response.json()["reopened_count"] == 1
    assert rep2.post(f"{URL}{ticket.pk}/watch/", {}, format="json").status_code == 204
    assert TicketWatcher.objects.filter(ticket=ticket, user=c.rep2).exists()
    assert rep2.post(f"{URL}{ticket.pk}/unwatch/", {}, format="json").status_code == 204
    assert not TicketWatcher.objects.filter(ticket=ticket, user=c.rep2).exists()
    # out of scope
    assert _api(c.rep3).post(f"{URL}{ticket.pk}/resolve/", {}, format="json").status_code == 404


def test_messages_hide_internal_notes_from_readers(tickets_granted: Any) -> None:
    c = tickets_granted
    acc = AccountFactory(owner=c.rep2)
    ticket = services.ticket_create(
        by=None, data={"subject": "客户来信", "description": "<p>你好</p>", "account": acc}
    )
    Ticket.objects.filter(pk=ticket.pk).update(assignee=c.rep1, department=c.rep1.department)
    services.ticket_add_note(ticket=ticket, by=None, body="仅内部")
    kinds = {m["kind"] for m in _api(c.rep1).get(f"{URL}{ticket.pk}/messages/").json()}
    assert kinds == {MessageKind.CUSTOMER, MessageKind.NOTE}
    kinds = {m["kind"] for m in _api(c.rep2).get(f"{URL}{ticket.pk}/messages/").json()}
    assert kinds == {MessageKind.CUSTOMER}
    assert _api(c.rep3).get(f"{URL}{ticket.pk}/messages/").status_code == 404


def test_merge_split_and_escalate(tickets_granted: Any) -> None:
    c = tickets_granted
    api = _api(c.rep1)
    first = services.ticket_create(by=c.rep1, data={"subject": "一", "description": "<p>a</p>"})
    second = services.ticket_create(by=c.rep1, data={"subject": "二", "description": "<p>b</p>"})
    other: Any = TicketFactory(assignee=c.rep3)
    response = api.post(f"{URL}{second.pk}/merge/", {"target": other.pk}, format="json")
    assert response.status_code == 400 and "target" in response.json()["fields"]
    response = api.post(f"{URL}{second.pk}/merge/", {"target": first.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == first.pk
    second.refresh_from_db()
    assert second.merged_into_id == first.pk
    message = TicketMessage.objects.filter(ticket=first).exclude(kind=MessageKind.SYSTEM).first()
    assert message is not None
    response = api.post(f"{URL}{first.pk}/split/", {"messages": [message.pk], "subject": "拆"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["subject"] == "拆"
    assert api.post(f"{URL}{first.pk}/split/", {"messages": [999999]}, format="json").status_code == 400
    manager = _api(c.manager1)
    response = manager.post(f"{URL}{first.pk}/escalate/", {"note": ""}, format="json")
    assert response.status_code == 400
    response = manager.post(f"{URL}{first.pk}/escalate/", {"note": "客户很着急"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["escalation_level"] == 1


def test_attachments_upload_list_download(tickets_granted: Any, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    c = tickets_granted
    ticket: Any = TicketFactory(assignee=c.rep1)
    api = _api(c.rep1)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("截图.png", PNG, content_type="image/png")
    response = api.post(f"{URL}{ticket.pk}/attachments/", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    item = response.json()
    listed = api.get(f"{URL}{ticket.pk}/attachments/").json()
    assert [a["id"] for a in listed] == [item["id"]]
    response = api.get(item["download_url"])
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG  # type: ignore[attr-defined]
    bad = SimpleUploadedFile("evil.exe", b"MZ\x90\x00", content_type="application/octet-stream")
    response = api.post(f"{URL}{ticket.pk}/attachments/", {"file": bad}, format="multipart")
    assert response.status_code == 400 and "attachments" in response.json()["fields"]
    assert _api(c.rep3).get(item["download_url"]).status_code == 404


def test_attachment_download_of_a_missing_file_is_404(
    tickets_granted: Any, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    c = tickets_granted
    ticket: Any = TicketFactory(assignee=c.rep1)
    api = _api(c.rep1)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("截图.png", PNG, content_type="image/png")
    item = api.post(f"{URL}{ticket.pk}/attachments/", {"file": upload}, format="multipart").json()
    response = api.get(item["download_url"])
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    b"".join(response.streaming_content)  # type: ignore[attr-defined]
    stored = ticket.attachments.get(pk=item["id"])
    stored.file.storage.delete(stored.file.name)
    assert api.get(item["download_url"]).status_code == 404


def test_system_lines_read_as_text_in_the_requests_language(tickets_granted: Any) -> None:
    c = tickets_granted
    ticket = services.ticket_create(by=c.rep1, data={"subject": "一", "description": "<p>a</p>"})
    TicketMessage.objects.create(
        ticket=ticket,
        kind=MessageKind.SYSTEM,
        body="",
        body_text="sla_breach:resolution:2",
        created_at=timezone.now(),
    )
    api = _api(c.rep1)
    texts = [m["body_text"] for m in api.get(f"{URL}{ticket.pk}/messages/", HTTP_ACCEPT_LANGUAGE="en").json()]
    assert any(t.startswith("SLA breached: ") and t.endswith("escalated to level 2.") for t in texts), texts
    assert not any(t.startswith("sla_breach:") for t in texts)
