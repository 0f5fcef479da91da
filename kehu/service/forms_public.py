"""Forms of the customer-facing ticket pages: the web form (with a honeypot field and a signed
start time) and the status page's reply. Uploaded files are checked here against the ticket
attachment limits (``services.tickets.check_attachment``) so that bad files are field errors."""

from __future__ import annotations

import time
from typing import Any, cast

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from .models import TicketType
from .selectors.public import public_ticket_types
from .services.common import ServiceError
from .services.tickets import NewAttachment, check_attachment

MAX_FILES = 5
STARTED_SALT = "service.web-form-started"
STARTED_MAX_AGE = 24 * 3600  # seconds a shown form stays good
HONEYPOT = "website"


def started_token(at: float | None = None) -> str:
    return signing.dumps(int(at if at is not None else time.time()), salt=STARTED_SALT)


def started_seconds_ago(token: str) -> float | None:
    """Seconds since the form was shown, or None when the token is missing, forged or older than
    STARTED_MAX_AGE."""
    try:
        value = int(signing.loads(token or "", salt=STARTED_SALT, max_age=STARTED_MAX_AGE))
    except (signing.BadSignature, TypeError, ValueError):
        return None
    return time.time() - value


def started_expired(token: str) -> bool:
    """Whether the token is genuine but older than STARTED_MAX_AGE (the page stayed open too long:
    the visitor is told to reload it, it is not taken for spam)."""
    try:
        signing.loads(token or "", salt=STARTED_SALT, max_age=STARTED_MAX_AGE)
    except signing.SignatureExpired:
        return True
    except (signing.BadSignature, TypeError, ValueError):
        return False
    return False


def _uploads(form: forms.Form, name: str = "attachments") -> list[NewAttachment]:
    files = form.files.getlist(name) if form.files else []
    if len(files) > MAX_FILES:
        form.add_error(name, _("Attach at most %(n)s files.") % {"n": MAX_FILES})
        return []
    out = []
    for upload in files:
        item = NewAttachment(
            name=upload.name or "file", content=upload.read(), content_type=upload.content_type or ""
        )
        try:
            check_attachment(item)
        except ServiceError as exc:
            for message in exc.fields.get("attachments", [str(exc.message)]):
                form.add_error(name, message)
            continue
        out.append(item)
    return out


def attachment_help() -> str:
    from django.conf import settings
    from django.template.defaultfilters import filesizeformat

    types = ", ".join(str(t).lstrip(".") for t in getattr(settings, "KEHU_ATTACHMENT_TYPES", []))
    size = filesizeformat(getattr(settings, "KEHU_ATTACHMENT_MAX_BYTES", 0))
    return str(
        _("Up to %(n)s files of at most %(size)s each (%(types)s).")
        % {"n": MAX_FILES, "size": size, "types": types}
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; the view reads them from request.FILES."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True}))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        return None  # checked in the form's clean (each file against the attachment limits)


class WebTicketForm(forms.Form):
    name = forms.CharField(label=_("Your name"), max_length=200, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    type: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("What is it about?"), queryset=TicketType.objects.none(), empty_label=None
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(
        label=_("Description"), max_length=20000, widget=forms.Textarea(attrs={"rows": 7})
    )
    attachments = MultipleFileField(label=_("Attachments"))
    # Spam protection: people do not see this field (hidden by CSS, skipped by keyboards).
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    started = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        types = public_ticket_types()
        type_field = self.fields["type"]
        assert isinstance(type_field, forms.ModelChoiceField)
        type_field.queryset = types
        first = types.first()
        if first is not None:
            type_field.initial = first.pk
        if not self.is_bound:
            self.initial["started"] = started_token()
        self.fields["attachments"].help_text = attachment_help()
        self.uploads: list[NewAttachment] = []

    @property
    def is_spam(self) -> bool:
        """The honeypot is filled, or the form came back faster than a person types."""
        from django.conf import settings

        if str(self.data.get(HONEYPOT, "") or "").strip():
            return True
        if self.expired:
            return False  # a form error (`clean`), not spam
        minimum = float(getattr(settings, "KEHU_WEB_FORM_MIN_SECONDS", 3))
        if minimum <= 0:
            return False
        ago = started_seconds_ago(str(self.data.get("started", "") or ""))
        return ago is None or ago < minimum

    @property
    def expired(self) -> bool:
        """The form was shown more than STARTED_MAX_AGE ago."""
        return self.is_bound and started_expired(str(self.data.get("started", "") or ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.expired:
            self.add_error(None, _("The form expired, please reload the page."))
            # The page shown again starts anew: sending it once more is accepted.
            fresh = cast(Any, self.data).copy()  # a QueryDict (or a dict)
            fresh["started"] = started_token()
            self.data = fresh
            return data
        self.uploads = _uploads(self)
        return data


class PublicReplyForm(forms.Form):
    body = forms.CharField(
        label=_("Your reply"), max_length=20000, required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.uploads: list[NewAttachment] = []
        self.fields["attachments"].help_text = attachment_help()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self.uploads = _uploads(self)
        if not str(data.get("body") or "").strip() and not self.uploads and "attachments" not in self.errors:
            self.add_error("body", _("Write a message."))
        return data
