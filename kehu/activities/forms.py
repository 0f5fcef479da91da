"""Edit forms of interactions and tasks: input shape and field validation only; the services save."""

from __future__ import annotations

from typing import Any

from django import forms
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from kehu.core.choices import Action
from kehu.core.forms import RemoteSelect, ServiceFormMixin
from kehu.core.permissions import can
from kehu.customers.models import Account, Contact
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.users.selectors import assignable_users

from .choices import TaskStatus
from .models import Interaction, Task

DATETIME_FORMAT = "%Y-%m-%dT%H:%M"


def datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_FORMAT)


class RemoteSelectMultiple(RemoteSelect, forms.SelectMultiple):
    """The server-searched tom-select picker for several records (no empty choice)."""

    def optgroups(self, name: str, value: Any, attrs: dict[str, Any] | None = None) -> list[Any]:
        groups = [g for g in super().optgroups(name, value, attrs) if g[1][0]["value"] != ""]
        return [(None, options, i) for i, (_n, options, _i) in enumerate(groups)]


def contact_picker(field: Any, *, user: Any, current_ids: list[int], multiple: bool = False) -> None:
    """Make `field` a contact picker over the contacts the user may view (plus the record's current
    ones), searched on the server and narrowed to the form's chosen account."""
    visible = Contact.objects.restrict(user, Action.VIEW)
    if current_ids:
        visible = visible | Contact.objects.filter(pk__in=current_ids)
    field.queryset = visible
    widget_class = RemoteSelectMultiple if multiple else RemoteSelect
    field.widget = widget_class(
        url=str(reverse_lazy("activities:contact_autocomplete")),
        attrs={"data-tom-select-forward": "account"},
    )
    field.widget.choices = field.choices
    key = "invalid_choice" if not multiple else "invalid_pk_value"
    field.error_messages[key] = _("Choose a contact you can see.")
    if multiple:
        field.error_messages["invalid_choice"] = _("Choose a contact you can see.")


class _ActivityForm(ServiceFormMixin, forms.ModelForm):
    """Owner (assignee) only for users who may assign; account and contact pickers over what the
    user may view."""

    owner_label: Any = _("Owner")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model = self._meta.model
        if "owner" in self.fields:
            if self.user is not None and can(self.user, model, Action.ASSIGN):
                field = self.fields["owner"]
                field.queryset = assignable_users().order_by("username")  # type: ignore[attr-defined]
                field.required = False
                field.label = self.owner_label
                field.widget.attrs["data-tom-select"] = ""
                field.help_text = _("Leave empty to keep the current one (yourself for a new record).")
            else:
                del self.fields["owner"]
        instance = self.instance if self.instance.pk else None
        if "account" in self.fields:
            field = self.fields["account"]
            visible = Account.objects.restrict(self.user, Action.VIEW)
            if instance is not None and instance.account_id:
                visible = visible | Account.objects.filter(pk=instance.account_id)
            field.queryset = visible  # type: ignore[attr-defined]
            field.widget = RemoteSelect(url=str(reverse_lazy("customers:account_autocomplete")))
            field.widget.choices = field.choices  # type: ignore[attr-defined]
            field.error_messages["invalid_choice"] = _("Choose an account you can see.")
        if "contact" in self.fields:
            current = [instance.contact_id] if instance is not None and instance.contact_id else []
            contact_picker(self.fields["contact"], user=self.user, current_ids=current)
        self._sales_refs(instance)
        for f in self.fields.values():
            if isinstance(f, forms.DateTimeField):
                f.widget = datetime_input()
                f.input_formats = [DATETIME_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]

    def _sales_refs(self, instance: Any) -> None:
        """The lead and the opportunity: hidden, preset from the page the form was opened on
        (``?lead=12``), over the records the user may view (plus the record's current ones)."""
        from kehu.sales.models import Lead, Opportunity

        for name, model, message in (
            ("lead", Lead, _("Choose a lead you can see.")),
            ("opportunity", Opportunity, _("Choose an opportunity you can see.")),
        ):
            if name not in self.fields:
                continue
            field: Any = self.fields[name]
            visible = model.objects.restrict(self.user, Action.VIEW)
            current_id = getattr(instance, f"{name}_id", None) if instance is not None else None
            if current_id:
                visible = visible | model.objects.filter(pk=current_id)
            field.queryset = visible
            field.widget = forms.HiddenInput()
            field.error_messages["invalid_choice"] = message

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if data.get("owner") is None:
            data.pop("owner", None)
        return data


