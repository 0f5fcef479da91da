"""Buttons other apps' pages get for taggable records."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kehu.core import generic


def add_detail_action(model: type[models.Model]) -> None:
    """An "Add to group" button on the record's detail page (the form checks the user may view it)."""
    label = model._meta.label_lower

    def url(request: Any, obj: models.Model) -> str | None:
        if not getattr(request.user, "is_authenticated", False):
            return None
        return reverse("tags:add_to_group", args=[label, obj.pk])

    generic.register_action(
        label, generic.ObjectAction("static_group_add", _("Add to group"), url, icon="list-check", order=90)
    )
