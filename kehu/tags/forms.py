"""The tag picker (tom-select with coloured chips; new names create tags for users who may) and the
forms of the tag settings and static group pages."""

from __future__ import annotations

import hashlib
from typing import Any

from django import forms
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core.choices import Action
from kehu.core.errors import StaleObjectError
from kehu.core.forms import ServiceFormMixin
from kehu.core.permissions import can

from . import registry
from .choices import TagColour
from .models import StaticGroup, Tag, TagGroup
from .selectors import applicable_tags, tags_of

NEW_PREFIX = "new:"


class TagPickerWidget(forms.SelectMultiple):
    """``<select multiple data-kehu-tag-picker>`` enhanced by ``tags/tag-picker.js``."""

    template_name = "tags/widgets/tag_picker.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"data-kehu-tag-picker": "", "class": "form-select", **(attrs or {})})
        self.colours: dict[str, str] = {}

    def create_option(
        self,
        name: str,
        value: Any,
        label: int | str,
        selected: bool,
        index: int,
        subindex: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        colour = self.colours.get(str(value), TagColour.BLUE)
        option["attrs"]["data-colour"] = colour
        return option


class TagsField(forms.MultipleChoiceField):
    """Tag ids, or ``new:<name>`` for a tag to create (only offered to users who may add tags).
    Cleans to a list of ints and names, what `kehu.tags.services.tags_set` takes."""

    widget = TagPickerWidget

    def __init__(
        self, *, model: Any = None, user: Any = None, current: list[Tag] | None = None, **kwargs: Any
    ):
        kwargs.setdefault("label", _("Tags"))
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.model_label = registry.label_of(model) if model is not None else ""
        self.may_create = bool(user is not None and can(user, Tag, Action.ADD))
        tags = applicable_tags(self.model_label) if self.model_label else []
        known = {t.pk: t for t in tags}
        for tag in current or []:
            known.setdefault(tag.pk, tag)  # an inactive tag already on the record stays choosable
        self.tags = list(known.values())
        self.choices = [(str(t.pk), f"{t.group.name} · {t.name}" if t.group else t.name) for t in self.tags]
        widget = self.widget
        assert isinstance(widget, TagPickerWidget)
        widget.colours = {str(t.pk): t.colour for t in self.tags}
        widget.attrs["data-create"] = "1" if self.may_create else ""
        widget.attrs["data-create-label"] = str(_("Create tag"))
        if self.model_label:
            widget.attrs["data-url"] = reverse("tags:autocomplete") + f"?model={self.model_label}"
        if self.may_create:
            self.help_text = _("Type to search; press Enter to create a new tag.")

    def valid_value(self, value: Any) -> bool:
        text = str(value)
        if text.startswith(NEW_PREFIX):
            return self.may_create and bool(text[len(NEW_PREFIX) :].strip())
        return text.isdigit() and (super().valid_value(text) or self._is_applicable(int(text)))

    def _is_applicable(self, pk: int) -> bool:
        tag = Tag.objects.select_related("group").filter(pk=pk, is_active=True).first()
        return tag is not None and tag.applies_to(self.model_label)

    def clean(self, value: Any) -> list[int | str]:
        values = super().clean(value)
        out: list[int | str] = []
        for v in values:
            text = str(v)
            out.append(text[len(NEW_PREFIX) :].strip() if text.startswith(NEW_PREFIX) else int(text))
        return out


class TagsFormMixin:
    """Adds a ``tags`` picker to a record's ModelForm (with `ServiceFormMixin`). A create service
    that takes ``tags=`` gets them from `new_tags()` (written as the creator's, before assignment
    rules may hand the record to someone else); an edit saves them after the record's own service,
    in the same transaction::

        with transaction.atomic():
            if obj is None:
                obj = services.account_create(..., data=form.service_data(), tags=form.new_tags())
            else:
                obj = services.account_update(..., data=form.service_data())
                form.save_tags(obj)

    `service_data()` leaves ``tags`` out, so the record's service never sees it in ``data``."""

    fields: dict[str, forms.Field]
    cleaned_data: dict[str, Any]
    changed_data: list[str]
    user: Any
    is_new: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = getattr(self, "instance", None)
        model = self._meta.model  # type: ignore[attr-defined]
        current = tags_of(instance) if instance is not None and instance.pk else []
        self.fields["tags"] = TagsField(model=model, user=self.user, current=current)
        if current:
            self.initial["tags"] = [str(t.pk) for t in current]  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data: dict[str, Any] = super().service_data()  # type: ignore[misc]
        data.pop("tags", None)
        return data

    def new_tags(self) -> list[int | str] | None:
        """The tags chosen for a new record (None: none), for its create service's ``tags=``."""
        if not self.is_new or "tags" not in self.fields:
            return None
        return list(self.cleaned_data.get("tags") or []) or None

    def save_tags(self, obj: Any) -> None:
        from .services import tags_set

        if "tags" not in self.fields:
            return
        if not self.is_new and "tags" not in self.changed_data:
            return
        tags = self.cleaned_data.get("tags") or []
        if self.is_new and not tags:
            return
        tags_set(obj=obj, tags=tags, by=self.user)


# --- settings pages --------------------------------------------------------------------------


class ColourSelect(forms.RadioSelect):
    template_name = "tags/widgets/colour_select.html"


SNAPSHOT_SALT = "kehu.tags.settings-snapshot"


class _SettingsForm(ServiceFormMixin, forms.ModelForm):
    """Tags and tag groups are edited with an optimistic lock (the hidden ``version``): a save
    started from an older version is refused, and the form says which fields someone else changed
    meanwhile (a signed ``snapshot`` of what the user saw, like the account form)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_new:
            self.fields["snapshot"] = forms.CharField(widget=forms.HiddenInput, required=False)
            self.initial["snapshot"] = signing.dumps(self._snapshot(self.instance), salt=SNAPSHOT_SALT)

    def _snapshot(self, obj: Any) -> dict[str, str]:
        out = {}
        for name in self._meta.fields or ():
            raw = str(type(obj)._meta.get_field(name).value_from_object(obj))
            out[name] = hashlib.sha256(raw.encode()).hexdigest()[:12]
        return out

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data.pop("snapshot", None)
        return data

    def add_domain_error(self, exc: Any) -> None:
        super().add_domain_error(exc)
        if isinstance(exc, StaleObjectError) and not self.is_new:
            labels = self.changed_meanwhile()
            if labels:
                self.add_error(None, _("Changed meanwhile: %(fields)s.") % {"fields": ", ".join(labels)})

    def changed_meanwhile(self) -> list[str]:
        """Labels of the fields whose value changed since the user opened the form."""
        try:
            seen = signing.loads(
                self.data.get(self.add_prefix("snapshot"), ""), salt=SNAPSHOT_SALT, max_age=86400
            )
        except signing.BadSignature:
            return []
        model = self._meta.model
        fresh = model._default_manager.filter(pk=self.instance.pk).first()
        if fresh is None or not isinstance(seen, dict):
            return []
        now = self._snapshot(fresh)
        return [
            str(self.fields[name].label if name in self.fields else name)
            for name in now
            if name in seen and seen[name] != now[name]
        ]


class TagForm(_SettingsForm):
    class Meta:
        model = Tag
        fields = ["name", "group", "colour", "description", "is_active"]
        widgets = {"colour": ColourSelect, "description": forms.TextInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = TagGroup.objects.all()  # type: ignore[attr-defined]
        self.fields["group"].empty_label = _("(no group)")  # type: ignore[attr-defined]


class TagGroupForm(_SettingsForm):
    model_labels = forms.MultipleChoiceField(
        label=_("Applies to"),
        required=False,
        choices=registry.model_choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Leave empty for every kind of record."),
    )

    class Meta:
        model = TagGroup
        fields = ["name", "colour", "exclusive", "model_labels", "description"]
        widgets = {"colour": ColourSelect, "description": forms.TextInput}


class TagMergeForm(forms.Form):
    target = forms.ModelChoiceField(
        label=_("Merge into"), queryset=Tag.objects.none(), widget=forms.Select(attrs={"data-tom-select": ""})
    )

    def __init__(self, *args: Any, source: Tag, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].queryset = Tag.objects.exclude(pk=source.pk).select_related("group")  # type: ignore[attr-defined]


class StaticGroupForm(ServiceFormMixin, forms.ModelForm):
    model = forms.ChoiceField(label=_("Records"), choices=())

    class Meta:
        model = StaticGroup
        fields = ["name", "model", "description", "is_shared"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.is_new:
            self.fields["model"].choices = [  # type: ignore[attr-defined]
                (label, name)
                for label, name in registry.model_choices()
                if self.user is not None and can(self.user, registry.get_model(label), Action.VIEW)  # type: ignore[arg-type]
            ]
        else:
            del self.fields["model"]


class AddToGroupForm(forms.Form):
    """ "Add to group" from a record: one of the user's own groups of the model, or a new one."""

    group = forms.ModelChoiceField(label=_("Group"), queryset=StaticGroup.objects.none(), required=False)
    new_name = forms.CharField(label=_("or a new group"), max_length=100, required=False)

    def __init__(self, *args: Any, user: Any, model: Any, **kwargs: Any) -> None:
        from .selectors import static_groups_manageable

        super().__init__(*args, **kwargs)
        self.fields["group"].queryset = static_groups_manageable(user, model)  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("group") and not (data.get("new_name") or "").strip():
            raise forms.ValidationError(_("Choose a group or name a new one."))
        return data
