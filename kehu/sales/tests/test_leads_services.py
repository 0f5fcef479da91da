"""Lead services: create, update, status, delete, conversion (with and without matches, twice,
read-only afterwards)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu.audit.models import ObjectChange, TimelineEvent
from kehu.core.errors import DomainError, PermissionDeniedError, StaleObjectError
from kehu.customers.models import Account, Contact
from kehu.customers.tests.factories import AccountFactory, ContactFactory
from kehu.customfields.tests.factories import CustomFieldFactory

from ..choices import LeadStatus
from ..errors import LeadAlreadyConvertedError, LeadNotQualifiedError
from ..models import Lead
from ..services.leads import (
    carried_custom,
    lead_convert,
    lead_create,
    lead_delete,
    lead_set_status,
    lead_update,
)
from . import lead_fixtures
from .factories import ConversionFieldMapFactory, LeadFactory

pytestmark = pytest.mark.django_db
leads = lead_fixtures.leads


def _opportunities_available() -> bool:
    from ..services import opportunities

    try:
        opportunities.opportunity_create(by=None, account=None, name="")
    except NotImplementedError:
        return False
    except Exception:
        return True
    return True


needs_opportunities = pytest.mark.skipif(
    not _opportunities_available(), reason="opportunity_create not implemented yet"
)


# --- create -----------------------------------------------------------------------------------


def test_create_normalises_and_owns(leads: Any) -> None:
    lead = lead_create(
        by=leads.rep1,
        data={
            "name": " 张伟 ",
            "company": "华为技术有限公司",
            "mobile": "138 1234 5678",
            "phone": "010-6552 9988",
            "email": "Zhang.Wei@Example.COM",
            "source": "website",
            "product_interest": "crm",
            "province": "110000",
        },
    )
    assert (lead.name, lead.mobile, lead.phone, lead.email) == (
        "张伟",
        "+8613812345678",
        "+861065529988",
        "zhang.wei@example.com",
    )
    assert (lead.owner, lead.department, lead.created_by) == (leads.rep1, leads.north, leads.rep1)
    assert lead.country == "CN"
    assert lead.status == LeadStatus.NEW
    assert lead.owned_since is not None
    assert TimelineEvent.objects.filter(event="lead.created", object_id=lead.pk).count() == 1
    assert ObjectChange.objects.filter(model="sales.lead", object_id=lead.pk, action="create").exists()


def test_create_invalid_phone_and_email_are_field_errors(leads: Any) -> None:
    with pytest.raises(DomainError) as exc:
        lead_create(by=leads.rep1, data={"name": "李四", "mobile": "12345", "email": "not-an-email"})
    assert set(exc.value.fields) == {"mobile", "email"}
    assert "valid phone number" in exc.value.fields["mobile"][0]
    assert Lead.objects.count() == 0


def test_create_unknown_picklist_value_refused(leads: Any) -> None:
    with pytest.raises(DomainError) as exc:
        lead_create(by=leads.rep1, data={"name": "王五", "source": "telepathy", "product_interest": "x"})
    assert set(exc.value.fields) == {"source", "product_interest"}
    assert Lead.objects.count() == 0


def test_create_unknown_region_refused(leads: Any) -> None:
    with pytest.raises(DomainError) as exc:
        lead_create(by=leads.rep1, data={"name": "王五", "province": "999999"})
    assert "province" in exc.value.fields


def test_create_without_add_permission_refused(leads: Any) -> None:
    with pytest.raises(PermissionDeniedError):
        lead_create(by=leads.nobody, data={"name": "无权限"})
    assert Lead.objects.count() == 0


def test_create_for_someone_else_needs_assign(leads: Any) -> None:
    with pytest.raises(PermissionDeniedError) as exc:
        lead_create(by=leads.rep1, data={"name": "转给别人", "owner": leads.rep2})
    assert "owner" in exc.value.fields
    lead = lead_create(by=leads.manager1, data={"name": "分配", "owner": leads.rep2})
    assert (lead.owner, lead.department) == (leads.rep2, leads.north)


def test_create_unqualified_needs_reason(leads: Any) -> None:
    with pytest.raises(DomainError) as exc:
        lead_create(by=leads.rep1, data={"name": "无效", "status": "unqualified"})
    assert "unqualified_reason" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        lead_create(by=leads.rep1, data={"name": "直接转化", "status": "converted"})
    assert "status" in exc.value.fields


def test_create_custom_fields_validated(leads: Any) -> None:
    CustomFieldFactory.create(model="sales.lead", name="budget", type="integer")
    lead = lead_create(by=leads.rep1, data={"name": "预算", "custom": {"budget": "50000"}})
    assert lead.custom == {"budget": 50000}
    with pytest.raises(DomainError) as exc:
        lead_create(by=leads.rep1, data={"name": "预算", "custom": {"budget": "lots"}})
    assert "custom.budget" in exc.value.fields or "custom" in str(exc.value.fields)
    with pytest.raises(DomainError):
        lead_create(by=leads.rep1, data={"name": "未知", "custom": {"nope": 1}})


def test_create_data_standards_apply(leads: Any) -> None:
    from kehu.customfields.models import FieldRule

    FieldRule.objects.create(model="sales.lead", field="mobile", required=True)
    with pytest.raises(DomainError) as exc:
        lead_create(by=leads.rep1, data={"name": "缺手机"})
    assert "mobile" in exc.value.fields
    assert lead_create(by=leads.rep1, data={"name": "有手机", "mobile": "13900001111"}).pk


def test_create_runs_collision_check(leads: Any, monkeypatch: Any) -> None:
    """The dedup app's check gets the normalised values; its refusal stops the create."""
    from kehu.core.errors import ConflictError
    from kehu.dedup import services as dedup

    seen: list[dict[str, Any]] = []

    def enforce(*, model_label: str, values: Any, exclude_pk: Any, user: Any, confirmed: bool) -> list[Any]:
        seen.append({"model": model_label, **values, "confirmed": confirmed, "exclude": exclude_pk})
        if not confirmed:
            raise ConflictError("matches", code="collision")
        return []

    monkeypatch.setattr(dedup, "collision_enforce", enforce)
    with pytest.raises(ConflictError):
        lead_create(by=leads.rep1, data={"name": "撞单", "mobile": "138 0000 0000"})
    assert Lead.objects.count() == 0
    lead = lead_create(by=leads.rep1, data={"name": "撞单", "mobile": "13800000000"}, confirmed=True)
    assert seen[0]["model"] == "sales.lead" and seen[0]["mobile"] == "+8613800000000"
    assert seen[-1]["confirmed"] is True
    # An edit that does not touch a matched field does not run the check.
    count = len(seen)
    lead_update(lead=lead, by=leads.rep1, data={"title": "经理"})
    assert len(seen) == count
    lead_update(lead=lead, by=leads.rep1, data={"email": "a@b.cn"}, confirmed=True)
    assert seen[-1]["exclude"] == lead.pk


