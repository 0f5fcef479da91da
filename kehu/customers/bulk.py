"""Bulk actions on accounts and contacts (批量操作): the services and their list-menu entries.

The services take ids, keep only the rows within the acting user's scope for the action
(``restrict``; the others are counted as skipped), write in bulk (one UPDATE per batch) and record
every changed row in the audit log with `object_changes_record_bulk` (bulk writes fire no signals).
Bulk UPDATEs fire no signals either, so a write that changes a field of the search document
(`kehu.customers.search.INDEXED_FIELDS`) re-indexes the touched records itself (`search_reindex`).
`register()` (called from ``CustomersConfig.ready()``) puts them in `kehu.core.bulk`, whose runner
selects the rows, batches them and runs big selections as a background job; the audit app's hook
(`kehu.audit.hooks.record_bulk_operation`) writes the one operation-log entry per run.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, F, OuterRef, ProtectedError, RestrictedError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from kehu.audit.choices import ChangeAction
from kehu.audit.services import object_changes_record_bulk, timeline_record
from kehu.core import bulk
from kehu.core.bulk import BulkAction, BulkResult
from kehu.core.choices import Action
from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.owned import owner_cascades
from kehu.core.permissions import readonly_fields
from kehu.core.validators import normalise_email, normalise_phone
from kehu.customfields.rules import completeness
from kehu.customfields.selectors import picklist_choices
from kehu.search.services import search_reindex
from kehu.users.selectors import assignable_users

from .choices import PICKLIST_FIELDS, LifecycleStage
from .models import Account, Contact
from .search import INDEXED_FIELDS
from .services import LIFECYCLE_EVENT, _check_picklists

User = get_user_model()


def _ref(obj_id: Any, names: dict[Any, str]) -> dict[str, Any] | None:
    if obj_id is None:
        return None
    return {"id": obj_id, "repr": names.get(obj_id, f"#{obj_id}")}


def _user_names(ids: set[Any]) -> dict[Any, str]:
    ids = {i for i in ids if i is not None}
    return {u.pk: str(u) for u in User.objects.filter(pk__in=ids)} if ids else {}


def _department_names(ids: set[Any]) -> dict[Any, str]:
    from kehu.users.models import Department

    ids = {i for i in ids if i is not None}
    return {d.pk: str(d) for d in Department.objects.filter(pk__in=ids)} if ids else {}


def _allowed(model: type[models.Model], by: Any, action: str, ids: list[int]) -> models.QuerySet[Any]:
    return model._default_manager.restrict(by, action).filter(pk__in=ids)  # type: ignore[attr-defined]


def _reindex(model: type[models.Model], fields: set[str], ids: list[int]) -> None:
    """Keep the global search right after a bulk UPDATE (no signals): re-index the touched
    records when one of `fields` is part of their search document."""
    if ids and fields & INDEXED_FIELDS.get(model._meta.label_lower, frozenset()):
        search_reindex(model=model, ids=ids)


def _check_owner(owner: Any) -> None:
    if owner is None or not getattr(owner, "is_active", False):
        raise DomainError(
            _("The owner must be an active user."),
            code="inactive_owner",
            fields={"owner": [_("Not an active user.")]},
        )


def _move_owner(
    model: type[Account] | type[Contact],
    qs: models.QuerySet[Any],
    owner: Any,
    by: Any,
    *,
    parent_field: str | None = None,
) -> int:
    """Give the rows of `qs` to `owner` (department from the owner) in one UPDATE; audited."""
    department_id = owner.department_id
    fields = ["pk", "name", "owner_id", "department_id"] + ([f"{parent_field}_id"] if parent_field else [])
    rows = list(qs.exclude(owner=owner.pk, department_id=department_id).values_list(*fields))
    if not rows:
        return 0
    ids = [r[0] for r in rows]
    model.objects.filter(pk__in=ids).update(
        owner=owner, department_id=department_id, version=F("version") + 1, updated_at=timezone.now()
    )
    users = _user_names({r[2] for r in rows} | {owner.pk})
    departments = _department_names({r[3] for r in rows} | {department_id})
    audit_rows: list[Any] = []
    for row in rows:
        changes: dict[str, Any] = {}
        if row[2] != owner.pk:
            changes["owner"] = [_ref(row[2], users), _ref(owner.pk, users)]
        if row[3] != department_id:
            changes["department"] = [_ref(row[3], departments), _ref(department_id, departments)]
        if parent_field:
            audit_rows.append((row[0], row[1], changes, ("customers.account", row[4])))
        else:
            audit_rows.append((row[0], row[1], changes))
    object_changes_record_bulk(model=model, action=ChangeAction.UPDATE, rows=audit_rows, by=by)
    return len(rows)


# --- change owner ---------------------------------------------------------------------------


@transaction.atomic
def accounts_change_owner(
    *, ids: list[int], owner: Any, with_related: bool = False, by: Any, job: Any = None
) -> BulkResult:
    """Give the accounts `ids` (those the user may assign) to `owner`; with `with_related`, also
    their contacts and every related record registered with
    ``kehu.core.owned.register_owner_cascade("customers.account", ...)`` (e.g. open tasks)."""
    _check_owner(owner)
    allowed = _allowed(Account, by, Action.ASSIGN, ids)
    allowed_ids = list(allowed.values_list("pk", flat=True))
    result = BulkResult(skipped=len(set(ids)) - len(allowed_ids), done=len(allowed_ids))
    if not allowed_ids:
        return result
    result.extra["changed"] = _move_owner(Account, Account.objects.filter(pk__in=allowed_ids), owner, by)
    if with_related:
        contacts = Contact.objects.filter(account_id__in=allowed_ids)
        result.extra["contacts"] = _move_owner(Contact, contacts, owner, by, parent_field="account")
        for cascade in owner_cascades("customers.account"):
            result.extra[cascade.key] = int(cascade.fn(parent_ids=allowed_ids, owner=owner, by=by) or 0)
    return result


@transaction.atomic
def contacts_change_owner(*, ids: list[int], owner: Any, by: Any, job: Any = None) -> BulkResult:
    _check_owner(owner)
    allowed_ids = list(_allowed(Contact, by, Action.ASSIGN, ids).values_list("pk", flat=True))
    result = BulkResult(skipped=len(set(ids)) - len(allowed_ids), done=len(allowed_ids))
    if allowed_ids:
        result.extra["changed"] = _move_owner(
            Contact, Contact.objects.filter(pk__in=allowed_ids), owner, by, parent_field="account"
        )
    return result


# --- set a field ----------------------------------------------------------------------------

ACCOUNT_BULK_FIELDS: dict[str, Any] = {
    "level": pgettext_lazy("customers", "Level"),
    "industry": gettext_lazy("Industry"),
    "source": gettext_lazy("Source"),
    "lifecycle_stage": gettext_lazy("Lifecycle stage"),
    "is_active": gettext_lazy("Active"),
}
CONTACT_BULK_FIELDS: dict[str, Any] = {
    "do_not_call": gettext_lazy("Do not call"),
    "do_not_email": gettext_lazy("Do not e-mail"),
    "do_not_sms": gettext_lazy("Do not text (SMS)"),
    "do_not_wechat": gettext_lazy("Do not contact on WeChat"),
    "do_not_visit": gettext_lazy("Do not visit"),
}
_BOOLEAN_FIELDS = {"is_active", *CONTACT_BULK_FIELDS}


def _field_value(model: type[models.Model], field: str, value: Any) -> Any:
    """The value to store, validated by the same rules as a single edit."""
    if field in _BOOLEAN_FIELDS:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "1", "yes"):
            return True
        if str(value).lower() in ("false", "0", "no"):
            return False
        raise DomainError(_("Choose yes or no."), fields={"value": [_("Choose yes or no.")]})
    value = "" if value is None else str(value).strip()
    if field == "lifecycle_stage":
        if value not in LifecycleStage.values:
            raise DomainError(
                _("Choose a lifecycle stage from the list."),
                fields={"value": [_("Choose a lifecycle stage from the list.")]},
            )
        return value
    if field in PICKLIST_FIELDS:
        try:
            _check_picklists({field: value}, None)
        except DomainError as exc:
            raise DomainError(exc.message, fields={"value": [_("Choose a value from the list.")]}) from exc
        return value
    f = model._meta.get_field(field)
    if isinstance(f, models.CharField) and not f.choices:
        return _text_value(f, field, value)
    raise DomainError(_("This field cannot be changed in bulk."), fields={"field": [_("Not allowed.")]})


def _text_value(f: models.CharField[Any, Any], field: str, value: str) -> str:
    """A plain text field (name, phone, e-mail, WeChat ID ...), normalised like a single edit."""
    try:
        if field in ("phone", "mobile"):
            value = normalise_phone(value)
        elif isinstance(f, models.EmailField):
            value = normalise_email(value)
    except ValidationError as exc:
        message = " ".join(str(m) for m in exc.messages)
        raise DomainError(message, fields={"value": [message]}) from exc
    if not value and not f.blank:
        raise DomainError(_("This field is required."), fields={"value": [_("This field is required.")]})
    if f.max_length is not None and len(value) > f.max_length:
        message = _("At most %(n)d characters.") % {"n": f.max_length}
        raise DomainError(message, fields={"value": [message]})
    return value


def _set_field(
    model: type[Account] | type[Contact],
    allowed_fields: dict[str, Any],
    *,
    ids: list[int],
    field: str,
    value: Any,
    by: Any,
) -> BulkResult:
    if field not in allowed_fields:
        raise DomainError(_("This field cannot be changed in bulk."), fields={"field": [_("Not allowed.")]})
    if field in readonly_fields(by, model):
        raise PermissionDeniedError(
            _("You may not change this field."), fields={"field": [_("Not allowed.")]}
        )
    value = _field_value(model, field, value)
    qs = _allowed(model, by, Action.CHANGE, ids)
    objs = list(qs.select_for_update())
    result = BulkResult(skipped=len(set(ids)) - len(objs), done=len(objs))
    changed = [o for o in objs if getattr(o, field) != value]
    if not changed:
        return result
    now = timezone.now()
    before = {o.pk: getattr(o, field) for o in changed}
    values: dict[str, Any] = {field: value, "version": F("version") + 1, "updated_at": now}
    if field == "lifecycle_stage":
        values["lifecycle_changed_at"] = now
    model.objects.filter(pk__in=[o.pk for o in changed]).update(**values)
    # Completeness follows the new value: one UPDATE per distinct score.
    by_score: dict[int, list[int]] = defaultdict(list)
    for obj in changed:
        setattr(obj, field, value)
        score = completeness(model=model, obj=obj)
        if score != obj.completeness:
            by_score[score].append(obj.pk)
    for score, pks in by_score.items():
        model.objects.filter(pk__in=pks).update(completeness=score)
    _reindex(model, {field}, [o.pk for o in changed])
    rows: list[Any] = []
    for obj in changed:
        parent = ("customers.account", obj.account_id) if isinstance(obj, Contact) else None
        entry = (obj.pk, str(obj), {field: [before[obj.pk], value]})
        rows.append((*entry, parent) if parent else entry)
    object_changes_record_bulk(model=model, action=ChangeAction.UPDATE, rows=rows, by=by)
    if field == "lifecycle_stage":
        for obj in changed:
            timeline_record(
                event=LIFECYCLE_EVENT,
                obj=obj,
                by=by,
                account_id=obj.pk,
                data={"changes": {"lifecycle_stage": [before[obj.pk], value]}},
            )
    result.extra["changed"] = len(changed)
    return result


@transaction.atomic
def accounts_set_field(*, ids: list[int], field: str, value: Any, by: Any, job: Any = None) -> BulkResult:
    """Set one field allowed for bulk edits (level, industry, source, lifecycle stage, active) on
    the accounts the user may change, validated like a single edit."""
    return _set_field(Account, ACCOUNT_BULK_FIELDS, ids=ids, field=field, value=value, by=by)


@transaction.atomic
def contacts_set_field(*, ids: list[int], field: str, value: Any, by: Any, job: Any = None) -> BulkResult:
    """Set one of the "do not contact" flags on the contacts the user may change."""
    return _set_field(Contact, CONTACT_BULK_FIELDS, ids=ids, field=field, value=value, by=by)


# --- delete ---------------------------------------------------------------------------------


def _delete_rows(
    model: type[models.Model], ids: list[int], names: dict[int, str], result: BulkResult
) -> None:
    """Delete in one statement; when something protects a row, row by row with the reason."""
    from kehu.tags.services import tags_forget

    if not ids:
        return
    try:
        with transaction.atomic():
            model._default_manager.filter(pk__in=ids).delete()
        deleted = ids
    except (ProtectedError, RestrictedError):
        deleted = []
        for pk in ids:
            try:
                with transaction.atomic():
                    model._default_manager.filter(pk=pk).delete()
                deleted.append(pk)
            except (ProtectedError, RestrictedError):
                result.fail(pk, names.get(pk, f"#{pk}"), _("Other records still refer to it."))
    result.done += len(deleted)
    tags_forget(model=model, ids=deleted)


@transaction.atomic
def accounts_delete(*, ids: list[int], by: Any, job: Any = None) -> BulkResult:
    """Delete the accounts the user may delete. Accounts that still have contacts or child accounts
    are refused (reported as failed with the reason), like a single delete."""
    qs = _allowed(Account, by, Action.DELETE, ids).annotate(
        has_contacts=Exists(Contact.objects.filter(account=OuterRef("pk"))),
        has_children=Exists(Account.objects.filter(parent=OuterRef("pk"))),
    )
    rows = list(qs.values_list("pk", "name", "has_contacts", "has_children"))
    result = BulkResult(skipped=len(set(ids)) - len(rows))
    names = {pk: name for pk, name, _c, _h in rows}
    ok: list[int] = []
    for pk, name, has_contacts, has_children in rows:
        if has_contacts:
            result.fail(
                pk, name, _("It still has contacts. Delete them or move them to another account first.")
            )
        elif has_children:
            result.fail(
                pk, name, _("It is the parent account of other accounts. Give them another parent first.")
            )
        else:
            ok.append(pk)
    _delete_rows(Account, ok, names, result)
    return result


@transaction.atomic
def contacts_delete(*, ids: list[int], by: Any, job: Any = None) -> BulkResult:
    rows = list(_allowed(Contact, by, Action.DELETE, ids).values_list("pk", "name"))
    result = BulkResult(skipped=len(set(ids)) - len(rows))
    _delete_rows(Contact, [pk for pk, _n in rows], dict(rows), result)
    return result


# --- tags -----------------------------------------------------------------------------------


def _tags(model: type[models.Model], *, ids: list[int], tags: Any, by: Any, add: bool) -> BulkResult:
    from kehu.tags.services import tags_add, tags_remove

    allowed_ids = list(_allowed(model, by, Action.CHANGE, ids).values_list("pk", flat=True))
    result = BulkResult(skipped=len(set(ids)) - len(allowed_ids), done=len(allowed_ids))
    if allowed_ids:
        fn = tags_add if add else tags_remove
        result.extra["added" if add else "removed"] = fn(model=model, ids=allowed_ids, tags=list(tags), by=by)
    return result


# --- forms and registration -----------------------------------------------------------------


class ChangeOwnerForm(forms.Form):
    owner = forms.ModelChoiceField(
        queryset=assignable_users().order_by("username"),
        label=gettext_lazy("New owner"),
        widget=forms.Select(attrs={"data-tom-select": ""}),
    )
    with_related = forms.BooleanField(
        label=gettext_lazy("With related records"),
        required=False,
        help_text=gettext_lazy(
            "Also give them the account's contacts and open tasks and other related records."
        ),
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)


class ContactChangeOwnerForm(ChangeOwnerForm):
    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, user=user, **kwargs)
        del self.fields["with_related"]


def _tags_form(model: type[models.Model]) -> type[forms.Form]:
    class TagsForm(forms.Form):
        tags: forms.ModelMultipleChoiceField = forms.ModelMultipleChoiceField(
            queryset=None,
            label=gettext_lazy("Tags"),
            widget=forms.SelectMultiple(attrs={"data-tom-select": ""}),
        )

        def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
            from kehu.tags.models import Tag
            from kehu.tags.selectors import applicable_tags

            super().__init__(*args, **kwargs)
            ids = [t.pk for t in applicable_tags(model, active_only=False)]
            field: Any = self.fields["tags"]
            field.queryset = Tag.objects.filter(pk__in=ids).order_by("name")

    return TagsForm


def _set_field_form(model: type[models.Model], allowed: dict[str, Any]) -> type[forms.Form]:
    class SetFieldForm(forms.Form):
        assignment = forms.ChoiceField(label=gettext_lazy("Set"), choices=())

        def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            locked = readonly_fields(user, model) if user is not None else set()
            groups: list[Any] = [("", "---------")]
            for name, label in allowed.items():
                if name in locked:
                    continue
                if name in _BOOLEAN_FIELDS:
                    options: list[tuple[str, Any]] = [(f"{name}=true", _("Yes")), (f"{name}=false", _("No"))]
                elif name == "lifecycle_stage":
                    options = [(f"{name}={v}", lbl) for v, lbl in LifecycleStage.choices]
                else:
                    options = [(f"{name}=", _("(empty)"))]
                    options += [
                        (f"{name}={v}", lbl) for v, lbl in picklist_choices(PICKLIST_FIELDS[name]) if v
                    ]
                groups.append((str(label), options))
            field: Any = self.fields["assignment"]
            field.choices = groups

        def clean(self) -> dict[str, Any]:
            data = super().clean() or {}
            field, _sep, value = str(data.get("assignment") or "").partition("=")
            data["field"], data["value"] = field, value
            return data

    return SetFieldForm


def _action(fn: Any, **fixed: Any) -> Any:
    def run(*, ids: list[int], params: dict[str, Any], by: Any, job: Any = None) -> BulkResult:
        return fn(ids=ids, by=by, job=job, **fixed, **params)

    return run


def register() -> None:
    """Called from ``CustomersConfig.ready()``."""
    for label, model in (("customers.account", Account), ("customers.contact", Contact)):
        is_account = model is Account
        bulk.register_bulk_action(
            label,
            BulkAction(
                "change_owner",
                gettext_lazy("Change owner"),
                fn=_action(
                    lambda *, ids, by, job=None, owner, with_related=False: accounts_change_owner(
                        ids=ids, owner=owner, with_related=with_related, by=by, job=job
                    )
                )
                if is_account
                else _action(contacts_change_owner),
                permission=Action.ASSIGN,
                form_class=ChangeOwnerForm if is_account else ContactChangeOwnerForm,
                icon="user-share",
                order=10,
            ),
        )
        bulk.register_bulk_action(
            label,
            BulkAction(
                "tags_add",
                gettext_lazy("Add tags"),
                fn=_action(
                    lambda *, ids, by, job=None, tags, m=model: _tags(m, ids=ids, tags=tags, by=by, add=True)
                ),
                permission=Action.CHANGE,
                form_class=_tags_form(model),
                icon="tag",
                order=20,
            ),
        )
        bulk.register_bulk_action(
            label,
            BulkAction(
                "tags_remove",
                gettext_lazy("Remove tags"),
                fn=_action(
                    lambda *, ids, by, job=None, tags, m=model: _tags(m, ids=ids, tags=tags, by=by, add=False)
                ),
                permission=Action.CHANGE,
                form_class=_tags_form(model),
                icon="tag-off",
                order=21,
            ),
        )
        set_fn = accounts_set_field if is_account else contacts_set_field
        bulk.register_bulk_action(
            label,
            BulkAction(
                "set_field",
                gettext_lazy("Set a field"),
                fn=_action(
                    lambda *, ids, by, job=None, field, value, assignment=None, f=set_fn: f(
                        ids=ids, field=field, value=value, by=by, job=job
                    )
                ),
                permission=Action.CHANGE,
                form_class=_set_field_form(model, ACCOUNT_BULK_FIELDS if is_account else CONTACT_BULK_FIELDS),
                icon="pencil",
                order=30,
            ),
        )
        bulk.register_bulk_action(
            label,
            BulkAction(
                "delete",
                gettext_lazy("Delete"),
                fn=_action(accounts_delete if is_account else contacts_delete),
                permission=Action.DELETE,
                confirm=True,
                danger=True,
                icon="trash",
                order=90,
                help_text=gettext_lazy("Accounts that still have contacts or child accounts are not deleted.")
                if is_account
                else "",
            ),
        )
