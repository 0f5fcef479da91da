"""Form fields generated from custom field definitions, and the admin forms of this app.

``CustomFieldsFormMixin`` adds one ``custom__<name>`` form field per active custom field of the
form's model and validates them together through ``services.custom_values_clean``::

    class AccountForm(CustomFieldsFormMixin, ServiceFormMixin, forms.ModelForm):
        class Meta:
            model = Account
            fields = [...]

    form = AccountForm(request.POST or None, instance=account, user=request.user)
    if form.is_valid():
        account_update(account=account, **form.service_data(), by=request.user)  # includes "custom"

* ``form.cleaned_custom``: the record's complete new ``custom`` dict (after ``is_valid()``).
* Field permissions are keyed ``custom.<name>``: hidden → the field is absent; read-only or masked →
  disabled (masked shows the masked value); such fields keep their stored value.
* A plain ``forms.Form`` sets ``custom_fields_model`` and passes ``custom_values=`` (the stored dict,
  None when creating).
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from django import forms
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.core.choices import FieldMode
from kehu.core.errors import DomainError
from kehu.core.masking import mask_value
from kehu.core.permissions import field_modes

from .choices import CHOICE_TYPES, MASKABLE_TYPES, TABLER_COLORS, FieldType
from .display import mask_kind
from .models import CustomField, Picklist, PicklistItem
from .registry import registered_models
from .selectors import custom_fields_for
from .services import FORM_PREFIX, CustomFieldError, custom_values_clean, form_field_name
from .validation import (
    DECIMAL_MAX_PLACES,
    DECIMAL_MAX_WHOLE_DIGITS,
    EMAIL_MAX,
    INT_MAX,
    LONG_TEXT_MAX,
    TEXT_MAX,
    URL_MAX,
    field_items,
    to_python,
)


def _choices(field: CustomField, current: Any) -> list[tuple[str, str]]:
    keep = set(current) if isinstance(current, list) else {current}
    return [(i.value, i.display_label) for i in field_items(field) if i.is_active or i.value in keep]


def build_form_field(field: CustomField, current: Any = None) -> forms.Field:
    """The Django form field for one definition (right widget per type)."""
    common: dict[str, Any] = {
        "label": field.display_label,
        "required": field.required,
        "help_text": field.display_help_text,
    }
    t = field.type
    if t == FieldType.TEXT:
        return forms.CharField(max_length=TEXT_MAX, **common)
    if t == FieldType.LONG_TEXT:
        return forms.CharField(max_length=LONG_TEXT_MAX, widget=forms.Textarea(attrs={"rows": 3}), **common)
    if t == FieldType.INTEGER:
        return forms.IntegerField(min_value=-INT_MAX, max_value=INT_MAX, **common)
    if t == FieldType.DECIMAL:
        return forms.DecimalField(
            max_digits=DECIMAL_MAX_WHOLE_DIGITS + DECIMAL_MAX_PLACES,
            decimal_places=DECIMAL_MAX_PLACES,
            widget=forms.NumberInput(attrs={"step": "any"}),
            **common,
        )
    if t == FieldType.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"), **common)
    if t == FieldType.DATETIME:
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
            **common,
        )
    if t == FieldType.BOOLEAN:
        common["required"] = False
        return forms.BooleanField(**common)
    if t == FieldType.SINGLE_CHOICE:
        return forms.ChoiceField(
            choices=[("", "---------"), *_choices(field, current)],
            widget=forms.Select(attrs={"data-tom-select": ""}),
            **common,
        )
    if t == FieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=_choices(field, current),
            widget=forms.SelectMultiple(attrs={"data-tom-select": ""}),
            **common,
        )
    if t == FieldType.URL:
        return forms.URLField(max_length=URL_MAX, assume_scheme="https", **common)
    if t == FieldType.EMAIL:
        return forms.EmailField(max_length=EMAIL_MAX, **common)
    if t == FieldType.PHONE:
        return forms.CharField(max_length=40, widget=forms.TextInput(attrs={"type": "tel"}), **common)
    raise ValueError(f"unknown custom field type {t!r}")


def initial_value(field: CustomField, stored: Any) -> Any:
    """A stored value as a form initial (datetimes in the current time zone)."""
    value = to_python(field, stored)
    if field.type == FieldType.DATETIME and value is not None:
        return timezone.localtime(value)
    return value


def _next_accepts_user(cls: type, after: type) -> bool:
    """Whether a class after `after` in the MRO (before Django's forms) takes a `user` argument."""
    mro = cls.__mro__
    for klass in mro[mro.index(after) + 1 :]:
        if klass.__module__.startswith("django."):
            return False
        init = klass.__dict__.get("__init__")
        if init is not None and "user" in inspect.signature(init).parameters:
            return True
    return False


class CustomFieldsFormMixin:
    """Adds ``custom__<name>`` fields for the model's active custom fields; see the module doc.

    Put it before ``kehu.core.forms.ServiceFormMixin`` in the bases, so that ``service_data()``
    leaves out the ``custom__*`` fields and adds ``custom``. (In the other order the fields and
    field permissions still work; the form's own ``service_data()`` must then drop ``custom__*`` and
    use ``custom_values()``.)
    """

    custom_fields_model: ClassVar[type[models.Model] | None] = None

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]
    changed_data: list[str]

    def __init__(
        self, *args: Any, user: Any = None, custom_values: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        self.cleaned_custom: dict[str, Any] = {}
        self.custom_definitions: dict[str, CustomField] = {}
        self.custom_locked: set[str] = set()
        self._custom_modes_applied = False
        self._custom_values_arg = custom_values
        if _next_accepts_user(type(self), CustomFieldsFormMixin):
            kwargs["user"] = user
        super().__init__(*args, **kwargs)
        model = self.custom_fields_model or getattr(getattr(self, "_meta", None), "model", None)
        if model is None:
            raise TypeError("CustomFieldsFormMixin needs a ModelForm or `custom_fields_model`")
        self.custom_model: type[models.Model] = model
        instance = getattr(self, "instance", None)
        if custom_values is not None:
            self.custom_stored: dict[str, Any] | None = dict(custom_values)
        elif instance is not None and instance.pk is not None:
            self.custom_stored = dict(getattr(instance, "custom", None) or {})
        else:
            self.custom_stored = None  # creating
        self._add_custom_fields()
        if user is not None and self.user is None:
            self.user = user
        elif self.user is not None:
            self._apply_custom_modes()

    # `user` is a property so that field permissions apply even when a mixin earlier in the MRO
    # (ServiceFormMixin) sets `self.user` only after this __init__ has run.
    @property
    def user(self) -> Any:
        return self.__dict__.get("_custom_user")

    @user.setter
    def user(self, value: Any) -> None:
        self.__dict__["_custom_user"] = value
        if value is not None and "custom_definitions" in self.__dict__ and self.custom_definitions:
            self._apply_custom_modes()

    def _add_custom_fields(self) -> None:
        stored = self.custom_stored or {}
        creating = self.custom_stored is None
        for definition in custom_fields_for(self.custom_model):
            current = stored.get(definition.name)
            if creating and current is None and definition.default is not None:
                current = definition.default
            name = definition.form_field_name
            self.fields[name] = build_form_field(definition, current)
            self.custom_definitions[name] = definition
            if current is not None:
                self.initial.setdefault(name, initial_value(definition, current))  # type: ignore[attr-defined]

    def _apply_custom_modes(self) -> None:
        if self._custom_modes_applied or self.user is None:
            return
        self._custom_modes_applied = True
        modes = field_modes(self.user, self.custom_model)
        stored = self.custom_stored or {}
        for name, definition in list(self.custom_definitions.items()):
            mode = modes.get(definition.key)
            if mode is None:
                continue
            self.custom_locked.add(definition.name)
            if mode == FieldMode.HIDDEN:
                self.fields.pop(name, None)
                self.initial.pop(name, None)  # type: ignore[attr-defined]
                continue
            form_field = self.fields[name]
            form_field.disabled = True
            form_field.required = False
            if mode == FieldMode.MASKED:
                current = stored.get(definition.name)
                shown = ""
                if current is not None:
                    shown = (
                        mask_value(str(current), mask_kind(definition))
                        if definition.type in MASKABLE_TYPES
                        else "****"
                    )
                self.fields[name] = forms.CharField(
                    label=form_field.label,
                    required=False,
                    disabled=True,
                    help_text=_("Masked: you may not see or change this value."),
                )
                self.initial[name] = shown  # type: ignore[attr-defined]
            else:
                form_field.help_text = _("Read-only for you.")

    @property
    def custom_form_fields(self) -> list[Any]:
        """Bound fields of the custom fields, in definition order (for templates)."""
        return [self[name] for name in self.custom_definitions if name in self.fields]  # type: ignore[index]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()  # type: ignore[misc]
        cleaned = cleaned if cleaned is not None else self.cleaned_data
        values: dict[str, Any] = {}
        for name, definition in self.custom_definitions.items():
            if definition.name in self.custom_locked or name not in cleaned:
                continue
            values[definition.name] = cleaned[name]
        # Fields that failed their own form validation already carry an error.
        errors = getattr(self, "_errors", None) or {}
        failed = {d.name for n, d in self.custom_definitions.items() if n in errors}
        try:
            self.cleaned_custom = custom_values_clean(
                model=self.custom_model,
                values=values,
                instance_values=self.custom_stored,
                exclude=self.custom_locked | failed,
            )
        except CustomFieldError as exc:
            self._add_custom_errors(exc)
        return cleaned

    def _add_custom_errors(self, exc: DomainError) -> None:
        for key, messages in exc.fields.items():
            name = form_field_name(key)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)  # type: ignore[attr-defined]

    def custom_changed(self) -> bool:
        return any(name in self.changed_data for name in self.custom_definitions if name in self.fields)

    def custom_values(self) -> dict[str, Any] | None:
        """The record's new ``custom`` dict for the service: on create, or when a custom field changed;
        None when an edit leaves custom fields alone."""
        if self.custom_stored is None or self.custom_changed():
            return self.cleaned_custom
        return None

    def service_data(self) -> dict[str, Any]:
        """The parent's service data without the ``custom__*`` fields, plus ``custom`` when
        ``custom_values()`` has one."""
        parent = getattr(super(), "service_data", None)
        data = dict(parent()) if parent is not None else dict(self.cleaned_data)
        data = {k: v for k, v in data.items() if not k.startswith(FORM_PREFIX)}
        custom = self.custom_values()
        if custom is not None:
            data["custom"] = custom
        return data

    def add_domain_error(self, exc: Any) -> None:
        """A service's DomainError: ``custom.<name>`` keys land on the custom form fields."""
        if isinstance(exc, DomainError) and exc.fields:
            remapped = DomainError(exc.message, code=exc.code, status=exc.status)
            remapped.fields = {form_field_name(k): v for k, v in exc.fields.items()}
            exc = remapped
        parent = getattr(super(), "add_domain_error", None)
        if parent is not None:
            parent(exc)
            return
        shown = False
        for name, messages in (exc.fields or {}).items():
            for message in messages:
                if name in self.fields:
                    self.add_error(name, message)  # type: ignore[attr-defined]
                    shown = True
        if not shown:
            self.add_error(None, str(exc.message))  # type: ignore[attr-defined]


