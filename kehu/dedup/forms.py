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


class MatchRuleForm(forms.Form):
    """The rule of one record type: scores, blocking keys, and per field whether it is compared,
    how, with what weight, least similarity and penalty. ``rule_json()`` is what
    ``kehu.dedup.scanning.match_rule_save`` validates; its field errors come back through
    ``add_rule_errors``."""

    enabled = forms.BooleanField(label=_("Scan this record type"), required=False)
    auto_merge = forms.BooleanField(
        label=_("Merge certain duplicates automatically"),
        required=False,
        help_text=_("The scheduled scan merges groups above the certain score, keeping the newest record."),
    )
    possible = forms.FloatField(label=_("Possible duplicate from score"), min_value=0, max_value=1)
    certain = forms.FloatField(label=_("Certain duplicate from score"), min_value=0, max_value=1)
    max_block = forms.IntegerField(
        label=_("Largest block compared"),
        min_value=2,
        max_value=10000,
        help_text=_(
            "Records sharing one key with more records than this (a switchboard number) are not compared."
        ),
    )
    blocking = forms.MultipleChoiceField(
        label=_("Compare records that share"), widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from .matching import BLOCKING_KEYS, METHODS
        from .scanning import FIELD_LABELS, FIELDS, METHOD_LABELS

        super().__init__(*args, **kwargs)
        blocking = self.fields["blocking"]
        assert isinstance(blocking, forms.MultipleChoiceField)
        blocking.choices = [(k, BLOCKING_LABELS.get(k, k)) for k in BLOCKING_KEYS]
        self.rule_fields: list[str] = []
        for name in FIELDS:
            label = FIELD_LABELS[name]
            self.fields[f"use_{name}"] = forms.BooleanField(label=label, required=False)
            self.fields[f"method_{name}"] = forms.ChoiceField(
                label=_("Method"), choices=[(m, METHOD_LABELS[m]) for m in METHODS], required=False
            )
            self.fields[f"weight_{name}"] = forms.FloatField(label=_("Weight"), required=False)
            self.fields[f"threshold_{name}"] = forms.FloatField(label=_("Least similarity"), required=False)
            self.fields[f"penalty_{name}"] = forms.FloatField(label=_("Penalty"), required=False)
            self.rule_fields.append(name)

    @classmethod
    def initial_from(cls, rule: Any, *, enabled: bool, auto_merge: bool) -> dict[str, Any]:
        """The form's initial values from an engine rule."""
        initial: dict[str, Any] = {
            "enabled": enabled,
            "auto_merge": auto_merge,
            "possible": rule.possible,
            "certain": rule.certain,
            "max_block": rule.max_block,
            "blocking": list(rule.blocking),
        }
        for f in rule.fields:
            initial.update(
                {
                    f"use_{f.field}": True,
                    f"method_{f.field}": f.method,
                    f"weight_{f.field}": f.weight,
                    f"threshold_{f.field}": f.threshold,
                    f"penalty_{f.field}": f.penalty,
                }
            )
        return initial

    def rows(self) -> list[dict[str, Any]]:
        """One row per comparable field, for the template's table."""
        return [
            {
                "name": name,
                "use": self[f"use_{name}"],
                "method": self[f"method_{name}"],
                "weight": self[f"weight_{name}"],
                "threshold": self[f"threshold_{name}"],
                "penalty": self[f"penalty_{name}"],
            }
            for name in self.rule_fields
        ]

    def rule_json(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = []
        self._order: list[str] = []
        for name in self.rule_fields:
            if not data.get(f"use_{name}"):
                continue
            self._order.append(name)
            fields.append(
                {
                    "field": name,
                    "method": data.get(f"method_{name}") or "normalised",
                    "weight": data.get(f"weight_{name}") if data.get(f"weight_{name}") is not None else 0,
                    "threshold": data.get(f"threshold_{name}")
                    if data.get(f"threshold_{name}") is not None
                    else 1.0,
                    "penalty": data.get(f"penalty_{name}") if data.get(f"penalty_{name}") is not None else 0,
                }
            )
        return {
            "possible": data["possible"],
            "certain": data["certain"],
            "max_block": data["max_block"],
            "blocking": list(data["blocking"]),
            "fields": fields,
        }

    def add_rule_errors(self, exc: Any) -> None:
        """Put a ``MatchRuleError``'s field errors on the form's fields (``fields.<n>.weight`` →
        ``weight_<field>``)."""
        self.add_error(None, str(exc.message))
        order = getattr(self, "_order", [])
        for key, messages in exc.fields.items():
            parts = key.split(".")
            target: str | None = key if key in self.fields else None
            if parts[0] == "fields" and len(parts) == 3 and int(parts[1]) < len(order):
                attribute = "use" if parts[2] == "field" else parts[2]
                target = f"{attribute}_{order[int(parts[1])]}"
            for message in messages:
                if target in self.fields:
                    self.add_error(target, message)
                else:
                    self.add_error(None, message)


BLOCKING_LABELS = {
    "phone": _("a phone number"),
    "email": _("an e-mail address"),
    "tax_number": _("a unified social credit code"),
    "company": _("a company name"),
    "company_core": _("a company name without region and suffix"),
    "name": _("a name"),
    "pinyin": _("a name in pinyin"),
    "address": _("an address"),
    "name+company": _("a name and company"),
    "pinyin+company": _("a name in pinyin and company"),
    "name_chars+company": _("a name's characters in any order and company"),
    "name_typo+company": _("a name one typo apart and company"),
}
