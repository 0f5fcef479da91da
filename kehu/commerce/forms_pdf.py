"""Forms of the quote PDF pages: the company profile (letterhead) and the send-by-e-mail dialog."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.forms import ServiceFormMixin

from .models import CompanyProfile
from .services.company import PROFILE_FIELDS


class CompanyProfileForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = CompanyProfile
        fields = [*PROFILE_FIELDS, "logo"]
        widgets = {
            "default_terms": forms.Textarea(attrs={"rows": 4}),
            "logo": forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg"}),
        }
        help_texts = {"logo": _("PNG or JPEG, at most 1 MB.")}

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, "") for name in PROFILE_FIELDS}


def _addresses(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").replace("\n", ",").split(",") if part.strip()]


class QuoteSendForm(forms.Form):
    to = forms.CharField(
        label=pgettext_lazy("email", "To"),
        help_text=_("One or more e-mail addresses, separated by commas."),
        max_length=2000,
    )
    cc = forms.CharField(label=_("Cc"), required=False, max_length=2000)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("Message"), widget=forms.Textarea(attrs={"rows": 5}), required=False)
    language = forms.ChoiceField(label=_("Language of the PDF"), choices=settings.LANGUAGES)

    def clean_to(self) -> list[str]:
        return _addresses(self.cleaned_data["to"])

    def clean_cc(self) -> list[str]:
        return _addresses(self.cleaned_data.get("cc") or "")