class InteractionForm(CustomFieldsFormMixin, _ActivityForm):
    class Meta:
        model = Interaction
        fields = [
            "kind",
            "occurred_at",
            "subject",
            "account",
            "contact",
            "lead",
            "opportunity",
            "outcome",
            "direction",
            "duration_minutes",
            "location",
            "participant_contacts",
            "participants",
            "owner",
            "next_follow_up_at",
            "body",
        ]
        widgets = {"body": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["account"].required = False
        self.fields["account"].help_text = _("Leave empty to use the contact's account.")
        if self.initial.get("lead") or getattr(self.instance, "lead_id", None):
            self.fields["account"].help_text = _("A lead has no account until it is converted.")
        if "duration_minutes" in self.fields:
            self.fields["duration_minutes"].widget.attrs["min"] = 0
        if "participant_contacts" in self.fields:
            current = (
                list(self.instance.participant_contacts.values_list("pk", flat=True))
                if self.instance.pk
                else []
            )
            contact_picker(
                self.fields["participant_contacts"], user=self.user, current_ids=current, multiple=True
            )
            self.fields["participant_contacts"].help_text = _("Other people of the account who took part.")
        if "participants" in self.fields:
            field = self.fields["participants"]
            field.queryset = assignable_users().order_by("username")  # type: ignore[attr-defined]
            field.widget.attrs["data-tom-select"] = ""
        if "next_follow_up_at" in self.fields:
            self.fields["next_follow_up_at"].help_text = _("Creates a follow-up task for the owner.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not data.get("account")
            and not data.get("contact")
            and not data.get("lead")
            and not data.get("opportunity")
            and "account" not in self.errors
        ):
            self.add_error("account", _("Choose an account or a contact."))
        when, follow = data.get("occurred_at"), data.get("next_follow_up_at")
        if when and follow and follow <= when:
            self.add_error("next_follow_up_at", _("The next follow-up must be after the interaction."))
        return data


class QuickInteractionForm(InteractionForm):
    """The short form on an account's or contact's Activities tab."""

    class Meta(InteractionForm.Meta):
        fields = [
            "kind",
            "occurred_at",
            "subject",
            "account",
            "contact",
            "outcome",
            "next_follow_up_at",
            "body",
        ]
        widgets = {"body": forms.Textarea(attrs={"rows": 2})}


class TaskForm(_ActivityForm):
    owner_label = _("Assignee")

    class Meta:
        model = Task
        fields = [
            "title",
            "due_at",
            "all_day",
            "priority",
            "status",
            "account",
            "contact",
            "lead",
            "opportunity",
            "owner",
            "remind_before_minutes",
            "recurrence",
            "recurrence_interval",
            "recurrence_until",
            "description",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "recurrence_until": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_new and "status" in self.fields:
            del self.fields["status"]
        for name in ("remind_before_minutes", "recurrence_interval"):
            if name in self.fields:
                self.fields[name].widget.attrs["min"] = 0 if name == "remind_before_minutes" else 1
        if "recurrence_interval" in self.fields:
            self.fields["recurrence_interval"].required = False
        if self.is_new and "remind_before_minutes" in self.fields:
            self.fields["remind_before_minutes"].help_text = _(
                "Empty: your default reminder (notification preferences). 0: at the due time."
            )

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if self.is_new and data.get("remind_before_minutes") is None:
            data.pop("remind_before_minutes", None)  # the assignee's default reminder
        return data

    def clean_recurrence_interval(self) -> int:
        return self.cleaned_data.get("recurrence_interval") or 1

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        due, until = data.get("due_at"), data.get("recurrence_until")
        if due and until and until < due.date():
            self.add_error("recurrence_until", _("“Repeat until” cannot be before the due date."))
        return data


TASK_STATUS_ACTIONS = {
    "complete": TaskStatus.DONE,
    "reopen": TaskStatus.OPEN,
    "cancel": TaskStatus.CANCELLED,
}


def _before_label(minutes: int) -> str:
    if minutes == 0:
        return str(_("At the due time"))
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("%(n)s day before", "%(n)s days before", days) % {"n": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)s hour before", "%(n)s hours before", hours) % {"n": hours}
    return ngettext("%(n)s minute before", "%(n)s minutes before", minutes) % {"n": minutes}


BEFORE_CHOICES = (0, 5, 10, 15, 30, 60, 120, 240, 1440, 2880)


class ReminderDefaultsForm(forms.Form):
    """The default reminder of new tasks (on the notification preferences page)."""

    before_minutes = forms.TypedChoiceField(
        label=_("Tasks with a due time: remind me"),
        coerce=int,
        empty_value=None,
        required=False,
    )
    all_day_at = forms.TimeField(
        label=_("All-day tasks: remind me at"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        input_formats=["%H:%M", "%H:%M:%S"],
        help_text=_("On the task's day, in your time zone. Empty: no reminder."),
    )

    def __init__(self, *args: Any, current: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        values = sorted({*BEFORE_CHOICES, *([current] if current is not None else [])})
        field = self.fields["before_minutes"]
        field.choices = [("", _("No reminder")), *((m, _before_label(m)) for m in values)]  # type: ignore[attr-defined]
