"""Turning `ObjectChange` rows into what a viewer may read: field labels, formatted values, and
the viewer's field permissions applied (hidden fields left out, masked fields masked), for the
History tab, the operation log, its export and the API.

Field permissions are those of the change's own model: a contact's phone masked for the viewer
is masked in the contact's history, in its account's history and in the operation log alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kehu.core import permissions
from kehu.core.choices import FieldMode
from kehu.core.masking import guess_kind, mask_value

from . import registry
from .choices import ACTION_BADGES, ChangeAction
from .models import ObjectChange
from .selectors import resolve_model

FIELD_ACTIONS = {ChangeAction.CREATE, ChangeAction.UPDATE, ChangeAction.DELETE}
# Field modes from the strictest down (a value following several fields takes the strictest).
STRICTNESS = (FieldMode.HIDDEN, FieldMode.MASKED, FieldMode.READ_ONLY)

# Label resolvers for keys of JSON fields ("custom.industry"): apps above audit (custom fields)
# append ``(model, json field name, key) -> label or None``.
json_key_labels: list[Callable[[type[models.Model], str, str], str | None]] = []
# Label resolvers for recorded names that are not fields of the model ("tags" of a tagged record,
# written by the tags app): apps above audit append ``(model or None, name) -> label or None``.
extra_field_labels: list[Callable[[type[models.Model] | None, str], str | None]] = []


@dataclass
class FieldChange:
    name: str
    label: str
    before: Any
    after: Any
    masked: bool = False


@dataclass
class ChangeView:
    change: ObjectChange
    model_name: str
    model_plural: str = ""
    fields: list[FieldChange] = field(default_factory=list)
    details: list[tuple[str, str]] = field(default_factory=list)
    is_child: bool = False
    object_repr: str = ""

    @property
    def badge(self) -> str:
        return ACTION_BADGES.get(self.change.action, "secondary")  # type: ignore[call-overload]


class ModesCache:
    """The viewer's field modes per model, asked once per model."""

    def __init__(self, user: Any) -> None:
        self.user = user
        self._modes: dict[str, dict[str, str]] = {}

    def for_label(self, label: str) -> dict[str, str]:
        if label not in self._modes:
            model = resolve_model(label)
            modes = dict(permissions.field_modes(self.user, model)) if model is not None else {}
            spec = registry.modes_from(label)
            if spec is not None and spec.model != label:
                other = self.for_label(spec.model)
                for name, others in spec.fields.items():
                    found = {other.get(o) for o in ((others,) if isinstance(others, str) else others)}
                    strictest = next((m for m in STRICTNESS if m in found), None)
                    if strictest is not None and name not in modes:
                        modes[name] = strictest
            self._modes[label] = modes
        return self._modes[label]

    def object_repr(self, change: ObjectChange) -> str:
        """The recorded name of the changed record, masked or hidden when it shows a restricted
        value (a phone row's number)."""
        spec = registry.modes_from(change.model)
        if spec is None or not spec.repr_field:
            return change.object_repr
        mode = self.for_label(change.model).get(spec.repr_field)
        if mode == FieldMode.HIDDEN:
            return "****"
        if mode == FieldMode.MASKED:
            model = resolve_model(change.model)
            return str(mask_recorded(model, spec.repr_field, change.object_repr))
        return change.object_repr


