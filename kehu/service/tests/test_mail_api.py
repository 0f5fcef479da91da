"""/api/v1/service/inbound-emails/: the received e-mail log and the quarantine actions."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from kehu.service.choices import InboundStatus
from kehu.service.models import InboundEmail
from kehu.service.services import mail as svc

from .factories_mail import MailboxFactory, fixture

pytestmark = pytest.mark.django_db
URL = "/api/v1/service/inbound-emails/"


@pytest.fixture
def received(company: Any) -> dict[str, InboundEmail]:
    mailbox = MailboxFactory.create(email="support@kehu.test")
    return {
        "created": svc.inbound_email_receive(raw=fixture("gbk_qp"), mailbox=mailbox),
        "garbage": svc.inbound_email_receive(raw=fixture("garbage"), mailbox=mailbox),
        "auto": svc.inbound_email_receive(raw=fixture("gmail_vacation"), mailbox=mailbox),
    }


def api(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_permissions(company: Any, received: dict[str, InboundEmail]) -> None:
    garbage = received["garbage"].pk
    assert api(None).get(URL).status_code in (401, 403)
    nobody = api(company.nobody)
    assert nobody.get(URL).status_code == 403
    assert nobody.get(f"{URL}{garbage}/").status_code == 404
    assert nobody.post(f"{URL}{garbage}/release/").status_code == 404
    assert nobody.post(f"{URL}{garbage}/discard/").status_code == 404
    assert InboundEmail.objects.get(pk=garbage).status == InboundStatus.QUARANTINED


def test_list_detail_and_raw(company: Any, received: dict[str, InboundEmail]) -> None:
    client = api(company.admin)
    rows = client.get(URL).json()["results"]
    assert [r["id"] for r in rows] == [received["auto"].pk, received["garbage"].pk, received["created"].pk]
    quarantined = client.get(URL, {"status": "quarantined"}).json()["results"]
    assert [r["id"] for r in quarantined] == [received["garbage"].pk]
    assert quarantined[0]["reason"] == "malformed: no_mail_headers"
    assert quarantined[0]["reason_text"].startswith("Not a readable e-mail message")
    detail = client.get(f"{URL}{received['created'].pk}/").json()
    assert detail["subject"] == "打印机故障"
    assert detail["ticket_number"].startswith("TK-")
    assert {"name": "Message-ID", "value": "<gbk-1@example.cn>"} in detail["headers"]
    raw = client.get(f"{URL}{received['created'].pk}/raw/")
    assert raw.status_code == 200
    assert b"".join(raw.streaming_content) == fixture("gbk_qp")  # type: ignore[attr-defined]


def test_release_and_discard(company: Any, received: dict[str, InboundEmail]) -> None:
    client = api(company.admin)
    released = client.post(f"{URL}{received['auto'].pk}/release/")
    assert released.status_code == 200
    assert released.json()["status"] == InboundStatus.CREATED
    refused = client.post(f"{URL}{received['created'].pk}/discard/")
    assert refused.status_code == 409
    assert refused.json()["code"] == "not_discardable"
    assert client.post(f"{URL}{received['created'].pk}/release/").status_code == 409
    assert client.post(f"{URL}{received['garbage'].pk}/discard/").status_code == 204
    assert not InboundEmail.objects.filter(pk=received["garbage"].pk).exists()
