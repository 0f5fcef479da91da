"""Settings → ticket statuses, types, categories and support mailboxes: pages in both languages,
permissions (anonymous, no permission, view only, change), modal edits, refusals that change
nothing, and a mailbox password that is never rendered back."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from kehu.core.choices import Action
from kehu.customfields.tests.factories import CustomFieldFactory
from kehu.service.models import Mailbox, TicketCategory, TicketStatus, TicketType
from kehu.users.tests.factories import grant

from .factories import status, ticket_type
from .factories_queues import make_mailbox, make_ticket

pytestmark = pytest.mark.django_db
HTMX: dict[str, Any] = {"HTTP_HX_REQUEST": "true"}
LISTS = ("ticketstatus_list", "tickettype_list", "ticketcategory_list", "mailbox_list")


@pytest.fixture
def admin(client: Client, company: Any) -> Client:
    client.force_login(company.admin)
    return client


@pytest.mark.parametrize(
    ("lang", "texts"),
    [("en", ["Waiting on customer", "Service request"]), ("zh-hans", ["等待客户", "服务请求"])],
)
def test_pages_render_in_both_languages(admin: Client, company: Any, lang: str, texts: list[str]) -> None:
    mailbox = make_mailbox(last_error="LOGIN failed")
    admin.cookies["django_language"] = lang
    urls = [reverse(f"service:{name}") for name in LISTS]
    urls += [reverse(f"service:{name.replace('_list', '_add')}") for name in LISTS]
    urls += [
        reverse("service:ticketstatus_edit", args=[status("waiting").pk]),
        reverse("service:tickettype_edit", args=[ticket_type("return").pk]),
        reverse("service:ticketcategory_edit", args=[TicketCategory.objects.first().pk]),  # type: ignore[union-attr]
        reverse("service:mailbox_edit", args=[mailbox.pk]),
        reverse("service:ticketstatus_delete", args=[status("waiting").pk]),
    ]
    content = ""
    for url in urls:
        response = admin.get(url)
        assert response.status_code == 200, url
        content += response.content.decode()
    for text in texts:
        assert text in content
    assert "LOGIN failed" in content


def test_anonymous_no_permission_and_view_only(client: Client, company: Any) -> None:
    for name in LISTS:
        response = client.get(reverse(f"service:{name}"))
        assert response.status_code == 302 and "login" in response["Location"]
    client.force_login(company.nobody)
    for name in LISTS:
        assert client.get(reverse(f"service:{name}")).status_code == 403
    new = status("new")
    response = client.post(reverse("service:ticketstatus_edit", args=[new.pk]), {"name": "X"})
    assert response.status_code == 403
    assert (
        client.post(reverse("service:tickettype_delete", args=[ticket_type("inquiry").pk])).status_code == 403
    )
    # View is not enough for the settings pages (as the menu: they need "change").
    grant(company.role_rep, "service.ticketstatus", Action.VIEW)
    client.force_login(company.rep1)
    assert client.get(reverse("service:ticketstatus_list")).status_code == 403
    grant(company.role_rep, "service.ticketstatus", Action.CHANGE)
    page = client.get(reverse("service:ticketstatus_list")).content.decode()
    assert (
        'data-action="edit"' in page
        and 'data-action="delete"' not in page
        and 'data-action="add"' not in page
    )
    assert client.post(reverse("service:ticketstatus_delete", args=[status("closed").pk])).status_code == 403
    assert TicketStatus.objects.count() == 6 and TicketType.objects.count() == 6
    new.refresh_from_db()
    assert new.name == "新建"


def test_status_edit_switches_the_initial_status(admin: Client) -> None:
    triage = {
        "name": "分诊",
        "name_en": "Triage",
        "code": "triage",
        "state": "new",
        "colour": "purple",
        "position": 5,
        "is_initial": "on",
        "is_active": "on",
        "next_statuses": [status("assigned").pk],
    }
    response = admin.post(reverse("service:ticketstatus_add"), triage, **HTMX)
    assert response.status_code == 204, response.content
    assert list(TicketStatus.objects.filter(is_initial=True).values_list("code", flat=True)) == ["triage"]
    # Taking the flag off the only initial status is refused with a field error.
    saved = TicketStatus.objects.get(code="triage")
    response = admin.post(
        reverse("service:ticketstatus_edit", args=[saved.pk]), {**triage, "is_initial": ""}, **HTMX
    )
    assert (
        response.status_code == 200 and "One status must be the initial status" in response.content.decode()
    )
    assert TicketStatus.objects.get(code="triage").is_initial


def test_status_in_use_is_not_deleted(admin: Client) -> None:
    make_ticket(status=status("waiting"))
    response = admin.post(reverse("service:ticketstatus_delete", args=[status("waiting").pk]), **HTMX)
    assert response.status_code == 200 and "Deactivate it instead" in response.content.decode()
    assert TicketStatus.objects.filter(code="waiting").exists()
    assert (
        admin.post(reverse("service:ticketstatus_delete", args=[status("assigned").pk]), **HTMX).status_code
        == 204
    )
    assert not TicketStatus.objects.filter(code="assigned").exists()


def test_type_edit_with_statuses_and_custom_fields(admin: Client) -> None:
    CustomFieldFactory(model="service.ticket", name="serial_no", label="序列号", label_en="Serial number")
    url = reverse("service:tickettype_edit", args=[ticket_type("repair").pk])
    assert "Serial number" in admin.get(url).content.decode()
    data = {
        "name": "维修",
        "name_en": "Repair",
        "code": "repair",
        "kind": "after_sales",
        "after_sales_action": "repair",
        "requires_order": "on",
        "default_priority": 3,
        "position": 60,
        "is_active": "on",
        "statuses": [status("in_progress").pk],
        "required_fields": ["serial_no"],
    }
    response = admin.post(url, data, **HTMX)
    assert response.status_code == 200 and "must include the initial status" in response.content.decode()
    response = admin.post(url, {**data, "statuses": [status("new").pk, status("in_progress").pk]}, **HTMX)
    assert response.status_code == 204, response.content
    repair = ticket_type("repair")
    assert repair.fields == ["serial_no"] and repair.required_fields == ["serial_no"]
    assert repair.default_priority == 3 and repair.statuses.count() == 2


def test_category_tree_and_delete(admin: Client) -> None:
    top = TicketCategory.objects.filter(parent__isnull=True).first()
    assert top is not None
    response = admin.post(
        reverse("service:ticketcategory_add"),
        {"name": "退款", "parent": top.pk, "position": 1, "is_active": "on"},
        **HTMX,
    )
    assert response.status_code == 204
    child = TicketCategory.objects.get(name="退款")
    # The list shows the tree: the subcategory right after its parent.
    page = admin.get(reverse("service:ticketcategory_list")).content.decode()
    tops = [str(c) for c in TicketCategory.objects.filter(parent__isnull=True).order_by("position", "id")]
    assert page.index(f">{tops[0]}<") < page.index(f">{top} / 退款<") < page.index(f">{tops[1]}<")
    # A subcategory is not offered as a parent (two levels).
    form = admin.get(reverse("service:ticketcategory_add")).content.decode()
    assert f'value="{child.pk}"' not in form
    response = admin.post(reverse("service:ticketcategory_delete", args=[top.pk]), **HTMX)
    assert response.status_code == 200 and "subcategories" in response.content.decode()
    assert admin.post(reverse("service:ticketcategory_delete", args=[child.pk]), **HTMX).status_code == 204


def test_mailbox_password_is_write_only(admin: Client, company: Any) -> None:
    mailbox = make_mailbox(imap_password="s3cret-app-password")
    url = reverse("service:mailbox_edit", args=[mailbox.pk])
    page = admin.get(url).content.decode()
    assert "s3cret-app-password" not in page and "A password is stored." in page
    data = {
        "name": mailbox.name,
        "email": mailbox.email,
        "imap_host": "imap.example.com",
        "imap_port": 993,
        "imap_ssl": "on",
        "imap_username": "u",
        "imap_password": "",
        "imap_folder": "INBOX",
        "is_active": "on",
    }
    assert admin.post(url, data, **HTMX).status_code == 204
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "s3cret-app-password" and mailbox.imap_username == "u"
    assert admin.post(url, {**data, "imap_password": "new-one"}, **HTMX).status_code == 204
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "new-one"
    # Bad input: a field error, the password unchanged.
    response = admin.post(url, {**data, "imap_password": "third", "imap_starttls": "on"}, **HTMX)
    assert response.status_code == 200 and "third" not in response.content.decode()
    mailbox.refresh_from_db()
    assert mailbox.imap_password == "new-one"
    list_page = admin.get(reverse("service:mailbox_list")).content.decode()
    assert "new-one" not in list_page
    # Only administrators: a manager with service roles but no mailbox permission gets 403.
    grant(company.role_manager, "service.queue", Action.VIEW, Action.CHANGE)
    admin.force_login(company.manager1)
    assert admin.get(reverse("service:mailbox_list")).status_code == 403
    assert Mailbox.objects.count() == 1
