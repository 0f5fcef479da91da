"""``tags = TagsReadField()`` on a taggable model's serializer: the record's tags (read-only; put
them on and take them off with POST /api/v1/tags/assign/ and /unassign/), or ``tags = TagsField()``
(readable and writable: a list of tag ids or names, saved by `kehu.tags.api.mixins.TagsWriteMixin`
on the viewset). In a list the tags of the whole page are loaded in one query."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_array_type
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..selectors import PREFETCH_ATTR, tags_for, tags_of


class TagBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    colour = serializers.CharField()
    group = serializers.IntegerField(allow_null=True)


class _TagsBase(serializers.Field):
    """The record's tags as a list of {id, name, colour, group}."""

    def to_representation(self, value: Any) -> Any:
        if PREFETCH_ATTR not in value.__dict__:
            container = getattr(self.parent, "parent", None)
            siblings = getattr(container, "instance", None)
            if isinstance(container, serializers.ListSerializer) and isinstance(siblings, list | tuple):
                tags_for([o for o in siblings if type(o) is type(value)])
        return [{"id": t.pk, "name": t.name, "colour": t.colour, "group": t.group_id} for t in tags_of(value)]


@extend_schema_field(TagBriefSerializer(many=True))
class TagsReadField(_TagsBase):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        kwargs.setdefault(
            "help_text", "The record's tags (change them with /api/v1/tags/assign/ and /unassign/)."
        )
        super().__init__(**kwargs)


MAX_TAGS = 100


class TagsField(_TagsBase):
    """``tags`` on a taggable model's serializer, readable and writable: reads as the record's tags
    (like `TagsReadField`); on create/update takes a list of tag ids or names that becomes the
    record's tags (``[]`` removes them all; leaving ``tags`` out leaves them alone). Names of tags that
    do not exist yet create them when the user may add tags. The view saves them through
    ``kehu.tags.services.tags_set`` (`kehu.tags.api.mixins.TagsWriteMixin`): unknown or inactive tags,
    two tags of an exclusive group and tags that do not apply to the record are field errors on
    ``tags``."""

    default_error_messages = {
        "not_a_list": _("Give a list of tag ids or names."),
        "invalid": _("Each tag is an id (a whole number) or a name."),
        "too_many": _("At most %(n)d tags."),
        "name_length": _("A tag name has 1 to 50 characters."),
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text",
            "The record's tags. Write: a list of tag ids or names (a new name creates the tag when "
            "you may add tags) that replaces the record's tags; [] removes them all.",
        )
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> dict[str, list[int | str]]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > MAX_TAGS:
            self.fail("too_many", n=MAX_TAGS)
        out: list[int | str] = []
        for item in data:
            if isinstance(item, bool) or not isinstance(item, int | str):
                self.fail("invalid")
            if isinstance(item, int):
                if not 0 < item < 2**63:
                    self.fail("invalid")
                out.append(item)
                continue
            text = " ".join(item.split())
            if text.isdigit():  # an id sent as text ("12"), as HTML forms and query strings do
                if not 0 < int(text) < 2**63:
                    self.fail("invalid")
                out.append(int(text))
            elif not 0 < len(text) <= 50:
                self.fail("name_length")
            else:
                out.append(text)
        return {"tags": out}


class TagsFieldExtension(OpenApiSerializerFieldExtension):
    """Read: the tags (id, name, colour, group); write: a list of tag ids or names."""

    target_class = "kehu.tags.api.fields.TagsField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        description = str(self.target.help_text or "")
        if direction == "request":
            item = {"oneOf": [{"type": "integer", "minimum": 1}, {"type": "string", "maxLength": 50}]}
            return {**build_array_type(item, max_length=MAX_TAGS), "description": description}
        ref = auto_schema.resolve_serializer(TagBriefSerializer, direction).ref
        return {**build_array_type(ref), "description": description}
