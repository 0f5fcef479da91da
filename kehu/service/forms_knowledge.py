"""Forms of the knowledge base: the article editor, categories and the public "was this helpful?"
answer. They shape input only; the views call `services.knowledge`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kehu.core.forms import ServiceFormMixin

from .models import Article, ArticleCategory


class ArticleForm(ServiceFormMixin, forms.ModelForm):
    """Title, category, summary, body (HTML from the editor, sanitised by the service), visibility,
    language, keywords, and a note for the version history."""

    note = forms.CharField(
        label=_("Change note"),
        required=False,
        max_length=255,
        help_text=_("What changed (shown in the version history)."),
    )

    class Meta:
        model = Article
        fields = ("title", "category", "summary", "body", "visibility", "language", "keywords")
        widgets = {
            "summary": forms.Textarea(attrs={"rows": 2}),
            "body": forms.Textarea(attrs={"rows": 14, "class": "form-control font-monospace kehu-kb-source"}),
        }
        help_texts = {
            "keywords": _("Other words people search with, separated by commas (e.g. 退款, refund)."),
            "visibility": _(
                "Public articles appear in the FAQ once published; internal ones only to agents."
            ),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "category" in self.fields:
            self.fields["category"].queryset = ArticleCategory.objects.order_by("position", "id")  # type: ignore[attr-defined]
        self.fields["title"].required = True

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        data.pop("note", None)
        return data


class CategoryForm(ServiceFormMixin, forms.ModelForm):
    class Meta:
        model = ArticleCategory
        fields = ("name", "name_en", "slug", "parent", "description", "position")
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"slug": _("Used in links; made from the name when left empty.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        parent = self.fields["parent"]
        qs = ArticleCategory.objects.order_by("position", "id")
        if self.instance.pk:
            qs = qs.exclude(pk=self.instance.pk)
        parent.queryset = qs  # type: ignore[attr-defined]


class VoteForm(forms.Form):
    helpful = forms.TypedChoiceField(
        label=_("Was this article helpful?"),
        choices=[("yes", pgettext_lazy("vote", "Yes")), ("no", pgettext_lazy("vote", "No"))],
        coerce=lambda v: v == "yes",
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)


class RestoreForm(forms.Form):
    revision = forms.IntegerField(min_value=1)
    version = forms.IntegerField(required=False)
