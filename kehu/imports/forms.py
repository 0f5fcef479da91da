"""Forms of the import wizard: they shape the input of each step; the services check the rules."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from kehu.core.forms import ServiceFormMixin

from . import mapping as m
from . import transforms as t
from .choices import DuplicateAction, ImportMode, OwnerMode
from .parsing import DELIMITERS, ENCODINGS, encoding_label

DELIMITER_LABELS = {
    ",": _("Comma ( , )"),
    "\t": _("Tab"),
    ";": _("Semicolon ( ; )"),
    "|": _("Vertical bar ( | )"),
}


class WizardForm(ServiceFormMixin, forms.Form):
    """A plain form that shows a service's DomainError (`add_domain_error`)."""


class UploadForm(WizardForm):
    target = forms.ChoiceField(label=_("Record type"))
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV, TSV, Excel (.xlsx) or vCard (.vcf). The encoding, delimiter and header row are detected."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.tsv,.txt,.tab,.xlsx,.xlsm,.vcf,.vcard"}),
    )

    def __init__(self, *args: Any, targets: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["target"]).choices = [(v, str(label).capitalize()) for v, label in targets]


class ReadForm(WizardForm):
    """Overrides of how the file is read (step 1: "detected … change?")."""

    encoding = forms.ChoiceField(label=_("Encoding"), required=False)
    delimiter = forms.ChoiceField(label=_("Delimiter"), required=False)
    header_row = forms.IntegerField(
        label=_("Header row"),
        required=False,
        min_value=0,
        help_text=_("The row that holds the column names (0: the file has none)."),
    )
    sheet = forms.ChoiceField(label=_("Sheet"), required=False)

    def __init__(self, *args: Any, file_format: str, sheets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["encoding"]).choices = [(e, encoding_label(e)) for e in ENCODINGS]
        _choices(self.fields["delimiter"]).choices = [(d, DELIMITER_LABELS[d]) for d in DELIMITERS]
        _choices(self.fields["sheet"]).choices = [(s, s) for s in sheets]
        if file_format == "xlsx":
            del self.fields["encoding"], self.fields["delimiter"]
        else:
            del self.fields["sheet"]
            if file_format == "vcard":
                del self.fields["delimiter"], self.fields["header_row"]


def _choices(field: forms.Field) -> forms.ChoiceField:
    return cast(forms.ChoiceField, field)


def column_field_name(index: int) -> str:
    return f"col_{index}"


