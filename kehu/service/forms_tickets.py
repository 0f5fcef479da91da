"""Forms of the ticket page: the new-ticket / edit form, the reply box and the small action forms
(assign, move, merge, split, escalate). Forms only shape and validate input; the views call the
ticket services."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.catalog.models import Product
from kehu.commerce.models import Order, OrderLine
from kehu.core.choices import Action
from kehu.core.forms import RemoteSelect, ServiceFormMixin
from kehu.customers.models import Account, Contact
from kehu.customfields.forms import CustomFieldsFormMixin
from kehu.tags.forms import TagsFormMixin

from .models import Queue, Ticket, TicketCategory, TicketMessage, TicketStatus, TicketType
from .services.tickets import NewAttachment

MAX_FILES = 10


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list of uploads (empty: none)."""

    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        items = data if isinstance(data, list | tuple) else [data] if data else []
        items = [f for f in items if f]
        if len(items) > MAX_FILES:
            raise forms.ValidationError(_("At most %(n)d files at once.") % {"n": MAX_FILES})
        return [super(MultipleFileField, self).clean(f, initial) for f in items]


def new_attachments(files: list[Any], *, public: bool = True) -> list[NewAttachment]:
    """Uploads as the services' `NewAttachment` (the service checks type and size)."""
    return [
        NewAttachment(
            name=f.name,
            content=f.read(),
            content_type=getattr(f, "content_type", "") or "",
            is_public=public,
        )
        for f in files
    ]


def active_users() -> Any:
    return get_user_model().objects.filter(is_active=True).order_by("username")


