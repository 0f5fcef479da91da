"""Forms of queues (服务组), their members, and canned responses (快捷回复)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.forms import ServiceFormMixin

from .forms_tickets import RichTextarea
from .models import BusinessCalendar, CannedResponse, Queue


def _active_users() -> Any:
    return get_user_model().objects.filter(is_active=True).order_by("username")


class QueueForm(ServiceFormMixin, forms.ModelForm):
    members = forms.ModelMultipleChoiceField(
        label=pgettext_lazy("queue", "Members"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"data-tom-select": ""}),
    )

    class Meta:
        model = Queue
        fields = [
            "name",
            "name_en",
            "description",
            "assignment",
            "manager",
            "calendar",
            "email",
            "position",
            "is_active",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "manager": forms.Select(attrs={"data-tom-select": ""}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "manager" in self.fields:
            self.fields["manager"].queryset = _active_users()  # type: ignore[attr-defined]
            self.fields["manager"].help_text = _("Told when a ticket of the queue breaches its SLA.")
        if "calendar" in self.fields:
            calendars = BusinessCalendar.objects.filter(is_active=True).order_by("name")
            self.fields["calendar"].queryset = calendars  # type: ignore[attr-defined]
        if "assignment" in self.fields:
            self.fields["assignment"].help_text = _(
                "Round-robin takes the available members in turn; least loaded takes the one with the "
                "fewest open tickets."
            )
        if self.is_new:
            self.fields["members"].queryset = _active_users()  # type: ignore[attr-defined]
        else:
            del self.fields["members"]  # managed on the queue's page

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if "members" in data:
            data["members"] = list(data["members"])
        return data


class MemberAddForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("User"),
        queryset=get_user_model().objects.none(),
        widget=forms.Select(attrs={"data-tom-select": ""}),
    )

    def __init__(self, *args: Any, queue: Queue, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _active_users().exclude(queue_memberships__queue=queue)  # type: ignore[attr-defined]


class CannedResponseForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = CannedResponse
        fields = ["name", "body", "is_shared", "queue", "is_active"]
        widgets = {"body": RichTextarea(attrs={"rows": 8})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "body" in self.fields:
            self.fields["body"].help_text = _("Placeholders: %(names)s.") % {
                "names": "{{ ticket.number }}, {{ ticket.subject }}, {{ contact.name }}, {{ agent.name }}"
            }
        if "queue" in self.fields:
            self.fields["queue"].queryset = Queue.objects.filter(is_active=True).order_by("position", "name")  # type: ignore[attr-defined]
            self.fields["queue"].help_text = _("Shared with this queue's members only; empty: with everyone.")
        if "is_shared" in self.fields and self.is_new:
            self.initial.setdefault("is_shared", False)
