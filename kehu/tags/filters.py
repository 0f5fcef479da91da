"""List filters for any taggable model (the HTML list, the API and exports share the FilterSet)::

    class AccountFilterSet(FilterSet):
        tags = TagFilter()
        tags_mode = TagMatchFilter()
        group = StaticGroupFilter()

* ``tags`` (repeatable): tag ids, or ``none`` for records without any tag; ``tags_mode=all`` asks
  for records carrying every chosen tag (default ``any``: at least one of them).
* ``group``: a static group id the user may see (their own or a shared one); others are refused.

Each condition is ``pk IN (SELECT object_id FROM tags_taggeditem WHERE model = ... AND tag_id ...)``
(the unique index (tag, model, object_id) answers it) and "no tags" an anti-join on the
(model, object_id) index, so they stay index lookups on large tables and compose with the
user's data scope and the other filters.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .choices import NO_TAGS, TagMatch
from .models import StaticGroup, StaticGroupMember, TaggedItem
from .selectors import applicable_tags, static_groups_for


def tag_filter_choices(model: Any) -> list[tuple[str, str]]:
    choices = [(NO_TAGS, str(_("(no tags)")))]
    for tag in applicable_tags(model, active_only=False):
        label = f"{tag.group.name} · {tag.name}" if tag.group else tag.name
        choices.append((str(tag.pk), label))
    return choices


def filter_tagged(qs: QuerySet[Any], values: list[str], *, mode: str = TagMatch.ANY) -> QuerySet[Any]:
    """Records of `qs` carrying any / all of the tag ids in `values` (``none``: no tag at all)."""
    label = qs.model._meta.label_lower
    want_none = NO_TAGS in values
    ids = sorted({int(v) for v in values if str(v).isdigit()})
    if not ids and not want_none:
        return qs
    items = TaggedItem.objects.filter(model=label)
    untagged = ~Exists(items.filter(object_id=OuterRef("pk")))
    if mode == TagMatch.ALL:
        if want_none and ids:
            return qs.none()
        if want_none:
            return qs.filter(untagged)
        for tag_id in ids:
            qs = qs.filter(pk__in=items.filter(tag_id=tag_id).values("object_id"))
        return qs
    if not ids:
        return qs.filter(untagged)
    tagged = items.filter(tag_id__in=ids).values("object_id")
    if want_none:
        return qs.filter(untagged) | qs.filter(pk__in=tagged)
    return qs.filter(pk__in=tagged)


class FormHelpTextMixin:
    """Two help texts: ``help_text`` describes the query parameter in the API schema (ids, values);
    ``form_help_text`` is what the HTML filter panel shows under the field (core/_filter_fields.html
    renders the form field's help text)."""

    form_help_text: Any = ""

    def __init__(self, *args: Any, form_help_text: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if form_help_text is not None:
            self.form_help_text = form_help_text

    @property
    def field(self) -> forms.Field:
        field: forms.Field = super().field  # type: ignore[misc]
        field.help_text = self.form_help_text
        return field


@extend_schema_field(
    {
        "type": "string",
        "description": "Tag ids (repeat the parameter), or `none` for records without tags; "
        "`tags_mode` says how several tags combine.",
    }
)
class TagFilter(FormHelpTextMixin, django_filters.MultipleChoiceFilter):
    """Tag ids (repeatable) or ``none``; reads the match mode from the sibling ``mode_param``."""

    def __init__(self, *args: Any, mode_param: str = "tags_mode", **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Tags"))
        kwargs.setdefault("choices", [])
        kwargs.setdefault(
            "widget", forms.SelectMultiple(attrs={"data-tom-select": "", "data-kehu-tag-filter": ""})
        )
        kwargs.setdefault(
            "help_text", _("Tag ids (repeat the parameter), or “none” for records without tags.")
        )
        kwargs.setdefault(
            "form_help_text",
            _(
                "Records with any of the chosen tags (or all of them: see Match); "
                "“(no tags)”: records without tags."
            ),
        )
        super().__init__(*args, **kwargs)
        self.mode_param = mode_param

    @property
    def field(self) -> forms.Field:
        # FilterSets deep-copy their base filters, including a form field built earlier (e.g. by
        # the schema generator) with the tags of that moment: rebuild it once per copy so tags
        # created since are valid choices.
        if getattr(self, "_choices_for", None) != id(self):
            model = getattr(self, "model", None)
            self.extra["choices"] = tag_filter_choices(model) if model is not None else []
            self.__dict__.pop("_field", None)
            self._choices_for = id(self)
        return super().field

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value:
            return qs
        mode = TagMatch.ANY
        parent = getattr(self, "parent", None)
        form = getattr(parent, "form", None)
        if form is not None and getattr(form, "cleaned_data", None):
            mode = form.cleaned_data.get(self.mode_param) or TagMatch.ANY
        # sub-queries, never joins: no duplicate rows, no DISTINCT needed
        return filter_tagged(qs, [str(v) for v in value], mode=mode)


class TagMatchFilter(FormHelpTextMixin, django_filters.ChoiceFilter):
    """``any`` (default) or ``all``: how `TagFilter` combines several tags."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("choices", TagMatch.choices)
        kwargs.setdefault("label", _("Match"))
        kwargs.setdefault("empty_label", None)
        kwargs.setdefault("help_text", _("any (default): at least one of the tags; all: every tag."))
        kwargs.setdefault("form_help_text", _("Any: at least one of the chosen tags. All: every chosen tag."))
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return qs  # read by TagFilter


def _groups(filter_: StaticGroupFilter, request: Any) -> QuerySet[StaticGroup]:
    model = getattr(filter_, "model", None)
    if request is None or model is None:
        return StaticGroup.objects.none()
    return static_groups_for(request.user, model)


@extend_schema_field(OpenApiTypes.INT)
class StaticGroupFilter(django_filters.ModelChoiceFilter):
    """Members of one static group the user may see (members outside their scope stay hidden)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Static group"))
        kwargs.setdefault("widget", forms.Select(attrs={"data-tom-select": ""}))
        kwargs.setdefault("queryset", StaticGroup.objects.none())
        super().__init__(*args, **kwargs)

    def get_queryset(self, request: Any) -> QuerySet[StaticGroup]:
        return _groups(self, request)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if value in (None, ""):
            return qs
        return qs.filter(pk__in=StaticGroupMember.objects.filter(group=value).values("object_id"))