# --- admin forms (definitions and picklists) ---------------------------------------------------


def model_choices() -> list[tuple[str, str]]:
    out = [(m._meta.label_lower, str(m._meta.verbose_name).capitalize()) for m in registered_models()]
    return sorted(out, key=lambda c: c[1])


def _picklist_label(obj: Any) -> str:
    return f"{obj.display_name} ({obj.code})"


class CustomFieldForm(forms.Form):
    """Create/edit a definition. `default` is typed as text and parsed by the field's type."""

    model = forms.ChoiceField(label=_("Model"))
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_(
            "The key in the API, imports and exports (e.g. contract_no). It cannot be changed later."
        ),
    )
    label = forms.CharField(label=_("Label (Chinese)"), max_length=100)
    label_en = forms.CharField(label=_("Label (English)"), max_length=100, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=FieldType.choices)
    picklist = forms.ModelChoiceField(
        label=_("Picklist"),
        queryset=Picklist.objects.none(),
        required=False,
        help_text=_("The list of choices of a single or multiple choice field."),
    )
    required = forms.BooleanField(label=_("Required"), required=False)
    default = forms.CharField(
        label=_("Default value"),
        required=False,
        max_length=500,
        help_text=_("Filled in on new records. For multiple choices, separate values with commas."),
    )
    pattern = forms.CharField(
        label=_("Validation pattern"),
        required=False,
        max_length=500,
        help_text=_("A regular expression the value must match, e.g. ^[A-Z]{2}\\d{6}$."),
    )
    pattern_message = forms.CharField(
        label=_("Pattern error message (Chinese)"), required=False, max_length=200
    )
    pattern_message_en = forms.CharField(
        label=_("Pattern error message (English)"), required=False, max_length=200
    )
    help_text = forms.CharField(label=_("Help text (Chinese)"), required=False, max_length=300)
    help_text_en = forms.CharField(label=_("Help text (English)"), required=False, max_length=300)
    show_in_list = forms.BooleanField(label=_("Show in lists"), required=False)
    filterable = forms.BooleanField(label=_("Filterable"), required=False)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, instance: CustomField | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None:
            kwargs.setdefault("initial", {})
            kwargs["initial"] = {**self.initial_from(instance), **kwargs["initial"]}
        super().__init__(*args, **kwargs)
        model_field = self.fields["model"]
        assert isinstance(model_field, forms.ChoiceField)
        model_field.choices = model_choices()
        picklist_field = self.fields["picklist"]
        assert isinstance(picklist_field, forms.ModelChoiceField)
        picklist_field.queryset = Picklist.objects.order_by("code")
        picklist_field.label_from_instance = _picklist_label  # type: ignore[method-assign]
        if instance is not None:
            for name in ("model", "name"):
                self.fields[name].disabled = True
                self.fields[name].required = False

    @staticmethod
    def initial_from(field: CustomField) -> dict[str, Any]:
        default = field.default
        if isinstance(default, list):
            default = ", ".join(str(v) for v in default)
        elif isinstance(default, bool):
            default = "true" if default else "false"
        return {
            **{
                name: getattr(field, name)
                for name in ("model", "name", "label", "label_en", "type", "required")
            },
            "picklist": field.picklist_id,
            "default": "" if default is None else str(default),
            **{
                name: getattr(field, name)
                for name in (
                    "pattern",
                    "pattern_message",
                    "pattern_message_en",
                    "help_text",
                    "help_text_en",
                    "show_in_list",
                    "filterable",
                    "is_active",
                )
            },
        }

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("type") in CHOICE_TYPES and not cleaned.get("picklist"):
            self.add_error("picklist", _("Choose the picklist that holds the choices."))
        if cleaned.get("type") not in CHOICE_TYPES:
            cleaned["picklist"] = None
        return cleaned

    def service_data(self) -> dict[str, Any]:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("model", "name")}
        data["default"] = data.get("default") or None
        return data