# --- update -----------------------------------------------------------------------------------


def test_update_changes_and_versions(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    v = lead.version
    lead = lead_update(lead=lead, by=leads.rep1, data={"title": "总监", "email": "X@Y.CN"}, version=v)
    assert (lead.title, lead.email, lead.version) == ("总监", "x@y.cn", v + 1)


def test_update_stale_version_refused(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    with pytest.raises(StaleObjectError):
        lead_update(lead=lead, by=leads.rep1, data={"title": "旧"}, version=lead.version - 1)
    lead.refresh_from_db()
    assert lead.title == ""


def test_update_out_of_scope_refused(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep2)
    with pytest.raises(PermissionDeniedError):
        lead_update(lead=lead, by=leads.rep1, data={"title": "越权"})
    assert lead_update(lead=lead, by=leads.manager1, data={"title": "经理改"}).title == "经理改"


def test_update_owner_change_resets_owned_since(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    before = lead.owned_since
    assert before is not None
    lead = lead_update(lead=lead, by=leads.manager1, data={"owner": leads.rep2})
    assert lead.owner == leads.rep2
    assert lead.owned_since is not None and lead.owned_since > before


def test_update_pool_refused(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    with pytest.raises(DomainError) as exc:
        lead_update(lead=lead, by=leads.rep1, data={"pool": None})
    assert "pool" in exc.value.fields


# --- status -----------------------------------------------------------------------------------


def test_set_status_records_timeline(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    lead = lead_set_status(lead=lead, status=LeadStatus.CONTACTING, by=leads.rep1)
    assert lead.status == LeadStatus.CONTACTING
    event = TimelineEvent.objects.get(event="lead.status_changed", object_id=lead.pk)
    assert event.data["changes"]["status"] == ["new", "contacting"]


def test_unqualified_needs_reason_from_picklist(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    with pytest.raises(DomainError) as exc:
        lead_set_status(lead=lead, status=LeadStatus.UNQUALIFIED, by=leads.rep1)
    assert "unqualified_reason" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        lead_set_status(lead=lead, status=LeadStatus.UNQUALIFIED, by=leads.rep1, reason="bored")
    assert "unqualified_reason" in exc.value.fields
    lead = lead_set_status(lead=lead, status=LeadStatus.UNQUALIFIED, by=leads.rep1, reason="no_budget")
    assert (lead.status, lead.unqualified_reason) == ("unqualified", "no_budget")
    # Back to contacting: the reason goes.
    lead = lead_set_status(lead=lead, status=LeadStatus.CONTACTING, by=leads.rep1)
    assert lead.unqualified_reason == ""


def test_set_status_unknown_or_converted_refused(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    for status in ("won", LeadStatus.CONVERTED):
        with pytest.raises(DomainError) as exc:
            lead_set_status(lead=lead, status=status, by=leads.rep1)
        assert "status" in exc.value.fields
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


# --- delete -----------------------------------------------------------------------------------


def test_delete(leads: Any) -> None:
    lead = LeadFactory.create(owner=leads.rep1)
    with pytest.raises(PermissionDeniedError):
        lead_delete(lead=lead, by=leads.rep2)
    lead_delete(lead=lead, by=leads.rep1)
    assert not Lead.objects.filter(pk=lead.pk).exists()


# --- conversion -------------------------------------------------------------------------------


def _qualified(owner: Any, **kwargs: Any) -> Lead:
    defaults = {
        "name": "赵六",
        "company": "北京示例科技有限公司",
        "title": "采购经理",
        "mobile": "13912345678",
        "email": "zhao@example.cn",
        "source": "website",
        "province": "110000",
        "country": "CN",
        "status": LeadStatus.QUALIFIED,
    }
    return LeadFactory.create(owner=owner, **{**defaults, **kwargs})


def test_convert_creates_account_and_contact(leads: Any) -> None:
    lead = _qualified(leads.rep1)
    result = lead_convert(lead=lead, by=leads.rep1)
    account, contact = result.account, result.contact
    assert result.account_created and result.contact_created and result.opportunity is None
    assert (account.kind, account.name, account.source, account.province) == (
        "company",
        "北京示例科技有限公司",
        "website",
        "110000",
    )
    assert account.owner == leads.rep1
    assert (contact.account, contact.name, contact.title, contact.mobile, contact.email) == (
        account,
        "赵六",
        "采购经理",
        "+8613912345678",
        "zhao@example.cn",
    )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONVERTED
    assert (lead.converted_account, lead.converted_contact, lead.converted_by) == (
        account,
        contact,
        leads.rep1,
    )
    assert lead.converted_at is not None
    event = TimelineEvent.objects.get(event="lead.converted")
    assert (event.model, event.object_id, event.account_id, event.contact_id) == (
        "sales.lead",
        lead.pk,
        account.pk,
        contact.pk,
    )
    assert event.data["account"]["created"] is True


def test_convert_person_lead_makes_person_account(leads: Any) -> None:
    lead = _qualified(leads.rep1, company="", wechat="zhao_wx")
    account = lead_convert(lead=lead, by=leads.rep1).account
    assert (account.kind, account.name, account.email, account.wechat) == (
        "person",
        "赵六",
        "zhao@example.cn",
        "zhao_wx",
    )


def test_convert_into_existing_match(leads: Any) -> None:
    existing = AccountFactory.create(owner=leads.rep1, name="北京示例科技有限公司")
    contact = ContactFactory.create(owner=leads.rep1, account=existing, name="赵六")
    lead = _qualified(leads.rep1)
    result = lead_convert(lead=lead, by=leads.rep1, account=existing, contact=contact)
    assert (result.account, result.contact) == (existing, contact)
    assert not result.account_created and not result.contact_created
    assert Account.objects.count() == 1 and Contact.objects.count() == 1


def test_convert_existing_account_new_contact(leads: Any) -> None:
    existing = AccountFactory.create(owner=leads.rep1)
    result = lead_convert(lead=_qualified(leads.rep1), by=leads.rep1, account=existing)
    assert result.contact.account == existing and result.contact_created
    assert Account.objects.count() == 1


def test_convert_account_out_of_scope_refused(leads: Any) -> None:
    other = AccountFactory.create(owner=leads.rep2)
    lead = _qualified(leads.rep1)
    with pytest.raises(DomainError) as exc:
        lead_convert(lead=lead, by=leads.rep1, account=other)
    assert "account" in exc.value.fields
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED
    assert Contact.objects.count() == 0


def test_convert_contact_of_another_account_refused(leads: Any) -> None:
    account = AccountFactory.create(owner=leads.rep1)
    stranger = ContactFactory.create(owner=leads.rep1)
    with pytest.raises(DomainError) as exc:
        lead_convert(lead=_qualified(leads.rep1), by=leads.rep1, account=account, contact=stranger)
    assert "contact" in exc.value.fields


def test_convert_twice_refused(leads: Any) -> None:
    lead = _qualified(leads.rep1)
    lead_convert(lead=lead, by=leads.rep1)
    with pytest.raises(LeadAlreadyConvertedError) as exc:
        lead_convert(lead=lead, by=leads.rep1)
    assert exc.value.status == 409
    assert Account.objects.count() == 1 and Contact.objects.count() == 1
    assert TimelineEvent.objects.filter(event="lead.converted").count() == 1


def test_convert_not_qualified_refused(leads: Any) -> None:
    lead = _qualified(leads.rep1, status=LeadStatus.CONTACTING)
    with pytest.raises(LeadNotQualifiedError):
        lead_convert(lead=lead, by=leads.rep1)
    assert Account.objects.count() == 0


def test_convert_failure_rolls_back(leads: Any) -> None:
    """The account is made, then the contact fails (no permission): nothing is left behind."""
    from kehu.users.models import RolePermission

    RolePermission.objects.filter(role=leads.role_rep, model="customers.contact").delete()
    lead = _qualified(leads.rep1)
    with pytest.raises(PermissionDeniedError):
        lead_convert(lead=lead, by=leads.rep1)
    assert Account.objects.count() == 0
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED


def test_convert_out_of_scope_lead_refused(leads: Any) -> None:
    lead = _qualified(leads.rep2)
    with pytest.raises(PermissionDeniedError):
        lead_convert(lead=lead, by=leads.rep1)
    assert Account.objects.count() == 0


def test_convert_negative_amount_refused(leads: Any) -> None:
    with pytest.raises(DomainError) as exc:
        lead_convert(
            lead=_qualified(leads.rep1), by=leads.rep1, create_opportunity=True, amount=Decimal("-1")
        )
    assert "amount" in exc.value.fields
    assert Account.objects.count() == 0


def test_converted_lead_is_read_only(leads: Any) -> None:
    lead = _qualified(leads.rep1)
    lead_convert(lead=lead, by=leads.rep1)
    lead.refresh_from_db()
    for call in (
        lambda: lead_update(lead=lead, by=leads.rep1, data={"title": "改"}),
        lambda: lead_set_status(lead=lead, status=LeadStatus.CONTACTING, by=leads.rep1),
        lambda: lead_delete(lead=lead, by=leads.rep1),
    ):
        with pytest.raises(LeadAlreadyConvertedError) as exc:
            call()
        assert "read-only" in str(exc.value.message)
    assert Lead.objects.get(pk=lead.pk).title == "采购经理"


def test_custom_fields_carry_over(leads: Any) -> None:
    CustomFieldFactory.create(model="sales.lead", name="budget", type="integer")
    CustomFieldFactory.create(model="sales.lead", name="note", type="text")
    CustomFieldFactory.create(model="customers.account", name="budget", type="integer")
    CustomFieldFactory.create(model="customers.contact", name="remark", type="text")
    ConversionFieldMapFactory.create(
        lead_field="budget", target_model="customers.account", target_field="budget"
    )
    ConversionFieldMapFactory.create(
        lead_field="note", target_model="customers.contact", target_field="remark"
    )
    # A mapping to a field the target does not have is left out.
    ConversionFieldMapFactory.create(
        lead_field="note", target_model="customers.account", target_field="missing"
    )
    lead = _qualified(leads.rep1, custom={"budget": 80000, "note": "年底采购"})
    assert carried_custom(lead, "customers.account") == {"budget": 80000}
    result = lead_convert(lead=lead, by=leads.rep1)
    assert result.account.custom == {"budget": 80000}
    assert result.contact.custom == {"remark": "年底采购"}


def test_manager_converting_keeps_the_reps_ownership(leads: Any) -> None:
    from kehu.core.choices import Action, Scope
    from kehu.users.tests.factories import grant

    grant(leads.role_manager, "customers.account", Action.ASSIGN, scope=Scope.DEPARTMENT)
    lead = _qualified(leads.rep1)
    result = lead_convert(lead=lead, by=leads.manager1)
    assert result.account.owner == leads.rep1
    assert result.contact.owner == leads.manager1  # no assign on contacts: the converting user


@needs_opportunities
def test_convert_with_opportunity(leads: Any) -> None:
    from kehu.users.tests.factories import grant

    grant(leads.role_rep, "sales.opportunity", "view", "add", "change", scope="own")
    lead = _qualified(leads.rep1)
    result = lead_convert(
        lead=lead,
        by=leads.rep1,
        create_opportunity=True,
        opportunity_name="示例 CRM 项目",
        amount=Decimal("120000"),
    )
    opp = result.opportunity
    assert opp is not None
    assert (opp.name, opp.amount, opp.account, opp.lead) == (
        "示例 CRM 项目",
        Decimal("120000"),
        result.account,
        lead,
    )
    lead.refresh_from_db()
    assert lead.converted_opportunity == opp
