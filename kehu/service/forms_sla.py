"""Forms of the SLA area: an SLA policy with its conditions (priorities, types, customer levels,
accounts, queues), targets in hours and minutes and breach actions; the compliance report's
filters; manual escalation."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.choices import Action

from .choices import TicketPriority
from .forms_dashboard import ReportDateField
from .models import BusinessCalendar, Queue, SLAPolicy, TicketType
from .selectors.sla import GROUPINGS

TARGETS = (
    ("first_response", _("First response within")),
    ("next_response", _("Next response within")),
    ("resolution", _("Resolution within")),
)


class RemoteSelectMultiple(forms.SelectMultiple):
    """A multiple <select> searched on the server by tom-select: only the chosen options render."""

    def __init__(self, url: str = "") -> None:
        super().__init__(attrs={"data-tom-select": "", "data-tom-select-url": url})

    def optgroups(self, name: str, value: Any, attrs: dict[str, Any] | None = None) -> list[Any]:
        selected = [str(v) for v in value if v not in (None, "")]
        queryset = getattr(self.choices, "queryset", None)
        options: list[tuple[Any, Any]] = []
        if queryset is not None and selected:
            field = self.choices.field  # type: ignore[attr-defined]
            options = [(o.pk, field.label_from_instance(o)) for o in queryset.filter(pk__in=selected)]
        return [
            (None, [self.create_option(name, v, label, True, i, attrs=attrs)], i)
            for i, (v, label) in enumerate(options)
        ]


class AccountsField(forms.ModelMultipleChoiceField):
    """Accounts of a condition: those outside the reader's scope (kept on the policy by someone
    who saw them) are offered under a placeholder, never by name, so that saving keeps them."""

    visible_ids: set[int] | None = None

    def label_from_instance(self, obj: Any) -> str:
        if self.visible_ids is not None and obj.pk not in self.visible_ids:
            return SLAPolicyForm.hidden_account_label()
        return str(obj)


def _tom() -> dict[str, str]:
    return {"data-tom-select": ""}


class SLAPolicyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    name_en = forms.CharField(label=_("English name"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    calendar = forms.ModelChoiceField(
        label=_("Business calendar"),
        queryset=BusinessCalendar.objects.filter(is_active=True),
        required=False,
        help_text=_("Empty: the queue's calendar, else the default."),
    )
    # conditions
    priorities = forms.TypedMultipleChoiceField(
        label=_("Priorities"),
        choices=TicketPriority.choices,
        coerce=int,
        required=False,
        widget=forms.SelectMultiple(attrs=_tom()),
        help_text=_("Empty: any."),
    )
    types = forms.ModelMultipleChoiceField(
        label=_("Ticket types"),
        queryset=TicketType.objects.filter(is_active=True),
        required=False,
        widget=forms.SelectMultiple(attrs=_tom()),
        help_text=_("Empty: any."),
    )
    account_levels = forms.MultipleChoiceField(
        label=_("Customer levels"),
        required=False,
        widget=forms.SelectMultiple(attrs=_tom()),
        help_text=_("Empty: any."),
    )
    accounts = AccountsField(
        label=pgettext_lazy("customers", "Accounts"),
        queryset=None,
        required=False,
        help_text=_("Empty: any."),
    )
    queues = forms.ModelMultipleChoiceField(
        label=_("Queues"),
        queryset=Queue.objects.filter(is_active=True),
        required=False,
        widget=forms.SelectMultiple(attrs=_tom()),
        help_text=_("Empty: any."),
    )
    # targets: hours + minutes each
    first_response_hours = forms.IntegerField(label=_("hours"), min_value=0, max_value=10000, required=False)
    first_response_mins = forms.IntegerField(label=_("minutes"), min_value=0, max_value=59, required=False)
    next_response_hours = forms.IntegerField(label=_("hours"), min_value=0, max_value=10000, required=False)
    next_response_mins = forms.IntegerField(label=_("minutes"), min_value=0, max_value=59, required=False)
    resolution_hours = forms.IntegerField(label=_("hours"), min_value=0, max_value=10000, required=False)
    resolution_mins = forms.IntegerField(label=_("minutes"), min_value=0, max_value=59, required=False)
    warn_percent = forms.IntegerField(
        # xgettext:no-python-format
        label=_("Warn at (% of the target used)"),
        min_value=1,
        max_value=99,
        initial=80,
    )
    # breach actions
    notify_manager = forms.BooleanField(label=_("Notify the queue manager"), required=False, initial=True)
    notify_users: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        label=_("Also notify"), queryset=None, required=False, widget=forms.SelectMultiple(attrs=_tom())
    )
    raise_priority_to = forms.TypedChoiceField(
        label=_("Raise priority to"),
        choices=[("", "—"), *TicketPriority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    escalate_to_queue = forms.ModelChoiceField(
        label=_("Reassign to queue"),
        queryset=Queue.objects.filter(is_active=True),
        required=False,
        help_text=_("The ticket moves there unassigned."),
    )

    def __init__(self, *args: Any, user: Any = None, policy: SLAPolicy | None = None, **kwargs: Any) -> None:
        from kehu.customers.models import Account
        from kehu.customfields.selectors import picklist_choices

        if policy is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(policy)
        super().__init__(*args, **kwargs)
        current = (policy.conditions or {}).get("account_levels", []) if policy is not None else []
        levels: Any = self.fields["account_levels"]
        choices = picklist_choices("customer_level", current=current)
        known = {value for value, _label in choices}
        levels.choices = [*choices, *((v, v) for v in current if v not in known)]
        accounts = Account.objects.restrict(user, Action.VIEW) if user is not None else Account.objects.none()
        kept = (policy.conditions or {}).get("accounts", []) if policy is not None else []
        field: Any = self.fields["accounts"]
        if kept:
            field.visible_ids = set(accounts.filter(pk__in=kept).values_list("pk", flat=True))
            accounts = accounts | Account.objects.filter(pk__in=kept)
        field.queryset = accounts
        field.widget = RemoteSelectMultiple(url=str(reverse_lazy("customers:account_autocomplete")))
        field.widget.choices = field.choices
        users: Any = self.fields["notify_users"]
        users.queryset = get_user_model().objects.filter(is_active=True).order_by("username")

    @staticmethod
    def hidden_account_label() -> str:
        """What stands for an account the reader may not see."""
        return str(_("(hidden account)"))

    @staticmethod
    def initial_for(policy: SLAPolicy) -> dict[str, Any]:
        c = policy.conditions or {}
        initial: dict[str, Any] = {
            name: getattr(policy, name)
            for name in ("name", "name_en", "description", "is_active", "warn_percent", "notify_manager")
        }
        initial.update(
            calendar=policy.calendar_id,
            raise_priority_to=policy.raise_priority_to,
            escalate_to_queue=policy.escalate_to_queue_id,
            notify_users=[u.pk for u in policy.notify_users.all()] if policy.pk else [],
            **{
                key: c.get(key, []) for key in ("priorities", "types", "account_levels", "accounts", "queues")
            },
        )
        for metric, _label in TARGETS:
            minutes = getattr(policy, f"{metric}_minutes")
            if minutes is not None:
                initial[f"{metric}_hours"], initial[f"{metric}_mins"] = divmod(minutes, 60)
        return initial

    def target_rows(self) -> list[tuple[Any, Any, Any]]:
        return [(label, self[f"{m}_hours"], self[f"{m}_mins"]) for m, label in TARGETS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for metric, _label in TARGETS:
            hours, mins = data.get(f"{metric}_hours"), data.get(f"{metric}_mins")
            total = (hours or 0) * 60 + (mins or 0)
            data[f"{metric}_minutes"] = total or None
        if not any(data.get(f"{m}_minutes") for m, _l in TARGETS) and not self.errors:
            self.add_error("first_response_hours", _("Give at least one target."))
        return data

    def service_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "name": d["name"],
            "name_en": d.get("name_en") or "",
            "description": d.get("description") or "",
            "is_active": bool(d.get("is_active")),
            "calendar": d.get("calendar"),
            "first_response_minutes": d.get("first_response_minutes"),
            "next_response_minutes": d.get("next_response_minutes"),
            "resolution_minutes": d.get("resolution_minutes"),
            "warn_percent": d["warn_percent"],
            "notify_manager": bool(d.get("notify_manager")),
            "raise_priority_to": d.get("raise_priority_to"),
            "escalate_to_queue": d.get("escalate_to_queue"),
            "notify_users": list(d.get("notify_users") or []),
            "conditions": {
                "priorities": d.get("priorities") or [],
                "types": [t.pk for t in d.get("types") or []],
                "account_levels": d.get("account_levels") or [],
                "accounts": [a.pk for a in d.get("accounts") or []],
                "queues": [q.pk for q in d.get("queues") or []],
            },
        }


class ComplianceFilterForm(forms.Form):
    date_from = ReportDateField(label=_("From"))
    date_to = ReportDateField(label=_("To"))
    group_by = forms.ChoiceField(
        label=_("Per"),
        choices=list(zip(GROUPINGS, (_("Queue"), _("Agent"), _("Priority")), strict=True)),
        required=False,
        initial="queue",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", _("The end comes before the start."))
        return data


class EscalateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    to_queue = forms.ModelChoiceField(
        label=_("Move to queue"), queryset=Queue.objects.filter(is_active=True), required=False
    )
