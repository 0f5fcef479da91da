"""Errors of the dedup app."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.utils.functional import Promise

from kehu.core.checks import CONFIRM_FIELD
from kehu.core.errors import ConflictError

if TYPE_CHECKING:
    from .services import CollisionMatch


class CollisionError(ConflictError):
    """A new or edited record matches existing ones (撞单): under the "block" policy always, under
    "warn" until the user confirms. The API answers 409 with the matches in the body::

        {"code": "collision", "message": "...", "fields": {}, "policy": "warn",
         "confirm_field": "confirm_collisions", "matches": [{...}, ...]}
    """

    code = "collision"

    def __init__(
        self, message: str | Promise, *, matches: Sequence[CollisionMatch] = (), policy: str = "warn"
    ) -> None:
        super().__init__(message)
        self.matches = list(matches)
        self.policy = policy

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body["policy"] = self.policy
        body["confirm_field"] = CONFIRM_FIELD if self.policy != "block" else None
        body["matches"] = [m.as_dict() for m in self.matches]
        return body
