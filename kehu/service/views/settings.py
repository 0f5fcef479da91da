"""Settings → ticket statuses, ticket types, ticket categories and support mailboxes: lists with
edit/delete in modals (the order statuses' pattern of the commerce app). Configuration records
have no data scope: without the permission, 403. Writes go through `services/settings.py`."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import path
from django.utils.translation import gettext as _

from kehu.core import generic
from kehu.core.choices import Action
from kehu.core.permissions import can

from ..forms_settings import MailboxForm, TicketCategoryForm, TicketStatusForm, TicketTypeForm
from ..models import Mailbox, TicketCategory, TicketStatus, TicketType
from ..services import settings as services
from ..tables_settings import MailboxTable, TicketCategoryTable, TicketStatusTable, TicketTypeTable

# The mail area's "Test connection" button for a mailbox (rendered with `record` / `object`).
MAILBOX_TEST_SLOT = "service/mail/_mailbox_test.html"


def template_exists(name: str) -> bool:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return False
    return True


class _Access:
    """The user must hold `required` on the model (list pages: "change", as the menu asks)."""

    required: ClassVar[str] = Action.CHANGE
    model: ClassVar[type[models.Model]]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if request.user.is_authenticated and not can(request.user, self.model, self.required):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class _SettingsList(_Access, generic.ObjectListView):
    template_name = "service/settings/settings_list.html"

    def get_extra_context(self) -> dict[str, Any]:
        user = self.request.user
        return {
            "breadcrumbs": [(_("Administration"), None), (generic.verbose(self.model, plural=True), None)],
            "row_actions_template": "service/settings/_row_actions.html",
            "edit_url_name": generic.url_name(self.model, "edit"),
            "delete_url_name": generic.url_name(self.model, "delete"),
            "may_change": can(user, self.model, Action.CHANGE),
            "may_delete": can(user, self.model, Action.DELETE),
        }


class _SettingsEdit(_Access, generic.ObjectEditView):
    def get_object(self) -> Any:
        pk = self.kwargs.get("pk")
        if pk is None:
            if not can(self.request.user, self.model, Action.ADD):
                raise PermissionDenied
            return None
        return get_object_or_404(self.model, pk=pk)

    def get_success_url(self, obj: Any) -> str:
        return generic.object_url(self.model, "list") or "/"

    def on_success(self, obj: Any, *, created: bool) -> HttpResponse:
        return generic.success_response(
            self.request, url=self.get_success_url(obj), message=self.success_message(obj, created)
        )


class _SettingsDelete(_Access, generic.ObjectDeleteView):
    required = Action.DELETE

    def get_object(self) -> Any:
        return get_object_or_404(self.model, pk=self.kwargs["pk"])


# --- statuses -----------------------------------------------------------------------------------


class TicketStatusListView(_SettingsList):
    model = TicketStatus
    table_class = TicketStatusTable

    def get_extra_context(self) -> dict[str, Any]:
        context = super().get_extra_context()
        context["description"] = _(
            "A new ticket starts in the initial status and moves only to the statuses its current one "
            "allows (none listed: any). The state tells SLA timers what a status means: waiting on "
            "the customer pauses them, resolved and closed stop them."
        )
        return context


class TicketStatusEditView(_SettingsEdit):
    model = TicketStatus
    form_class = TicketStatusForm

    def save(self, form: TicketStatusForm, obj: TicketStatus | None) -> TicketStatus:
        if obj is None:
            return services.ticketstatus_create(by=self.request.user, data=form.service_data())
        return services.ticketstatus_update(status=obj, by=self.request.user, data=form.service_data())


class TicketStatusDeleteView(_SettingsDelete):
    model = TicketStatus

    def delete(self, obj: TicketStatus) -> None:
        services.ticketstatus_delete(status=obj, by=self.request.user)


# --- types --------------------------------------------------------------------------------------


class TicketTypeListView(_SettingsList):
    model = TicketType
    table_class = TicketTypeTable

    def get_extra_context(self) -> dict[str, Any]:
        context = super().get_extra_context()
        context["description"] = _(
            "A type's kind drives after-sales order links and the complaint count of churn rules. A "
            "type may use its own statuses (they must include the initial one) and show or require "
            "custom fields of tickets."
        )
        return context


class TicketTypeEditView(_SettingsEdit):
    model = TicketType
    form_class = TicketTypeForm

    def save(self, form: TicketTypeForm, obj: TicketType | None) -> TicketType:
        if obj is None:
            return services.tickettype_create(by=self.request.user, data=form.service_data())
        return services.tickettype_update(ticket_type=obj, by=self.request.user, data=form.service_data())


class TicketTypeDeleteView(_SettingsDelete):
    model = TicketType

    def delete(self, obj: TicketType) -> None:
        services.tickettype_delete(ticket_type=obj, by=self.request.user)


# --- categories ---------------------------------------------------------------------------------


class TicketCategoryListView(_SettingsList):
    model = TicketCategory
    table_class = TicketCategoryTable

    def get_queryset(self) -> Any:
        return (
            super()
            .get_queryset()
            .annotate(
                tree_position=Coalesce("parent__position", "position"),
                tree_parent=Coalesce("parent_id", "id"),
                is_child=Case(
                    When(parent__isnull=True, then=Value(0)), default=Value(1), output_field=IntegerField()
                ),
            )
        )

    def get_extra_context(self) -> dict[str, Any]:
        context = super().get_extra_context()
        context["description"] = _("Categories have two levels: a top-level category and its subcategories.")
        return context


class TicketCategoryEditView(_SettingsEdit):
    model = TicketCategory
    form_class = TicketCategoryForm

    def save(self, form: TicketCategoryForm, obj: TicketCategory | None) -> TicketCategory:
        if obj is None:
            return services.ticketcategory_create(by=self.request.user, data=form.service_data())
        return services.ticketcategory_update(category=obj, by=self.request.user, data=form.service_data())


class TicketCategoryDeleteView(_SettingsDelete):
    model = TicketCategory

    def delete(self, obj: TicketCategory) -> None:
        services.ticketcategory_delete(category=obj, by=self.request.user)


# --- mailboxes ----------------------------------------------------------------------------------


class MailboxListView(_SettingsList):
    model = Mailbox
    table_class = MailboxTable

    def get_extra_context(self) -> dict[str, Any]:
        context = super().get_extra_context()
        context["description"] = _(
            "Mail arriving in these inboxes becomes tickets of the mailbox's queue; replies thread into "
            "their tickets. The poller reads each active mailbox every few minutes."
        )
        if template_exists(MAILBOX_TEST_SLOT):
            context["row_slot_template"] = MAILBOX_TEST_SLOT
        return context


class MailboxEditView(_SettingsEdit):
    model = Mailbox
    form_class = MailboxForm

    def save(self, form: MailboxForm, obj: Mailbox | None) -> Mailbox:
        if obj is None:
            return services.mailbox_create(by=self.request.user, data=form.service_data())
        return services.mailbox_update(mailbox=obj, by=self.request.user, data=form.service_data())


class MailboxDeleteView(_SettingsDelete):
    model = Mailbox

    def delete(self, obj: Mailbox) -> None:
        services.mailbox_delete(mailbox=obj, by=self.request.user)


def _crud(prefix: str, name: str, views: tuple[Any, Any, Any]) -> list[Any]:
    listing, edit, delete = views
    return [
        path(f"settings/{prefix}/", listing.as_view(), name=f"{name}_list"),
        path(f"settings/{prefix}/add/", edit.as_view(), name=f"{name}_add"),
        path(f"settings/{prefix}/<int:pk>/edit/", edit.as_view(), name=f"{name}_edit"),
        path(f"settings/{prefix}/<int:pk>/delete/", delete.as_view(), name=f"{name}_delete"),
    ]


urlpatterns = [
    *_crud(
        "ticket-statuses",
        "ticketstatus",
        (TicketStatusListView, TicketStatusEditView, TicketStatusDeleteView),
    ),
    *_crud("ticket-types", "tickettype", (TicketTypeListView, TicketTypeEditView, TicketTypeDeleteView)),
    *_crud(
        "ticket-categories",
        "ticketcategory",
        (TicketCategoryListView, TicketCategoryEditView, TicketCategoryDeleteView),
    ),
    *_crud("mailboxes", "mailbox", (MailboxListView, MailboxEditView, MailboxDeleteView)),
]