def _model_field(model: type[models.Model] | None, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        f = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    return f if isinstance(f, models.Field) else None


def field_label(model: type[models.Model] | None, name: str) -> str:
    base, dot, key = name.partition(".")
    f = _model_field(model, base)
    if dot and model is not None:
        for resolver in json_key_labels:
            label = resolver(model, base, key)
            if label:
                return str(label)
        return key
    if f is not None and f.verbose_name:
        return str(capfirst(f.verbose_name))
    for extra in extra_field_labels:
        label = extra(model, name)
        if label:
            return str(label)
    return name.replace("_", " ").capitalize()


def field_mode(modes: dict[str, str], name: str) -> str | None:
    """The viewer's mode for a recorded field name; "custom.key" also answers to "key" and to the
    whole "custom" field."""
    base, dot, key = name.partition(".")
    if not dot:
        return modes.get(name)
    return modes.get(name) or modes.get(key) or modes.get(base)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def format_value(model: type[models.Model] | None, name: str, value: Any) -> str:
    """A recorded JSON-safe value as text ("" for empty)."""
    if _empty(value):
        return ""
    f = _model_field(model, name.partition(".")[0]) if "." not in name else None
    if isinstance(value, dict) and set(value) == {"id", "repr"}:
        return str(value["repr"])
    if isinstance(value, list) and all(isinstance(v, dict) and "repr" in v for v in value):
        return ", ".join(str(v["repr"]) for v in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if f is not None and f.choices:
        choices = {str(k): v for k, v in f.flatchoices}
        if str(value) in choices:
            return str(choices[str(value)])
    if isinstance(f, models.DateTimeField) and isinstance(value, str):
        parsed = parse_datetime(value)
        if parsed is not None:
            if timezone.is_aware(parsed):
                parsed = timezone.localtime(parsed)
            return formats.date_format(parsed, "DATETIME_FORMAT")
    if isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField) and isinstance(value, str):
        parsed_date = parse_date(value)
        if parsed_date is not None:
            return formats.date_format(parsed_date, "DATE_FORMAT")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _mask_kind(model: type[models.Model] | None, name: str) -> str:
    spec = registry.modes_from(model._meta.label_lower) if model is not None else None
    if spec is not None and name in spec.fields:
        # A detail row's value is masked like the field whose permission it follows.
        others = spec.fields[name]
        other = others if isinstance(others, str) else others[0]
        return _mask_kind(resolve_model(spec.model), other)
    f = _model_field(model, name)
    if isinstance(f, models.EmailField):
        return "email"
    return guess_kind(name.rpartition(".")[2])


def mask_recorded(model: type[models.Model] | None, name: str, value: Any) -> Any:
    """A recorded value masked like the live one (foreign keys and lists element by element)."""
    if _empty(value):
        return value
    kind = _mask_kind(model, name)
    if isinstance(value, dict) and set(value) == {"id", "repr"}:
        return {"id": None, "repr": mask_value(str(value["repr"]), kind)}
    if isinstance(value, list):
        return [mask_recorded(model, name, v) for v in value]
    return mask_value(str(value), kind)


def visible_changes(change: ObjectChange, modes: dict[str, str]) -> dict[str, Any] | None:
    """`change.changes` as the viewer may see it (raw JSON, for the API): hidden fields removed,
    masked values masked. None when an update touched only hidden fields."""
    if change.action not in FIELD_ACTIONS or not isinstance(change.changes, dict):
        if change.action == ChangeAction.REVEAL:
            return _visible_reveal(change.changes, modes)
        return change.changes if isinstance(change.changes, dict) else {}
    model = resolve_model(change.model)
    out: dict[str, Any] = {}
    for name, pair in change.changes.items():
        mode = field_mode(modes, name)
        if mode == FieldMode.HIDDEN:
            continue
        if mode == FieldMode.MASKED and isinstance(pair, list):
            pair = [mask_recorded(model, name, v) for v in pair]
        out[name] = pair
    if change.changes and not out and change.action == ChangeAction.UPDATE:
        return None
    return out


def _visible_reveal(changes: Any, modes: dict[str, str]) -> dict[str, Any]:
    if not isinstance(changes, dict):
        return {}
    names = changes.get("revealed")
    if isinstance(names, list):
        return {**changes, "revealed": [n for n in names if field_mode(modes, str(n)) != FieldMode.HIDDEN]}
    return changes


def present(
    change: ObjectChange, modes: ModesCache, *, parent_label: str = "", parent_pk: Any = None
) -> ChangeView | None:
    """A change as the viewer may read it, or None when nothing of it is theirs to see. On a
    record's History (`parent_label`, `parent_pk`), a row of another record — a child, or a record
    merged into this one, under its old id — is shown with that record's name."""
    model = resolve_model(change.model)
    model_name = str(capfirst(model._meta.verbose_name)) if model is not None else change.model
    view = ChangeView(
        change=change,
        model_name=model_name,
        model_plural=str(capfirst(model._meta.verbose_name_plural)) if model is not None else "",
        is_child=bool(parent_label)
        and (change.model != parent_label or (parent_pk is not None and change.object_id != parent_pk)),
        object_repr=modes.object_repr(change),
    )
    shown = visible_changes(change, modes.for_label(change.model))
    if shown is None:
        return None
    if change.action in FIELD_ACTIONS:
        for name, pair in shown.items():
            before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
            mode = field_mode(modes.for_label(change.model), name)
            view.fields.append(
                FieldChange(
                    name=name,
                    label=field_label(model, name),
                    before=format_value(model, name, before),
                    after=format_value(model, name, after),
                    masked=mode == FieldMode.MASKED,
                )
            )
        return view
    view.details = _details(change, model, shown)
    return view


def _details(
    change: ObjectChange, model: type[models.Model] | None, shown: dict[str, Any]
) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for key, value in shown.items():
        if key == "rows":
            out.append(
                (
                    _("Rows"),
                    formats.number_format(value, force_grouping=True)
                    if isinstance(value, int)
                    else str(value),
                )
            )
        elif key == "revealed" and isinstance(value, list):
            out.append((_("Fields"), ", ".join(field_label(model, str(n)) for n in value)))
        elif key == "format":
            out.append((_("Format"), str(value).upper()))
        elif key == "params" and isinstance(value, dict):
            text = ", ".join(f"{k}={v}" for k, v in value.items() if v not in ("", None, []))
            out.append((pgettext("audit", "Filters"), text or _("none")))
        elif key == "job":
            out.append((_("Background job"), f"#{value}"))
        elif key == "exporter":
            continue
        else:
            out.append((str(key), format_value(None, key, value)))
    return out


def summary_text(view: ChangeView) -> str:
    """One line per field ("Phone: 138… → 139…"), for exports."""
    if view.fields:
        return "\n".join(f"{f.label}: {f.before or '—'} → {f.after or '—'}" for f in view.fields)
    return "\n".join(f"{label}: {value}" for label, value in view.details)


# --- timeline event data ------------------------------------------------------------------------

# Keys of `TimelineEvent.data` with a meaning of their own on the timeline (not field names).
EVENT_TEXT_KEYS = ("title", "body")


def visible_event_data(data: Any, modes: dict[str, str]) -> dict[str, Any]:
    """`TimelineEvent.data` as the viewer may see it: keys named like fields of the event's model
    follow the viewer's field permissions (hidden: removed, masked: masked), and so do the fields in
    ``changes`` (``{field: [before, after]}``) and the ``field`` / ``old`` / ``new`` triple."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for key, value in data.items():
        mode = field_mode(modes, key) if key not in EVENT_TEXT_KEYS else None
        if mode == FieldMode.HIDDEN:
            continue
        if key == "changes" and isinstance(value, dict):
            value = _visible_pairs(value, modes)
        elif mode == FieldMode.MASKED:
            value = mask_recorded(None, key, value)
        out[key] = value
    name = out.get("field")
    if isinstance(name, str) and ("old" in out or "new" in out):
        mode = field_mode(modes, name)
        if mode == FieldMode.HIDDEN:
            out.pop("old", None)
            out.pop("new", None)
            out.pop("field", None)
        elif mode == FieldMode.MASKED:
            for k in ("old", "new"):
                if k in out:
                    out[k] = mask_recorded(None, name, out[k])
    return out


def _visible_pairs(changes: dict[str, Any], modes: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, pair in changes.items():
        mode = field_mode(modes, str(name))
        if mode == FieldMode.HIDDEN:
            continue
        if mode == FieldMode.MASKED:
            pair = [mask_recorded(None, str(name), v) for v in pair] if isinstance(pair, list) else "****"
        out[name] = pair
    return out


def event_field_changes(
    model: type[models.Model] | None, data: dict[str, Any], modes: dict[str, str]
) -> list[FieldChange]:
    """The field diffs of (already visible) event data, with labels and formatted values."""
    pairs: dict[str, Any] = {}
    if isinstance(data.get("changes"), dict):
        pairs.update(data["changes"])
    name = data.get("field")
    if isinstance(name, str) and ("old" in data or "new" in data):
        pairs[name] = [data.get("old"), data.get("new")]
    out = []
    for name, pair in pairs.items():
        before, after = [*pair, None, None][:2] if isinstance(pair, list) else (None, pair)
        out.append(
            FieldChange(
                name=str(name),
                label=field_label(model, str(name)),
                before=format_value(model, str(name), before),
                after=format_value(model, str(name), after),
                masked=field_mode(modes, str(name)) == FieldMode.MASKED,
            )
        )
    return out
