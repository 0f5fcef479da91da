"""Display names of job kinds ("export", "import", ...). Apps register theirs in `ready()`:
`register_job_kind("import", _("Import"))`."""

from __future__ import annotations

from django.utils.functional import Promise

_kinds: dict[str, str | Promise] = {}


def register_job_kind(kind: str, label: str | Promise) -> None:
    _kinds[kind] = label


def job_kind_label(kind: str) -> str:
    label = _kinds.get(kind)
    return str(label) if label is not None else kind
