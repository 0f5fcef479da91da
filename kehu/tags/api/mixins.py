"""``TagsWriteMixin`` for the viewset of a taggable model whose serializer has ``tags =
TagsField()`` (writes through services, `kehu.core.api.mixins.RestrictedModelViewSet`): the record's
own service saves the record, then ``tags_set`` its tags, in one transaction, so a refused tag
(unknown, inactive, exclusive group, may not create) leaves nothing behind."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from ..services import tags_set


class TagsWriteMixin:
    request: Any

    def _save_with_tags(self, serializer: Any, save: Any) -> None:
        tags = serializer.validated_data.pop("tags", None)
        with transaction.atomic():
            save(serializer)
            if tags is not None:
                tags_set(obj=serializer.instance, tags=tags, by=self.request.user)

    def perform_create(self, serializer: Any) -> None:
        self._save_with_tags(serializer, super().perform_create)  # type: ignore[misc]

    def perform_update(self, serializer: Any) -> None:
        self._save_with_tags(serializer, super().perform_update)  # type: ignore[misc]
