"""Contract services: creation (direct and from quotes), dates, the status flow, expiry, deletion,
attachments (type, content and size limits; nothing stored when refused) and renewal reminders."""

# ruff: noqa: F811

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from kehu.audit.models import TimelineEvent
from kehu.core.errors import DomainError, PermissionDeniedError, StaleObjectError
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.notifications.models import Notification

from ..choices import ContractStatus, QuoteStatus
from ..models import Contract, ContractAttachment
from ..services import contracts as svc
from . import contract_fixtures as cf
from .contract_fixtures import media, sellers  # noqa: F401
from .factories import ContractFactory, QuoteFactory

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 6, 1)


def _create(by: Any, **data: Any) -> Contract:
    data.setdefault("name", "年度服务合同")
    data.setdefault("account", AccountFactory.create(owner=by))
    return svc.contract_create(by=by, data=data)


# --- create -----------------------------------------------------------------------------------


def test_create_numbers_and_timeline(sellers: Any) -> None:
    first = _create(sellers.rep1, value=Decimal("1000"))
    second = _create(sellers.rep1)
    assert first.number.startswith("HT") and second.number.startswith("HT")
    assert first.number != second.number
    assert first.status == ContractStatus.DRAFT
    assert first.owner == sellers.rep1 and first.department_id == sellers.rep1.department_id
    assert first.currency == "CNY" and first.value == Decimal("1000")
    event = TimelineEvent.objects.get(event=svc.CREATED_EVENT, object_id=first.pk)
    assert event.account_id == first.account_id


def test_end_before_start_refused(sellers: Any) -> None:
    with pytest.raises(DomainError) as exc:
        _create(sellers.rep1, start_on=dt.date(2026, 5, 1), end_on=dt.date(2026, 4, 30))
    assert "end_on" in exc.value.fields
    assert not Contract.objects.exists()
    ok = _create(sellers.rep1, start_on=dt.date(2026, 5, 1), end_on=dt.date(2026, 5, 1))
    assert ok.end_on == ok.start_on


@pytest.mark.parametrize(
    ("field", "value"),
    [("value", "-1"), ("value", "abc"), ("currency", "XXX"), ("name", "  "), ("renewal_reminder_days", -3)],
)
def test_bad_values_refused(sellers: Any, field: str, value: Any) -> None:
    with pytest.raises(DomainError) as exc:
        _create(sellers.rep1, **{field: value})
    assert field in exc.value.fields
    assert not Contract.objects.exists()


def test_account_out_of_scope_refused(sellers: Any) -> None:
    other = AccountFactory.create(owner=sellers.rep2)
    with pytest.raises(DomainError) as exc:
        _create(sellers.rep1, account=other)
    assert "account" in exc.value.fields


def test_contact_of_another_account_refused(sellers: Any) -> None:
    contact = ContactFactory.create(owner=sellers.rep1)
    with pytest.raises(DomainError) as exc:
        _create(sellers.rep1, contact=contact)
    assert "contact" in exc.value.fields


