"""Form helpers shared by every app: field permissions on forms, the optimistic-lock version field,
and the data a form hands to a service.

Forms only shape and validate input; they never save. A view calls a service with
``form.service_data()``.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .checks import CONFIRM_FIELD, is_confirmed
from .choices import FieldMode
from .masking import guess_kind, mask_value
from .permissions import field_modes

# How a form shows a DomainError of a given code, registered by the app that raises it (the
# dedup app shows a collision as its matches and a "save anyway" checkbox): fn(form, exc).
_error_presenters: dict[str, Callable[[Any, Any], None]] = {}


def register_error_presenter(code: str, fn: Callable[[Any, Any], None]) -> None:
    _error_presenters[code] = fn


class ServiceFormMixin:
    """For ModelForms used with services.

    * ``user``: the acting user; fields their field permissions hide are removed, read-only and
      masked ones are disabled (masked ones show the masked value) and never reach the service.
    * ``version``: a hidden field carrying the record's version for optimistic locking.
    * ``service_data()``: the cleaned values a service should apply — every editable field on
      create, only the changed ones on update.
    """

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]
    initial: MutableMapping[str, Any]
    changed_data: list[str]

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        instance = getattr(self, "instance", None)
        self.is_new = instance is None or instance.pk is None
        self.locked_fields: set[str] = set()
        model = getattr(getattr(self, "_meta", None), "model", None)
        if model is not None and user is not None:
            for name, mode in field_modes(user, model).items():
                if name not in self.fields:
                    continue
                if mode == FieldMode.HIDDEN:
                    del self.fields[name]
                    continue
                self.locked_fields.add(name)
                self.fields[name].disabled = True
                self.fields[name].required = False
                if mode == FieldMode.MASKED:
                    current = self.initial.get(name)
                    self.initial[name] = mask_value(current, guess_kind(name)) if current else current
                    self.fields[name].help_text = _("Masked: you may not see or change this value.")
                else:
                    self.fields[name].help_text = _("Read-only for you.")
        # Only records with an optimistic-lock `version` column carry it through the form.
        if not self.is_new and hasattr(instance, "version"):
            self.fields["version"] = forms.IntegerField(
                widget=forms.HiddenInput, required=False, initial=instance.version if instance else None
            )

    def service_data(self) -> dict[str, Any]:
        names = [n for n in self.fields if n not in self.locked_fields and n != "version"]
        if not self.is_new:
            names = [n for n in names if n in self.changed_data]
        return {n: self.cleaned_data[n] for n in names if n in self.cleaned_data}

    @property
    def version(self) -> int | None:
        return self.cleaned_data.get("version") if not self.is_new else None

    @property
    def collisions_confirmed(self) -> bool:
        """The user ticked "save anyway" for the collision warning (``kehu.core.checks``)."""
        data = getattr(self, "data", None) or {}
        return is_confirmed({CONFIRM_FIELD: data.get(self.add_prefix(CONFIRM_FIELD))})  # type: ignore[attr-defined]

    def add_domain_error(self, exc: Any) -> None:
        """Show a DomainError: its field messages on the fields, the message on top (or as its app
        registered, ``register_error_presenter``)."""
        presenter = _error_presenters.get(getattr(exc, "code", ""))
        if presenter is not None:
            presenter(self, exc)
            return
        shown = False
        for name, messages in (getattr(exc, "fields", None) or {}).items():
            for message in messages:
                if name in self.fields:
                    self.add_error(name, message)  # type: ignore[attr-defined]
                    shown = True
        if not shown or not getattr(exc, "fields", None):
            self.add_error(None, str(exc.message))  # type: ignore[attr-defined]


def bootstrap_class(widget: forms.Widget) -> str:
    """The Tabler/Bootstrap class a widget needs."""
    if isinstance(widget, forms.CheckboxInput):
        return "form-check-input"
    if isinstance(widget, forms.RadioSelect | forms.CheckboxSelectMultiple):
        return ""
    if isinstance(widget, forms.Select | forms.SelectMultiple):
        return "form-select"
    return "form-control"


class RemoteSelect(forms.Select):
    """A <select> searched on the server by tom-select (``data-tom-select-url``): only the selected
    option is rendered, so a ModelChoiceField over a million rows does not render a million options.
    Validation still uses the field's (restricted) queryset."""

    def __init__(self, url: str = "", attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"data-tom-select": "", "data-tom-select-url": url, **(attrs or {})})

    def optgroups(self, name: str, value: Any, attrs: dict[str, Any] | None = None) -> list[Any]:
        selected = [str(v) for v in value if v not in (None, "")]
        choices = self.choices
        queryset = getattr(choices, "queryset", None)
        options: list[tuple[Any, Any]] = [("", "---------")]
        if queryset is not None:
            if selected:
                field = choices.field  # type: ignore[attr-defined]
                options += [(o.pk, field.label_from_instance(o)) for o in queryset.filter(pk__in=selected)]
        else:
            options += [(v, label) for v, label in choices if str(v) in selected]
        return [
            (None, [self.create_option(name, v, label, str(v) in selected, i, attrs=attrs)], i)
            for i, (v, label) in enumerate(options)
        ]