class PicklistForm(forms.ModelForm):
    class Meta:
        model = Picklist
        fields = ["code", "name", "name_en", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("The code cannot change: records and code refer to it.")

    def validate_unique(self) -> None:
        """Uniqueness is the service's job (it answers with a clear message)."""

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in ("name", "name_en", "description")}


class ColorWidget(forms.TextInput):
    template_name = "customfields/widgets/color.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["palette"] = TABLER_COLORS
        return context


class PicklistItemForm(forms.ModelForm):
    class Meta:
        model = PicklistItem
        fields = ["value", "label", "label_en", "color", "is_active"]
        widgets = {"color": ColorWidget}
        help_texts = {
            "value": _("A stable code stored in records and exports (e.g. manufacturing)."),
            "color": _("A palette colour or a hex colour such as #1f77b4."),
        }

    def validate_unique(self) -> None:
        """Uniqueness is the service's job (it answers with a clear message)."""

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in ("value", "label", "label_en", "color", "is_active")}


class FieldRuleInlineForm(forms.Form):
    """One row of the standards page: required, unique and the completeness weight."""

    required = forms.BooleanField(label=_("Required"), required=False)
    unique = forms.BooleanField(label=_("Unique"), required=False)
    weight = forms.IntegerField(label=_("Completeness weight"), min_value=0, max_value=10)

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k] for k in ("required", "unique", "weight")}


class FieldRulePatternForm(forms.Form):
    """The validation pattern of a field and its error message in both languages."""

    pattern = forms.CharField(
        label=_("Validation pattern"),
        required=False,
        max_length=300,
        help_text=_("A regular expression the value must match, e.g. ^[0-9A-Z]{18}$. Leave empty for none."),
    )
    pattern_message = forms.CharField(label=_("Error message (Chinese)"), required=False, max_length=200)
    pattern_message_en = forms.CharField(label=_("Error message (English)"), required=False, max_length=200)

    def service_data(self) -> dict[str, Any]:
        return {k: self.cleaned_data[k].strip() for k in ("pattern", "pattern_message", "pattern_message_en")}