def test_no_add_permission(sellers: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        _create(sellers.nobody, account=AccountFactory.create(owner=sellers.rep1))


# --- from a quote -----------------------------------------------------------------------------


def test_from_accepted_quote_copies_exactly(sellers: Any) -> None:
    contact = ContactFactory.create(owner=sellers.rep1)
    quote = cf.accepted_quote(sellers.rep1, account=contact.account, contact=contact, currency="CNY")
    contract = svc.contract_create_from_quote(
        by=sellers.rep1, quote=quote, data={"start_on": dt.date(2026, 1, 1), "value": Decimal("1")}
    )
    assert contract.quote == quote
    assert contract.account == quote.account and contract.contact == contact
    assert contract.currency == quote.currency == "CNY"
    assert contract.value == quote.total == Decimal("406.80")
    assert contract.terms == quote.terms and contract.name == quote.name
    assert contract.start_on == dt.date(2026, 1, 1)


@pytest.mark.parametrize(
    "status", [QuoteStatus.DRAFT, QuoteStatus.APPROVED, QuoteStatus.SENT, QuoteStatus.REJECTED]
)
def test_from_quote_not_accepted_refused(sellers: Any, status: str) -> None:
    quote = QuoteFactory.create(owner=sellers.rep1, status=status)
    with pytest.raises(DomainError) as exc:
        svc.contract_create_from_quote(by=sellers.rep1, quote=quote)
    assert exc.value.code == "quote_not_accepted" and exc.value.status == 409
    assert not Contract.objects.exists()


def test_from_old_version_refused(sellers: Any) -> None:
    quote = cf.accepted_quote(sellers.rep1, is_latest=False)
    with pytest.raises(DomainError) as exc:
        svc.contract_create_from_quote(by=sellers.rep1, quote=quote)
    assert exc.value.code == "quote_not_latest"


def test_from_quote_out_of_scope_refused(sellers: Any) -> None:
    quote = cf.accepted_quote(sellers.rep2)
    with pytest.raises(DomainError):
        svc.contract_create_from_quote(by=sellers.rep1, quote=quote)
    assert not Contract.objects.exists()


# --- update -----------------------------------------------------------------------------------


def test_update_version_check(sellers: Any) -> None:
    contract = _create(sellers.rep1)
    svc.contract_update(contract=contract, by=sellers.rep1, data={"name": "新名字"}, version=1)
    with pytest.raises(StaleObjectError):
        svc.contract_update(contract=contract, by=sellers.rep1, data={"name": "旧的"}, version=1)
    contract.refresh_from_db()
    assert contract.name == "新名字" and contract.version == 2


def test_update_dates_validated(sellers: Any) -> None:
    contract = _create(sellers.rep1, start_on=dt.date(2026, 1, 1))
    with pytest.raises(DomainError) as exc:
        svc.contract_update(contract=contract, by=sellers.rep1, data={"end_on": dt.date(2025, 12, 31)})
    assert "end_on" in exc.value.fields
    contract.refresh_from_db()
    assert contract.end_on is None


def test_update_out_of_scope(sellers: Any) -> None:
    contract = _create(sellers.rep2)
    with pytest.raises(PermissionDeniedError):
        svc.contract_update(contract=contract, by=sellers.rep1, data={"name": "x"})


# --- status flow ------------------------------------------------------------------------------


def test_activate_needs_signing_date(sellers: Any) -> None:
    contract = _create(sellers.rep1)
    with pytest.raises(DomainError) as exc:
        svc.contract_activate(contract=contract, by=sellers.rep1)
    assert "signed_on" in exc.value.fields
    contract.refresh_from_db()
    assert contract.status == ContractStatus.DRAFT
    done = svc.contract_activate(contract=contract, by=sellers.rep1, signed_on=timezone.localdate())
    assert done.status == ContractStatus.ACTIVE
    event = TimelineEvent.objects.get(event=svc.STATUS_EVENT, object_id=contract.pk)
    assert event.data["changes"] == {"status": ["draft", "active"]}
    assert event.account_id == contract.account_id


def test_terminate_flow(sellers: Any) -> None:
    contract = _create(sellers.rep1)
    with pytest.raises(DomainError) as exc:  # a draft cannot be terminated
        svc.contract_terminate(contract=contract, by=sellers.rep1, terminated_on=TODAY, reason="违约")
    assert exc.value.status == 409
    svc.contract_activate(contract=contract, by=sellers.rep1, signed_on=dt.date(2026, 1, 5))
    with pytest.raises(DomainError) as exc:
        svc.contract_terminate(contract=contract, by=sellers.rep1, terminated_on=None, reason=" ")
    assert set(exc.value.fields) == {"terminated_on", "termination_reason"}
    with pytest.raises(DomainError) as exc:
        svc.contract_terminate(
            contract=contract, by=sellers.rep1, terminated_on=dt.date(2026, 1, 1), reason="x"
        )
    assert "terminated_on" in exc.value.fields
    done = svc.contract_terminate(contract=contract, by=sellers.rep1, terminated_on=TODAY, reason="客户违约")
    assert done.status == ContractStatus.TERMINATED and done.termination_reason == "客户违约"
    with pytest.raises(DomainError):  # terminated: read-only, no second move
        svc.contract_activate(contract=contract, by=sellers.rep1)
    with pytest.raises(DomainError):
        svc.contract_update(contract=contract, by=sellers.rep1, data={"name": "x"})


def test_expire_due(sellers: Any) -> None:
    due = ContractFactory.create(
        owner=sellers.rep1, status=ContractStatus.ACTIVE, end_on=TODAY - dt.timedelta(1)
    )
    today = ContractFactory.create(owner=sellers.rep1, status=ContractStatus.ACTIVE, end_on=TODAY)
    draft = ContractFactory.create(owner=sellers.rep1, end_on=TODAY - dt.timedelta(5))
    assert svc.contract_expire_due(today=TODAY) == 1
    assert svc.contract_expire_due(today=TODAY) == 0
    statuses = dict(Contract.objects.values_list("pk", "status"))
    assert statuses == {due.pk: "expired", today.pk: "active", draft.pk: "draft"}
    assert TimelineEvent.objects.filter(event=svc.STATUS_EVENT, object_id=due.pk).count() == 1
    from kehu.audit.models import ObjectChange

    logged = ObjectChange.objects.filter(
        model="commerce.contract", object_id=due.pk, changes__has_key="status"
    )
    # (the factory's own saves log [None, "active"]; the expiry logs its move once)
    assert sum(c.changes.get("status") == ["active", "expired"] for c in logged) == 1


def test_delete_drafts_only(sellers: Any) -> None:
    active = ContractFactory.create(owner=sellers.rep1, status=ContractStatus.ACTIVE)
    with pytest.raises(DomainError):
        svc.contract_delete(contract=active, by=sellers.rep1)
    draft = _create(sellers.rep1)
    svc.contract_delete(contract=draft, by=sellers.rep1)
    assert list(Contract.objects.values_list("pk", flat=True)) == [active.pk]


# --- attachments ------------------------------------------------------------------------------


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("合同.pdf", cf.PDF),
        ("scan.PNG", cf.PNG),
        ("附件.docx", cf.office_zip()),
        ("表.xlsx", cf.office_zip("xl/workbook.xml")),
    ],
    ids=["pdf", "png", "docx", "xlsx"],
)
def test_attachment_accepted(sellers: Any, media: Any, name: str, content: bytes) -> None:
    contract = _create(sellers.rep1)
    attachment = svc.contract_attachment_add(
        contract=contract, by=sellers.rep1, upload=_upload(name, content)
    )
    assert attachment.name == name and attachment.size == len(content)
    assert attachment.file.read() == content
    assert len(cf.stored_files(media)) == 1
    assert TimelineEvent.objects.filter(event=svc.ATTACHMENT_ADDED_EVENT, object_id=contract.pk).exists()


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("virus.exe", b"MZ\x90\x00", "not accepted"),
        ("noext", cf.PDF, "not accepted"),
        ("fake.pdf", b"MZ\x90\x00 this is not a pdf", "content"),
        ("fake.png", cf.PDF, "content"),
        ("fake.docx", b"PK\x03\x04 broken zip", "content"),
        ("zip-as.docx", cf.office_zip("other/file.txt"), "content"),
        ("empty.pdf", b"", "empty"),
    ],
    ids=["exe", "no-extension", "fake-pdf", "pdf-as-png", "broken-zip", "zip-as-docx", "empty"],
)
def test_attachment_refused(sellers: Any, media: Any, name: str, content: bytes, why: str) -> None:
    contract = _create(sellers.rep1)
    with pytest.raises(DomainError) as exc:
        svc.contract_attachment_add(contract=contract, by=sellers.rep1, upload=_upload(name, content))
    assert "file" in exc.value.fields and why in exc.value.fields["file"][0]
    assert not ContractAttachment.objects.exists()
    assert cf.stored_files(media) == []