class RichTextarea(forms.Textarea):
    """The HTML source of a rich-text field; ``service/tickets/_reply_editor.html`` puts a toolbar
    and an editable area over it (without JavaScript the textarea stays usable)."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"rows": 6, "data-kehu-richtext": "", **(attrs or {})})


class TicketForm(CustomFieldsFormMixin, TagsFormMixin, ServiceFormMixin, forms.ModelForm):
    """A new ticket, or the edit of one (optimistic lock: the hidden `version`).

    Custom fields are the ticket's custom fields (kehu.customfields); the page shows those the
    chosen type lists (`TicketType.fields`) and requires `TicketType.required_fields`. An
    after-sales type needs its order; the order's lines come as ``line_<id>`` quantities."""

    assignee = forms.ModelChoiceField(
        label=pgettext_lazy("ticket", "Assignee"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.Select(attrs={"data-tom-select": ""}),
        help_text=_("Empty: the queue's automatic assignment (if any)."),
    )
    watchers = forms.ModelMultipleChoiceField(
        label=_("Watchers"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"data-tom-select": ""}),
    )
    attachments = MultipleFileField(label=_("Attachments"))

    class Meta:
        model = Ticket
        fields = [
            "type",
            "subject",
            "description",
            "account",
            "contact",
            "requester_name",
            "requester_email",
            "requester_phone",
            "order",
            "product",
            "channel",
            "priority",
            "category",
            "queue",
        ]
        widgets = {"description": RichTextarea()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.user
        instance = self.instance if self.instance.pk else None

        def visible(model: Any, name: str) -> Any:
            qs = model.objects.restrict(user, Action.VIEW) if user is not None else model.objects.none()
            current = getattr(instance, f"{name}_id", None) if instance is not None else None
            return qs | model.objects.filter(pk=current) if current else qs

        pickers = (
            ("account", Account, "customers:account_autocomplete"),
            ("contact", Contact, "activities:contact_autocomplete"),
            ("product", Product, "commerce:quote_product_autocomplete"),
            ("order", Order, "service:ticket_order_autocomplete"),
        )
        for name, model, url_name in pickers:
            if name not in self.fields:
                continue
            field = self.fields[name]
            field.queryset = visible(model, name)  # type: ignore[attr-defined]
            # contacts and orders: those of the chosen account (tom-select forwards its value)
            forward = {"data-tom-select-forward": "account"} if name in ("contact", "order") else None
            field.widget = RemoteSelect(url=str(reverse_lazy(url_name)), attrs=forward)
            field.widget.choices = field.choices  # type: ignore[attr-defined]
        types = TicketType.objects.filter(is_active=True)
        if instance is not None:
            types = types | TicketType.objects.filter(pk=instance.type_id)
        if "type" in self.fields:
            self.fields["type"].queryset = types.order_by("position", "id")  # type: ignore[attr-defined]
            if instance is None and not self.initial.get("type"):
                first = types.order_by("position", "id").first()
                self.initial["type"] = first.pk if first is not None else None
            self.fields["type"].widget.attrs["data-ticket-type"] = ""
            self.fields["type"].required = True
        if "category" in self.fields:
            self.fields["category"].queryset = TicketCategory.objects.filter(is_active=True)  # type: ignore[attr-defined]
        if "queue" in self.fields:
            queues = Queue.objects.filter(is_active=True)
            if instance is not None and instance.queue_id:
                queues = queues | Queue.objects.filter(pk=instance.queue_id)
            self.fields["queue"].queryset = queues  # type: ignore[attr-defined]
        users = active_users()
        if instance is not None and instance.assignee_id:
            users = users | get_user_model().objects.filter(pk=instance.assignee_id)
        self.fields["assignee"].queryset = users  # type: ignore[attr-defined]
        self.fields["watchers"].queryset = active_users()  # type: ignore[attr-defined]
        if instance is not None:
            self.initial.setdefault("assignee", instance.assignee_id)
            self.initial.setdefault(
                "watchers", list(instance.watcher_links.values_list("user_id", flat=True))
            )
            self.fields["assignee"].help_text = ""
            del self.fields["attachments"]
        if "description" in self.fields and instance is not None:
            self.fields["description"].help_text = _(
                "The first message of the conversation is kept as it was."
            )
        self.types = {str(t.pk): t for t in self.fields["type"].queryset} if "type" in self.fields else {}  # type: ignore[attr-defined]
        self.order_line_values: list[dict[str, Any]] = []

    # --- type-dependent custom fields and order lines ---------------------------------------

    def chosen_type(self) -> TicketType | None:
        raw = self.data.get(self.add_prefix("type")) if self.is_bound else self.initial.get("type")
        if raw in (None, "") and self.instance.pk:
            return self.instance.type
        if isinstance(raw, TicketType):
            return raw
        return self.types.get(str(raw)) if raw not in (None, "") else None

    def custom_field_types(self) -> dict[str, list[str]]:
        """custom__<name> → the type ids showing it (empty list: shown for every type)."""
        out: dict[str, list[str]] = {}
        for form_name, definition in self.custom_definitions.items():
            out[form_name] = [pk for pk, t in self.types.items() if definition.name in (t.fields or [])]
            if not any(t.fields for t in self.types.values()):
                out[form_name] = []
        return out

    def custom_field_required(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for form_name, definition in self.custom_definitions.items():
            out[form_name] = [
                pk for pk, t in self.types.items() if definition.name in (t.required_fields or [])
            ]
        return out

    def custom_rows(self) -> list[dict[str, Any]]:
        """The custom fields with the type ids that show / require them (for the template)."""
        shows, needs = self.custom_field_types(), self.custom_field_required()
        return [
            {
                "field": bf,
                "types": " ".join(shows.get(bf.name, [])),
                "required_for": " ".join(needs.get(bf.name, [])),
            }
            for bf in self.custom_form_fields
        ]

    def order_lines_of(self, order: Order | None) -> list[OrderLine]:
        if order is None:
            return []
        return list(
            OrderLine.objects.filter(order=order).select_related("product").order_by("position", "id")
        )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        ticket_type = cleaned.get("type") or (self.instance.type if self.instance.pk else None)
        if ticket_type is not None:
            for name in ticket_type.required_fields or []:
                form_name = f"custom__{name}"
                if form_name in self.fields and not self.fields[form_name].disabled:
                    value = cleaned.get(form_name)
                    if value in (None, "", [], False) and form_name not in self.errors:
                        self.add_error(form_name, _("This field is required for this ticket type."))
            if ticket_type.requires_order and not cleaned.get("order") and "order" not in self.errors:
                self.add_error("order", _("A ticket of this type needs the order it concerns."))
        order = cleaned.get("order")
        lines: list[dict[str, Any]] = []
        if order is not None and ticket_type is not None and ticket_type.after_sales_action and self.is_new:
            for line in self.order_lines_of(order):
                raw = str(self.data.get(f"line_{line.pk}", "") or "").strip()
                if not raw:
                    continue
                try:
                    quantity = Decimal(raw)
                except InvalidOperation:
                    quantity = None
                # "NaN" and "Infinity" parse as decimals; NaN cannot even be compared.
                if quantity is None or not quantity.is_finite() or quantity < 0 or quantity > line.quantity:
                    self.add_error(
                        None, _("The quantity must be more than 0 and at most the quantity ordered.")
                    )
                    self.order_line_errors = True
                    continue
                if quantity > 0:
                    lines.append({"order_line": line, "quantity": quantity})
        self.order_line_values = lines
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        for name in ("assignee", "watchers", "attachments"):
            data.pop(name, None)
        return data

    def add_domain_error(self, exc: Any) -> None:
        fields = dict(getattr(exc, "fields", None) or {})
        renamed = {(f"custom__{k[7:]}" if k.startswith("custom.") else k): v for k, v in fields.items()}
        if "order_lines" in renamed:
            renamed["order"] = renamed.pop("order_lines")
        if renamed != fields:
            exc.fields = renamed
        super().add_domain_error(exc)


class ReplyForm(forms.Form):
    """The reply box: a reply to the customer (e-mailed when the ticket has an address) or an
    internal note; `status` is where the ticket goes after sending (empty: keep)."""

    KIND_REPLY = "reply"
    KIND_NOTE = "note"

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[(KIND_REPLY, _("Reply to customer")), (KIND_NOTE, _("Internal note"))],
        initial=KIND_REPLY,
        widget=forms.RadioSelect,
    )
    body = forms.CharField(label=_("Message"), required=False, widget=RichTextarea(attrs={"rows": 5}))
    cc = forms.CharField(
        label=_("Cc"), required=False, max_length=1000, help_text=_("E-mail addresses, separated by commas.")
    )
    status = forms.ModelChoiceField(
        label=_("Status after sending"),
        queryset=TicketStatus.objects.none(),
        required=False,
        empty_label=pgettext_lazy("status after sending", "Keep the current status"),
    )
    articles = forms.CharField(required=False, widget=forms.HiddenInput)
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args: Any, statuses: list[TicketStatus] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ids = [s.pk for s in statuses or []]
        self.fields["status"].queryset = TicketStatus.objects.filter(pk__in=ids)  # type: ignore[attr-defined]

    def clean_cc(self) -> str:
        raw = self.cleaned_data.get("cc") or ""
        parts = [p.strip() for p in raw.replace(";", ",").split(",") if p.strip()]
        validator = forms.EmailField()
        for part in parts:
            try:
                validator.clean(part)
            except forms.ValidationError as exc:
                raise forms.ValidationError(
                    _("“%(value)s” is not an e-mail address.") % {"value": part}
                ) from exc
        return ", ".join(parts)

    def clean_articles(self) -> list[int]:
        raw = self.cleaned_data.get("articles") or ""
        return sorted({int(p) for p in raw.split(",") if p.strip().isdigit()})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or self.cleaned_data
        from kehu.core.richtext import html_to_text

        body = cleaned.get("body") or ""
        if not html_to_text(body).strip() and "<img" not in body and not cleaned.get("attachments"):
            self.add_error("body", _("Write a message."))
        return cleaned

    @property
    def is_note(self) -> bool:
        return self.cleaned_data.get("kind") == self.KIND_NOTE


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=pgettext_lazy("ticket", "Assignee"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.Select(attrs={"data-tom-select": ""}),
        help_text=_("Empty: nobody."),
    )
    queue = forms.ModelChoiceField(label=_("Queue"), queryset=Queue.objects.none(), required=False)
    auto = forms.BooleanField(label=_("Let the queue's assignment choose"), required=False)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = active_users()
        if ticket.queue_id and ticket.queue is not None and ticket.queue.memberships.exists():
            users = users.filter(queue_memberships__queue_id=ticket.queue_id)
        self.fields["assignee"].queryset = users  # type: ignore[attr-defined]
        self.fields["queue"].queryset = Queue.objects.filter(is_active=True)  # type: ignore[attr-defined]
        self.initial.setdefault("assignee", ticket.assignee_id)
        self.initial.setdefault("queue", ticket.queue_id)


class MoveForm(forms.Form):
    status = forms.ModelChoiceField(label=_("New status"), queryset=TicketStatus.objects.none())
    note = forms.CharField(
        label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, statuses: list[TicketStatus], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].queryset = TicketStatus.objects.filter(pk__in=[s.pk for s in statuses])  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class MergeForm(forms.Form):
    target = forms.ModelChoiceField(
        label=_("Merge into"),
        queryset=Ticket.objects.none(),
        help_text=_("This ticket is closed; its messages, attachments and watchers move to the chosen one."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args: Any, ticket: Ticket, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = (
            Ticket.objects.restrict(user, Action.CHANGE)
            .exclude(pk=ticket.pk)
            .filter(merged_into__isnull=True)
        )
        if ticket.account_id:
            qs = qs.filter(account_id=ticket.account_id)
        self.fields["target"].queryset = qs.order_by("-id")  # type: ignore[attr-defined]
        self.fields["target"].widget = RemoteSelect(
            url=str(reverse_lazy("service:ticket_merge_targets", args=[ticket.pk]))
        )
        self.fields["target"].widget.choices = self.fields["target"].choices  # type: ignore[attr-defined]


class SplitForm(forms.Form):
    messages = forms.ModelMultipleChoiceField(
        label=_("Messages for the new ticket"),
        queryset=TicketMessage.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    subject = forms.CharField(label=_("Subject of the new ticket"), required=False, max_length=255)

    def __init__(self, *args: Any, ticket: Ticket, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from .choices import MessageKind

        qs = ticket.messages.filter(kind=MessageKind.CUSTOMER).order_by("created_at", "id")
        field: Any = self.fields["messages"]
        field.queryset = qs
        field.label_from_instance = lambda m: (
            f"{m.created_at:%Y-%m-%d %H:%M} · {m.from_name or m.from_email} · {m.body_text[:80]}"
        )


class EscalateForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    to_queue = forms.ModelChoiceField(
        label=_("Move to queue"),
        queryset=Queue.objects.none(),
        required=False,
        help_text=_("Empty: stays in its queue; its manager is told."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_queue"].queryset = Queue.objects.filter(is_active=True)  # type: ignore[attr-defined]
