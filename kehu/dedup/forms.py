"""Showing a collision (撞单) in a form, and the collision policy form.

Forms built on ``kehu.core.forms.ServiceFormMixin`` need nothing: when the service raises
``CollisionError``, ``form.add_domain_error(exc)`` puts the message on top and adds a
``confirm_collisions`` field first in the form, rendered by ``dedup/_collisions.html`` (the matches,
masked where the user may not see them, and under "warn" a "Save anyway" checkbox). The view passes
``confirmed=form.collisions_confirmed`` to the service on the next post.

Other forms mix in ``CollisionFormMixin`` for the same (``collisions_confirmed`` and
``show_collisions(exc)``), or render the partial themselves::

    {% include "dedup/_collisions.html" with matches=matches policy=policy %}
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from kehu.core.checks import CONFIRM_FIELD, is_confirmed

from .choices import PolicyMode


class CollisionsWidget(forms.Widget):
    """The matches and (under "warn") the "save anyway" checkbox."""

    input_type = "checkbox"  # a full-width row in the generic form layout

    def __init__(self, matches: list[Any] | None = None, policy: str = PolicyMode.WARN) -> None:
        super().__init__()
        self.matches = list(matches or [])
        self.policy = policy

    def value_from_datadict(self, data: Any, files: Any, name: str) -> bool:
        return is_confirmed({CONFIRM_FIELD: data.get(name)}) if hasattr(data, "get") else False

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return False

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        return SafeString(
            render_to_string(
                "dedup/_collisions.html",
                {"matches": self.matches, "policy": self.policy, "field_name": name, "checked": bool(value)},
            )
        )


class CollisionsField(forms.BooleanField):
    widget = CollisionsWidget

    def __init__(self, matches: list[Any], policy: str) -> None:
        super().__init__(
            required=False,
            label=_("Existing records with the same details"),
            widget=CollisionsWidget(matches, policy),
        )


def show_collisions(form: forms.BaseForm, exc: Any) -> None:
    """Show a ``CollisionError`` in `form`: the message on top, the matches first in the form."""
    form.add_error(None, str(exc.message))
    form.fields[CONFIRM_FIELD] = CollisionsField(exc.matches, exc.policy)
    form.order_fields([CONFIRM_FIELD])
    form.collisions = exc.matches  # type: ignore[attr-defined]


def collisions_confirmed(form: forms.BaseForm) -> bool:
    """Whether the posted form ticked "Save anyway"."""
    return form.is_bound and is_confirmed({CONFIRM_FIELD: form.data.get(form.add_prefix(CONFIRM_FIELD))})


class CollisionFormMixin:
    """For forms not built on ``ServiceFormMixin``: ``collisions_confirmed`` for the service call
    and ``show_collisions(exc)`` for a ``CollisionError``."""

    @property
    def collisions_confirmed(self) -> bool:
        return collisions_confirmed(self)  # type: ignore[arg-type]

    def show_collisions(self, exc: Any) -> None:
        show_collisions(self, exc)  # type: ignore[arg-type]


class PolicyForm(forms.Form):
    mode = forms.ChoiceField(label=_("When a record matches"), choices=PolicyMode.choices)