def test_attachment_too_big(sellers: Any, media: Any, settings: Any) -> None:
    settings.KEHU_ATTACHMENT_MAX_BYTES = 100
    contract = _create(sellers.rep1)
    with pytest.raises(DomainError) as exc:
        svc.contract_attachment_add(
            contract=contract, by=sellers.rep1, upload=_upload("big.pdf", cf.PDF + b"0" * 100)
        )
    assert "too big" in exc.value.fields["file"][0]
    assert not ContractAttachment.objects.exists() and cf.stored_files(media) == []


def test_attachment_type_setting(sellers: Any, media: Any, settings: Any) -> None:
    settings.KEHU_ATTACHMENT_TYPES = ["png"]
    contract = _create(sellers.rep1)
    with pytest.raises(DomainError):
        svc.contract_attachment_add(contract=contract, by=sellers.rep1, upload=_upload("a.pdf", cf.PDF))
    svc.contract_attachment_add(contract=contract, by=sellers.rep1, upload=_upload("a.png", cf.PNG))


def test_attachment_delete(sellers: Any, media: Any, django_capture_on_commit_callbacks: Any) -> None:
    contract = _create(sellers.rep1)
    attachment = svc.contract_attachment_add(
        contract=contract, by=sellers.rep1, upload=_upload("a.pdf", cf.PDF)
    )
    with django_capture_on_commit_callbacks(execute=True):
        svc.contract_attachment_delete(attachment=attachment, by=sellers.rep1)
    assert not ContractAttachment.objects.exists() and cf.stored_files(media) == []


