"""The new-ticket and edit forms: prefill, field errors, custom fields by type, after-sales order
lines, optimistic locking, XSS."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kehu.commerce.tests.factories import OrderFactory, OrderLineFactory
from kehu.core.choices import Action, Scope
from kehu.customers.tests.factories import AccountFactory
from kehu.customfields.tests.factories import CustomFieldFactory
from kehu.service.models import Ticket, TicketOrderLine
from kehu.service.tests.factories import TicketFactory, ticket_type
from kehu.users.tests.factories import grant

pytestmark = pytest.mark.django_db


def _ticket(**kwargs: Any) -> Any:
    return TicketFactory(**kwargs)


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ADD = reverse("service:ticket_add")


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _data(**extra: Any) -> dict[str, Any]:
    data = {"type": ticket_type("request").pk, "subject": "无法登录", "channel": "phone", "priority": 2}
    data.update(extra)
    return data


@pytest.fixture
def desk(tickets_granted: Any) -> Any:
    company = tickets_granted
    grant(company.role_rep, "commerce.order", Action.VIEW, scope=Scope.OWN)
    company.account = AccountFactory(owner=company.rep1, name="北京客户")
    return company


def test_the_form_renders_and_prefills_from_the_query(desk: Any) -> None:
    order: Any = OrderFactory(owner=desk.rep1, account=desk.account)
    response = _client(desk.rep1).get(ADD + f"?order={order.pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{desk.account.pk}" selected>' in html and "北京客户" in html
    assert order.number in html
    assert "data-kehu-richtext" in html and "data-tom-select-url" in html
    assert html.count('data-tom-select-forward="account"') == 2  # contact and order follow the account
    response = _client(desk.rep1).get(ADD + f"?account={desk.account.pk}")
    assert "北京客户" in response.content.decode()


def test_nobody_may_not_open_the_form(desk: Any) -> None:
    assert _client(desk.nobody).get(ADD).status_code == 403
    assert _client(desk.viewer_all).get(ADD).status_code == 403


def test_field_errors_and_nothing_created(desk: Any) -> None:
    c = _client(desk.rep1)
    response = c.post(ADD, {"subject": "", "channel": "fax", "priority": 9})
    assert response.status_code == 400
    form = response.context["form"]
    assert {"type", "subject", "channel", "priority"} <= set(form.errors)
    # an account the user may not see is refused on its field
    hidden: Any = AccountFactory(owner=desk.rep3)
    response = c.post(ADD, _data(account=hidden.pk))
    assert response.status_code == 400 and "account" in response.context["form"].errors
    assert Ticket.objects.count() == 0


def test_create_with_attachment_and_xss_stripped(desk: Any) -> None:
    c = _client(desk.rep1)
    response = c.post(
        ADD,
        _data(
            account=desk.account.pk,
            description="<p>登录时报错<script>alert('x')</script><img src=x onerror=alert(1)></p>",
            attachments=SimpleUploadedFile("截图.pdf", PDF, content_type="application/pdf"),
            watchers=[desk.rep2.pk],
        ),
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert response["Location"] == ticket.get_absolute_url()
    assert ticket.assignee == desk.rep1 and ticket.account == desk.account
    assert ticket.attachments.filter(name="截图.pdf").exists()
    assert ticket.watcher_links.filter(user=desk.rep2).exists()
    html = c.get(ticket.get_absolute_url()).content.decode()
    assert "登录时报错" in html and "alert('x')" not in html and "onerror" not in html


def test_custom_fields_required_by_the_type(desk: Any) -> None:
    CustomFieldFactory(model="service.ticket", name="serial", label="序列号", label_en="Serial number")
    complaint = ticket_type("complaint")
    complaint.fields = ["serial"]
    complaint.required_fields = ["serial"]
    complaint.save()
    c = _client(desk.rep1)
    html = c.get(ADD).content.decode()
    assert "custom__serial" in html and f'data-required-for="{complaint.pk}"' in html
    response = c.post(ADD, _data(type=complaint.pk))
    assert response.status_code == 400
    assert "custom__serial" in response.context["form"].errors
    # another type does not need it
    assert c.post(ADD, _data()).status_code == 302
    response = c.post(ADD, _data(type=complaint.pk, custom__serial="SN-001"))
    assert response.status_code == 302
    assert Ticket.objects.get(type=complaint).custom == {"serial": "SN-001"}


def test_after_sales_needs_the_order_and_takes_line_quantities(desk: Any) -> None:
    returns = ticket_type("return")
    order: Any = OrderFactory(owner=desk.rep1, account=desk.account)
    line: Any = OrderLineFactory(order=order, quantity=Decimal("5"), description="打印机")
    other: Any = OrderLineFactory(order=order, quantity=Decimal("2"), description="墨盒")
    c = _client(desk.rep1)
    response = c.post(ADD, _data(type=returns.pk, account=desk.account.pk))
    assert response.status_code == 400 and "order" in response.context["form"].errors
    lines = c.get(reverse("service:ticket_order_lines"), {"order": order.pk, "type": returns.pk})
    assert f'name="line_{line.pk}"' in lines.content.decode()
    response = c.post(
        ADD, _data(type=returns.pk, account=desk.account.pk, order=order.pk, **{f"line_{line.pk}": "9"})
    )
    assert response.status_code == 400
    assert "at most the quantity ordered" in response.content.decode()
    assert f'name="line_{line.pk}"' in response.content.decode()  # the lines stay on the form
    response = c.post(
        ADD,
        _data(
            type=returns.pk,
            account=desk.account.pk,
            order=order.pk,
            **{f"line_{line.pk}": "2", f"line_{other.pk}": ""},
        ),
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert list(TicketOrderLine.objects.filter(ticket=ticket).values_list("order_line_id", "quantity")) == [
        (line.pk, Decimal("2"))
    ]
    html = c.get(ticket.get_absolute_url() + "?tab=details").content.decode()
    assert "data-order-lines" in html and "打印机" in html


def test_order_picker_lists_visible_orders(desk: Any) -> None:
    mine: Any = OrderFactory(owner=desk.rep1, account=desk.account)
    OrderFactory(owner=desk.rep3, account=AccountFactory(owner=desk.rep3))
    url = reverse("service:ticket_order_autocomplete")
    results = _client(desk.rep1).get(url).json()["results"]
    assert [r["id"] for r in results] == [mine.pk]
    elsewhere: Any = AccountFactory(owner=desk.rep1)
    assert _client(desk.rep1).get(url, {"account": elsewhere.pk}).json()["results"] == []


def test_edit_with_optimistic_lock(desk: Any) -> None:
    ticket = _ticket(assignee=desk.rep1, account=desk.account, subject="旧标题")
    c = _client(desk.rep1)
    url = reverse("service:ticket_edit", args=[ticket.pk])
    html = c.get(url).content.decode()
    assert 'name="version"' in html and "旧标题" in html
    post = _data(
        type=ticket.type.pk,
        subject="新标题",
        account=desk.account.pk,
        assignee=desk.rep1.pk,
        version=ticket.version,
    )
    assert c.post(url, post).status_code == 302
    ticket.refresh_from_db()
    assert ticket.subject == "新标题" and ticket.version == 2
    stale = c.post(url, {**post, "subject": "更旧", "version": 1})
    assert stale.status_code == 400
    ticket.refresh_from_db()
    assert ticket.subject == "新标题"
    # out of scope: 404; read-only: 403
    assert _client(desk.rep2).get(url).status_code == 404
    assert _client(desk.viewer_all).get(url).status_code == 403
