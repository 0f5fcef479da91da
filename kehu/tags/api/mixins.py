"""``TagsWriteMixin`` for the viewset of a taggable model whose serializer has ``tags =
TagsField()`` (writes through services, `kehu.core.api.mixins.RestrictedModelViewSet`).

Create: the viewset's ``perform_service_create`` passes ``tags=self.new_tags()`` to the create
service, which writes them as the creator's before assignment rules may hand the record to someone
outside the creator's scope (`kehu.tags.services.tags_set_new`). A viewset whose create service
takes no ``tags=`` gets them written right after it (``tags_set``: the record must then be within
the user's scope). Update: the record's own service, then ``tags_set``. Either way in one
transaction, so a refused tag (unknown, inactive, exclusive group, may not create) leaves nothing
behind."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..services import tags_set


class TagsWriteMixin:
    request: Any
    _new_tags: list[int | str] | None = None

    def new_tags(self) -> list[int | str] | None:
        """For ``perform_service_create``: the tags sent for the new record (None: not sent), for
        the create service's ``tags=``; taken once."""
        tags, self._new_tags = self._new_tags, None
        return tags

    def perform_create(self, serializer: Any) -> None:
        self._new_tags = serializer.validated_data.pop("tags", None)
        with transaction.atomic():
            super().perform_create(serializer)  # type: ignore[misc]
            tags = self.new_tags()  # not taken by the create service
            if tags is not None:
                tags_set(obj=serializer.instance, tags=tags, by=self.request.user)

    def perform_update(self, serializer: Any) -> None:
        tags = serializer.validated_data.pop("tags", None)
        with transaction.atomic():
            super().perform_update(serializer)  # type: ignore[misc]
            if tags is not None:
                tags_set(obj=serializer.instance, tags=tags, by=self.request.user)
