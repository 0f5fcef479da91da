"""Interactions and tasks on leads (线索) and opportunities (商机): validation and scopes, "last
contact", the lead's status, their timelines, conversion, the API and the detail-page actions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from kehu.audit.models import TimelineEvent
from kehu.core.choices import Action, Scope
from kehu.core.errors import DomainError
from kehu.customers.tests.factories import AccountFactory
from kehu.sales.choices import LeadStatus
from kehu.sales.models import Lead, Opportunity
from kehu.sales.services.leads import lead_convert
from kehu.sales.tests.factories import LeadFactory, OpportunityFactory
from kehu.users.tests.factories import grant

from .. import services
from ..choices import TaskStatus
from ..models import Interaction, Task

pytestmark = pytest.mark.django_db

API = "/api/v1/activities"
ACTIONS = (Action.VIEW, Action.ADD, Action.CHANGE, Action.DELETE)


@pytest.fixture
def crm(sales: Any) -> Any:
    """The activities grants plus leads and opportunities with the same scopes."""
    for role, scope in (
        (sales.role_rep, Scope.OWN),
        (sales.role_manager, Scope.DEPARTMENT),
        (sales.role_director, Scope.DEPARTMENT_AND_BELOW),
        (sales.role_all, Scope.ALL),
    ):
        grant(role, "sales.lead", *ACTIONS, scope=scope)
        grant(role, "sales.opportunity", *ACTIONS, scope=scope)
    return sales


def _call(**extra: Any) -> Any:
    return {"subject": "电话沟通", "kind": "call", **extra}


# --- leads ------------------------------------------------------------------------------------


def test_a_call_on_a_new_lead_moves_its_last_contact_and_status(crm: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1)
    assert lead.status == LeadStatus.NEW
    when = timezone.now() - dt.timedelta(hours=1)
    interaction = services.interaction_create(by=crm.rep1, data=_call(lead=lead, occurred_at=when))
    assert interaction.account is None and interaction.lead == lead
    lead.refresh_from_db()
    assert lead.last_activity_at == when
    assert lead.status == LeadStatus.CONTACTING
    events = set(
        TimelineEvent.objects.filter(model="sales.lead", object_id=lead.pk).values_list("event", flat=True)
    )
    assert {"interaction.logged", "lead.status_changed"} <= events
    # An older log never moves the last contact backward; a contacting lead stays contacting.
    services.interaction_create(by=crm.rep1, data=_call(lead=lead, occurred_at=when - dt.timedelta(days=3)))
    lead.refresh_from_db()
    assert lead.last_activity_at == when and lead.status == LeadStatus.CONTACTING


def test_a_qualified_lead_keeps_its_status(crm: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1, status=LeadStatus.QUALIFIED)
    services.interaction_create(by=crm.rep1, data=_call(lead=lead))
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUALIFIED and lead.last_activity_at is not None


def test_a_lead_the_user_cannot_see_is_refused(crm: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep2)
    with pytest.raises(DomainError) as exc:
        services.interaction_create(by=crm.rep1, data=_call(lead=lead))
    assert "lead" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.task_create(by=crm.rep1, data={"title": "回电", "lead": lead})
    assert "lead" in exc.value.fields
    # The manager of the department sees it.
    services.interaction_create(by=crm.manager1, data=_call(lead=lead))
    assert Interaction.objects.filter(lead=lead).count() == 1


def test_a_converted_lead_is_refused(crm: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1, status=LeadStatus.QUALIFIED)
    lead_convert(lead=lead, by=crm.rep1)
    lead.refresh_from_db()
    with pytest.raises(DomainError) as exc:
        services.interaction_create(by=crm.rep1, data=_call(lead=lead))
    assert "lead" in exc.value.fields


def test_a_task_on_a_lead_lands_on_its_timeline_and_the_follow_up_keeps_the_lead(crm: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1)
    task = services.task_create(by=crm.rep1, data={"title": "发资料", "lead": lead})
    assert task.lead == lead and task.account is None
    assert TimelineEvent.objects.filter(model="sales.lead", object_id=lead.pk, event="task.created").exists()
    follow = timezone.now() + dt.timedelta(days=2)
    interaction = services.interaction_create(by=crm.rep1, data=_call(lead=lead, next_follow_up_at=follow))
    assert interaction.task is not None and interaction.task.lead == lead


# --- opportunities ----------------------------------------------------------------------------


def test_an_interaction_on_an_opportunity_takes_its_account(crm: Any) -> None:
    opp = OpportunityFactory.create(owner=crm.rep1)
    when = timezone.now() - dt.timedelta(minutes=5)
    interaction = services.interaction_create(by=crm.rep1, data=_call(opportunity=opp, occurred_at=when))
    assert interaction.account_id == opp.account_id
    opp.refresh_from_db()
    opp.account.refresh_from_db()
    assert opp.last_activity_at == when and opp.account.last_activity_at == when
    assert TimelineEvent.objects.filter(
        model="sales.opportunity", object_id=opp.pk, event="interaction.logged"
    ).exists()
    other = AccountFactory.create(owner=crm.rep1)
    with pytest.raises(DomainError) as exc:
        services.interaction_create(by=crm.rep1, data=_call(opportunity=opp, account=other))
    assert "opportunity" in exc.value.fields


def test_an_opportunity_the_user_cannot_see_is_refused(crm: Any) -> None:
    opp = OpportunityFactory.create(owner=crm.rep3)
    with pytest.raises(DomainError) as exc:
        services.task_create(by=crm.rep1, data={"title": "报价", "opportunity": opp})
    assert "opportunity" in exc.value.fields
    assert not Task.objects.exists()


# --- conversion -------------------------------------------------------------------------------


def test_conversion_moves_the_interactions_and_open_tasks_to_the_customer(crm: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1, status=LeadStatus.QUALIFIED)
    when = timezone.now() - dt.timedelta(days=1)
    interaction = services.interaction_create(by=crm.rep1, data=_call(lead=lead, occurred_at=when))
    open_task = services.task_create(by=crm.rep1, data={"title": "回访", "lead": lead})
    done = services.task_create(by=crm.rep1, data={"title": "已完成", "lead": lead})
    services.task_complete(task=done, by=crm.rep1)
    lead.refresh_from_db()
    result = lead_convert(lead=lead, by=crm.rep1, create_opportunity=True)
    interaction.refresh_from_db()
    open_task.refresh_from_db()
    done.refresh_from_db()
    assert (interaction.account, interaction.contact, interaction.opportunity) == (
        result.account,
        result.contact,
        result.opportunity,
    )
    assert interaction.lead_id == lead.pk  # the lead keeps its history
    assert (open_task.account, open_task.contact) == (result.account, result.contact)
    assert done.account is None and done.status == TaskStatus.DONE
    result.account.refresh_from_db()
    assert result.account.last_activity_at == when
    # The history stays editable after the conversion.
    services.interaction_update(interaction=interaction, by=crm.rep1, data={"lead": lead, "subject": "改"})


# --- API --------------------------------------------------------------------------------------


def test_api_accepts_lead_and_opportunity_ids(crm: Any, client: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1)
    opp = OpportunityFactory.create(owner=crm.rep1)
    hidden = LeadFactory.create(owner=crm.rep3)
    client.force_login(crm.rep1)
    response = client.post(f"{API}/interactions/", _call(lead=lead.pk), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["lead"] == lead.pk and response.json()["account"] is None
    response = client.post(
        f"{API}/tasks/", {"title": "报价", "opportunity": opp.pk}, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["account"] == opp.account_id
    response = client.post(f"{API}/interactions/", _call(lead=hidden.pk), content_type="application/json")
    assert response.status_code == 400
    assert "lead" in response.json()["fields"]
    listed = client.get(f"{API}/interactions/?lead={lead.pk}").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [r["lead"] for r in rows] == [lead.pk]


# --- pages ------------------------------------------------------------------------------------


def test_lead_page_offers_log_interaction_and_new_task_and_shows_the_panel(crm: Any, client: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1)
    services.interaction_create(by=crm.rep1, data=_call(lead=lead, subject="首次电话"))
    client.force_login(crm.rep1)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'data-action="log-interaction"' in page and 'data-action="new-task"' in page
    assert f"/activities/interactions/add/?lead={lead.pk}" in page
    assert "首次电话" in page and page.count('data-panel="sales-activities"') == 1
    form = client.get(f"/activities/interactions/add/?lead={lead.pk}").content.decode()
    assert f'name="lead" value="{lead.pk}"' in form
    when = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"/activities/interactions/add/?lead={lead.pk}&next={lead.get_absolute_url()}",
        {"kind": "call", "subject": "第二次电话", "occurred_at": when, "lead": lead.pk},
    )
    assert response.status_code in (200, 302), response.content
    assert Interaction.objects.filter(lead=lead, subject="第二次电话").exists()
    listed = client.get(f"/activities/interactions/?lead={lead.pk}").content.decode()
    assert "第二次电话" in listed


def test_converted_lead_page_has_no_log_action(crm: Any, client: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1, status=LeadStatus.QUALIFIED)
    lead_convert(lead=lead, by=crm.rep1)
    client.force_login(crm.rep1)
    page = client.get(Lead.objects.get(pk=lead.pk).get_absolute_url()).content.decode()
    assert 'data-action="log-interaction"' not in page


def test_no_action_without_the_add_permission(crm: Any, client: Any) -> None:
    grant(crm.role_none, "sales.lead", Action.VIEW, scope=Scope.ALL)
    lead = LeadFactory.create(owner=crm.rep1)
    client.force_login(crm.nobody)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'data-action="log-interaction"' not in page and 'data-action="new-task"' not in page
    assert Opportunity.objects.count() == 0


def test_detail_pages_of_an_activity_on_a_lead(crm: Any, client: Any) -> None:
    lead = LeadFactory.create(owner=crm.rep1)
    interaction = services.interaction_create(by=crm.rep1, data=_call(lead=lead))
    task = services.task_create(by=crm.rep1, data={"title": "发资料", "lead": lead})
    client.force_login(crm.rep1)
    for obj in (interaction, task):
        response = client.get(obj.get_absolute_url())
        assert response.status_code == 200
        assert 'data-field="lead"' in response.content.decode()
        assert lead.get_absolute_url() in response.content.decode()
