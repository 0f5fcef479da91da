"""FilterSet of knowledge-base articles: the article list and the API alike."""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from kehu.core.search import clean_query
from kehu.customers.filtersets import TOM_SELECT
from kehu.search.selectors import search_filter

from .choices import ArticleStatus, ArticleVisibility
from .models import Article, ArticleCategory


def _categories(request: Any) -> QuerySet[ArticleCategory]:
    return ArticleCategory.objects.order_by("position", "id")


class ArticleFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label=_("Search"))
    category = django_filters.ModelMultipleChoiceFilter(
        queryset=_categories, label=_("Category"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    uncategorised = django_filters.BooleanFilter(
        field_name="category", lookup_expr="isnull", label=_("Without category")
    )
    status = django_filters.MultipleChoiceFilter(
        choices=ArticleStatus.choices, label=_("Status"), widget=forms.SelectMultiple(attrs=TOM_SELECT)
    )
    visibility = django_filters.ChoiceFilter(choices=ArticleVisibility.choices, label=_("Visibility"))
    language = django_filters.ChoiceFilter(choices=settings.LANGUAGES, label=_("Language"))

    class Meta:
        model = Article
        fields: list[str] = []

    def filter_q(self, queryset: QuerySet[Article], name: str, value: Any) -> QuerySet[Article]:
        """Words, Chinese (bigrams) and pinyin of titles through the search index; a number
        (KB-00012) or, before the index is built, a plain search of the title and the text."""
        q = clean_query(value)
        if not q:
            return queryset
        found = search_filter(queryset, q)
        by_number = Q(number__iexact=q) | Q(number__iendswith=f"-{q}")
        if found is None:
            return queryset.filter(by_number | Q(title__icontains=q) | Q(body_text__icontains=q))
        return queryset.filter(Q(pk__in=found.values("pk")) | by_number)
