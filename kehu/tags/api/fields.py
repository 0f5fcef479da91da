"""``tags = TagsReadField()`` on a taggable model's serializer: the record's tags (read-only; put
them on and take them off with POST /api/v1/tags/assign/ and /unassign/). In a list the tags of the
whole page are loaded in one query."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..selectors import PREFETCH_ATTR, tags_for, tags_of


class TagBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    colour = serializers.CharField()
    group = serializers.IntegerField(allow_null=True)


@extend_schema_field(TagBriefSerializer(many=True))
class TagsReadField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs["source"] = "*"
        kwargs["read_only"] = True
        kwargs.setdefault(
            "help_text", "The record's tags (change them with /api/v1/tags/assign/ and /unassign/)."
        )
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        if PREFETCH_ATTR not in value.__dict__:
            container = getattr(self.parent, "parent", None)
            siblings = getattr(container, "instance", None)
            if isinstance(container, serializers.ListSerializer) and isinstance(siblings, list | tuple):
                tags_for([o for o in siblings if type(o) is type(value)])
        return [{"id": t.pk, "name": t.name, "colour": t.colour, "group": t.group_id} for t in tags_of(value)]