class MappingForm(WizardForm):
    """One select per column of the file: the field it goes to, or nothing."""

    def __init__(self, *args: Any, headers: list[str], target: m.ImportTarget, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        required = [("", _("— do not import —"))]
        standard = [(f.name, _label(target, f)) for f in target.fields if not f.is_custom]
        custom = [(f.name, _label(target, f)) for f in target.fields if f.is_custom]
        choices: list[Any] = required + standard
        if custom:
            choices.append((_("Custom fields"), custom))
        for index, header in enumerate(headers):
            self.fields[column_field_name(index)] = forms.ChoiceField(
                label=header, choices=choices, required=False
            )

    def mapping(self) -> dict[str, str]:
        return {h: self.cleaned_data.get(column_field_name(i)) or "" for i, h in enumerate(self.headers)}

    def rows(self) -> list[tuple[str, Any]]:
        return [(h, self[column_field_name(i)]) for i, h in enumerate(self.headers)]


def _label(target: m.ImportTarget, item: m.ImportField) -> str:
    text = str(target.label(item))
    text = text[:1].upper() + text[1:]
    return f"{text} *" if item.required else text


class PresetSaveForm(WizardForm):
    name = forms.CharField(label=_("Preset name"), max_length=100)
    shared = forms.BooleanField(label=_("Share with everyone who imports this record type"), required=False)


DATE_ORDER_LABELS = {
    "YMD": _("Only when unambiguous (25/12/2024)"),
    "DMY": _("Day before month (05/03/2024 is 5 March)"),
    "MDY": _("Month before day (03/05/2024 is 5 March)"),
}


class OptionsForm(WizardForm):
    """Step 4: value transforms, mode, duplicates and owner."""

    date_order = forms.ChoiceField(
        label=_("Dates with the year last"), choices=list(DATE_ORDER_LABELS.items())
    )
    phone_region = forms.CharField(
        label=_("Default phone region"),
        max_length=2,
        help_text=_("Two-letter country code for phone numbers written without +country code, e.g. CN."),
    )
    unknown_choices = forms.ChoiceField(
        label=_("Picklist values that match no option"),
        choices=[
            (t.UnknownPolicy.REJECT.value, _("Reject the row")),
            (t.UnknownPolicy.CREATE.value, _("Create the option")),
            (t.UnknownPolicy.MAP.value, _("Map them to options (below)")),
        ],
    )
    picklists = forms.CharField(
        label=_("Value mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "industry: 互联网 = it"}),
        help_text=_("One per line: field: value in the file = option key. Used with “Map them to options”."),
    )
    separators = forms.CharField(
        label=_("Multi-value separators"),
        max_length=20,
        strip=False,
        help_text=_("Cells of multi-value fields (tags) are split on each of these characters."),
    )
    mode = forms.ChoiceField(
        label=_("Mode"),
        choices=ImportMode.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    match_key = forms.ChoiceField(label=_("Match existing records on"), required=False)
    on_duplicate = forms.ChoiceField(label=_("When a row matches a record"), choices=DuplicateAction.choices)
    owner_mode = forms.ChoiceField(
        label=_("Owner of new records"),
        choices=OwnerMode.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
    )
    assign_to: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("Owner"), queryset=None, required=False
    )
    pool_id = forms.TypedChoiceField(label=_("Pool"), coerce=int, required=False, empty_value=None)

    def __init__(
        self,
        *args: Any,
        match_keys: list[tuple[str, str]],
        pools: list[tuple[int, str]],
        picklist_fields: list[str],
        owned: bool = True,
        finds_duplicates: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.picklist_fields = picklist_fields
        if not finds_duplicates:
            del self.fields["on_duplicate"]
        _choices(self.fields["match_key"]).choices = [("", "—"), *match_keys]
        user_model = apps.get_model("users", "User")
        users = user_model._default_manager.filter(is_active=True).order_by("username")
        cast(forms.ModelChoiceField, self.fields["assign_to"]).queryset = users
        if pools:
            _choices(self.fields["pool_id"]).choices = [("", "—"), *pools]
        else:
            del self.fields["pool_id"]
            _choices(self.fields["owner_mode"]).choices = [
                c for c in OwnerMode.choices if c[0] != OwnerMode.POOL
            ]
        if not owned:  # (the catalog's records: no owner to choose)
            for name in ("owner_mode", "assign_to", "pool_id"):
                self.fields.pop(name, None)

    def clean_picklists(self) -> dict[str, dict[str, str]]:
        text = self.cleaned_data.get("picklists") or ""
        found: dict[str, dict[str, str]] = {}
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            field, sep, rest = line.partition(":")
            value, eq, key = rest.rpartition("=")
            if not sep or not eq or not field.strip() or not value.strip() or not key.strip():
                raise forms.ValidationError(
                    _("Line %(line)d: write it as field: value = option."), params={"line": number}
                )
            found.setdefault(field.strip(), {})[value.strip()] = key.strip()
        return found

    def transforms(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "date_order": data["date_order"],
            "phone_region": data["phone_region"],
            "unknown_choices": data["unknown_choices"],
            "picklists": data.get("picklists") or {},
            "separators": data["separators"],
        }


def picklists_text(value: dict[str, dict[str, str]]) -> str:
    """The value mapping as the options form shows it."""
    return "\n".join(f"{f}: {v} = {k}" for f, values in (value or {}).items() for v, k in values.items())