def test_attachment_needs_change(sellers: Any, media: Any) -> None:
    contract = _create(sellers.rep2)
    with pytest.raises(PermissionDeniedError):
        svc.contract_attachment_add(contract=contract, by=sellers.rep1, upload=_upload("a.pdf", cf.PDF))
    assert cf.stored_files(media) == []


# --- renewal reminders ------------------------------------------------------------------------


def test_renewal_reminder_once(sellers: Any) -> None:
    due = ContractFactory.create(
        owner=sellers.rep1,
        status=ContractStatus.ACTIVE,
        end_on=TODAY + dt.timedelta(30),
        renewal_reminder_days=30,
    )
    later = ContractFactory.create(
        owner=sellers.rep1,
        status=ContractStatus.ACTIVE,
        end_on=TODAY + dt.timedelta(31),
        renewal_reminder_days=30,
    )
    ContractFactory.create(
        owner=sellers.rep1, status=ContractStatus.ACTIVE, end_on=TODAY, renewal_reminder_days=None
    )
    ContractFactory.create(owner=sellers.rep1, end_on=TODAY + dt.timedelta(1))  # a draft
    assert svc.contract_renewal_reminders_send(today=TODAY) == 1
    assert svc.contract_renewal_reminders_send(today=TODAY) == 0
    notes = list(Notification.objects.filter(kind=svc.RENEWAL_KIND))
    assert [(n.recipient_id, n.target_id) for n in notes] == [(sellers.rep1.pk, due.pk)]
    assert due.number in notes[0].title and "30" in notes[0].title
    due.refresh_from_db()
    assert due.renewal_reminded_at is not None
    assert TimelineEvent.objects.filter(event=svc.RENEWAL_EVENT, object_id=due.pk).count() == 1
    assert svc.contract_renewal_reminders_send(today=TODAY + dt.timedelta(1)) == 1  # `later` now
    later.refresh_from_db()
    assert later.renewal_reminded_at is not None


def test_moving_end_date_rearms_reminder(sellers: Any) -> None:
    contract = ContractFactory.create(
        owner=sellers.rep1,
        status=ContractStatus.ACTIVE,
        end_on=TODAY + dt.timedelta(5),
        renewal_reminder_days=10,
    )
    assert svc.contract_renewal_reminders_send(today=TODAY) == 1
    svc.contract_update(contract=contract, by=sellers.rep1, data={"end_on": TODAY + dt.timedelta(400)})
    contract.refresh_from_db()
    assert contract.renewal_reminded_at is None
    assert svc.contract_renewal_reminders_send(today=TODAY) == 0
