"""Forms of the service settings: ticket statuses, types, categories and support mailboxes.
They shape input only; the services in `services/settings.py` validate the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.forms import ServiceFormMixin

from .models import Mailbox, Queue, TicketCategory, TicketStatus, TicketType
from .services.settings import COLOURS

COLOUR_LABELS = {
    "blue": pgettext_lazy("colour", "Blue"),
    "azure": pgettext_lazy("colour", "Azure"),
    "indigo": pgettext_lazy("colour", "Indigo"),
    "purple": pgettext_lazy("colour", "Purple"),
    "pink": pgettext_lazy("colour", "Pink"),
    "red": pgettext_lazy("colour", "Red"),
    "orange": pgettext_lazy("colour", "Orange"),
    "yellow": pgettext_lazy("colour", "Yellow"),
    "lime": pgettext_lazy("colour", "Lime"),
    "green": pgettext_lazy("colour", "Green"),
    "teal": pgettext_lazy("colour", "Teal"),
    "cyan": pgettext_lazy("colour", "Cyan"),
    "secondary": pgettext_lazy("colour", "Grey"),
}


def _colour_choices() -> list[tuple[str, Any]]:
    return [(c, COLOUR_LABELS.get(c, c)) for c in COLOURS]


class TicketStatusForm(ServiceFormMixin, forms.ModelForm):
    colour = forms.ChoiceField(label=_("colour"), choices=_colour_choices)

    class Meta:
        model = TicketStatus
        fields = [
            "name",
            "name_en",
            "code",
            "state",
            "colour",
            "position",
            "is_initial",
            "is_active",
            "next_statuses",
        ]
        widgets = {"next_statuses": forms.SelectMultiple(attrs={"data-tom-select": ""})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "next_statuses" in self.fields:
            qs = TicketStatus.objects.order_by("position", "id")
            if self.instance.pk:
                qs = qs.exclude(pk=self.instance.pk)
            self.fields["next_statuses"].queryset = qs  # type: ignore[attr-defined]
            self.fields["next_statuses"].required = False
            self.fields["next_statuses"].help_text = _("Empty: a ticket may move to any status.")
        self.fields["code"].help_text = _("A short identifier for the API and imports, e.g. in_progress.")

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if "next_statuses" in data:
            data["next_statuses"] = list(data["next_statuses"])
        return data


class TicketTypeForm(ServiceFormMixin, forms.ModelForm):
    shown_fields = forms.MultipleChoiceField(
        label=_("Custom fields shown"),
        required=False,
        widget=forms.SelectMultiple(attrs={"data-tom-select": ""}),
    )
    required_fields = forms.MultipleChoiceField(
        label=_("Custom fields required"),
        required=False,
        widget=forms.SelectMultiple(attrs={"data-tom-select": ""}),
    )

    class Meta:
        model = TicketType
        fields = [
            "name",
            "name_en",
            "code",
            "kind",
            "after_sales_action",
            "requires_order",
            "default_priority",
            "default_queue",
            "statuses",
            "position",
            "is_active",
        ]
        widgets = {"statuses": forms.SelectMultiple(attrs={"data-tom-select": ""})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from kehu.customfields.selectors import custom_fields_for

        choices = [(f.name, str(f)) for f in custom_fields_for("service.ticket")]
        for name, attr in (("shown_fields", "fields"), ("required_fields", "required_fields")):
            if name in self.fields:
                field = self.fields[name]
                stored = list(getattr(self.instance, attr, None) or [])
                known = dict(choices)
                field.choices = [*choices, *[(v, v) for v in stored if v not in known]]  # type: ignore[attr-defined]
                if self.instance.pk:
                    self.initial.setdefault(name, stored)
        if not choices and "shown_fields" in self.fields:
            self.fields["shown_fields"].help_text = _(
                "Define custom fields of tickets under Settings → Custom fields."
            )
        if "statuses" in self.fields:
            self.fields["statuses"].queryset = TicketStatus.objects.order_by("position", "id")  # type: ignore[attr-defined]
            self.fields["statuses"].help_text = _(
                "Empty: all statuses. Otherwise include the initial status."
            )
        if "default_queue" in self.fields:
            qs = Queue.objects.filter(is_active=True)
            if self.instance.default_queue_id:
                qs = Queue.objects.filter(pk=self.instance.default_queue_id) | qs
            self.fields["default_queue"].queryset = qs.order_by("position", "name")  # type: ignore[attr-defined]
        if "after_sales_action" in self.fields:
            self.fields["after_sales_action"].help_text = _("After-sales types only.")

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if "statuses" in data:
            data["statuses"] = list(data["statuses"])
        if "shown_fields" in data:
            data["fields"] = data.pop("shown_fields")
        return data

    def add_domain_error(self, exc: Any) -> None:
        if "fields" in exc.fields:
            exc.fields["shown_fields"] = exc.fields.pop("fields")
        super().add_domain_error(exc)


class TicketCategoryForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = TicketCategory
        fields = ["name", "name_en", "parent", "position", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "parent" in self.fields:
            qs = TicketCategory.objects.filter(parent__isnull=True)
            if self.instance.pk:
                qs = qs.exclude(pk=self.instance.pk)
            self.fields["parent"].queryset = qs.order_by("position", "id")  # type: ignore[attr-defined]
            self.fields["parent"].help_text = _("Empty: a top-level category.")


class MailboxForm(ServiceFormMixin, forms.ModelForm):
    """The password is write-only: never rendered back; left empty, the stored one stays."""

    imap_password = forms.CharField(
        label=_("password"),
        required=False,
        max_length=255,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )
    clear_password = forms.BooleanField(label=_("Remove the stored password"), required=False)

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "email",
            "queue",
            "imap_host",
            "imap_port",
            "imap_ssl",
            "imap_starttls",
            "imap_username",
            "imap_password",
            "imap_folder",
            "processed_folder",
            "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial.pop("imap_password", None)
        if "imap_password" in self.fields:
            if self.instance.pk and self.instance.imap_password:
                self.fields["imap_password"].help_text = _("A password is stored. Leave empty to keep it.")
            else:
                self.fields["imap_password"].help_text = _("Prefer an app password of the mail provider.")
        if not (self.instance.pk and self.instance.imap_password):
            self.fields.pop("clear_password", None)
        if "queue" in self.fields:
            self.fields["queue"].queryset = Queue.objects.order_by("position", "name")  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        # An empty password field is "no change", whatever changed_data says.
        if not self.cleaned_data.get("imap_password"):
            data.pop("imap_password", None)
        else:
            data["imap_password"] = self.cleaned_data["imap_password"]
        if self.cleaned_data.get("clear_password"):
            data["clear_password"] = True
        return data
