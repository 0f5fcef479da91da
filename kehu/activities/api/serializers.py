"""API shapes of interactions and tasks. Rules (scopes, follow-ups, recurrence) live in the services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from kehu.core.api.mixins import FieldPermissionSerializerMixin
from kehu.core.choices import Action
from kehu.customers.models import Account, Contact
from kehu.customfields.api.fields import CustomFieldsField
from kehu.sales.models import Lead, Opportunity
from kehu.users.selectors import assignable_users

from ..models import Interaction, Task

OWNED_READ_ONLY = ["id", "department", "created_by", "created_at", "updated_at"]


def _scoped(fields: dict[str, Any], request: Any, instance: Any) -> None:
    """Accounts, contacts, leads and opportunities: only those the user may view (plus the
    record's current ones)."""
    if request is None:
        return
    refs: tuple[tuple[str, Any], ...] = (
        ("account", Account),
        ("contact", Contact),
        ("lead", Lead),
        ("opportunity", Opportunity),
    )
    for name, model in refs:
        if name not in fields:
            continue
        qs = model.objects.restrict(request.user, Action.VIEW)
        current = getattr(instance, f"{name}_id", None) if instance is not None else None
        if current:
            qs = qs | model.objects.filter(pk=current)
        fields[name].queryset = qs
    if "participant_contacts" in fields:
        fields["participant_contacts"].child_relation.queryset = Contact.objects.restrict(
            request.user, Action.VIEW
        )


def _link(model: type[Any], help_text: str) -> serializers.PrimaryKeyRelatedField:
    """An optional link by id; `_scoped` narrows its queryset to what the user may view."""
    return serializers.PrimaryKeyRelatedField(
        queryset=model.objects.none(), required=False, allow_null=True, help_text=help_text
    )


# The links an interaction and a task share (account, contact, lead, opportunity), offered only within
# the user's scope (see `_scoped`). Subclasses set Meta. (No docstring: drf-spectacular would show it.)
class _LinkedActivitySerializer(FieldPermissionSerializerMixin, serializers.ModelSerializer):
    account = _link(Account, "Id of an account you may view.")
    contact = _link(Contact, "Id of a contact you may view.")
    lead = _link(Lead, "Id of a lead you may view (not converted); the activity then needs no account.")
    opportunity = _link(
        Opportunity, "Id of an opportunity you may view; its account is used when none is given."
    )
    version = serializers.IntegerField(required=False, min_value=1)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        model = self.Meta.model
        _scoped(
            fields, self.context.get("request"), self.instance if isinstance(self.instance, model) else None
        )
        return fields


class InteractionSerializer(_LinkedActivitySerializer):
    account = _link(Account, "Id of an account you may view; may be left out when a contact is given.")
    participants = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(),
        many=True,
        required=False,
        help_text="Colleagues who took part (user ids).",
    )
    participant_contacts = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(),
        many=True,
        required=False,
        help_text="Other contacts present: ids of contacts you may view that work with the account.",
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(),
        required=False,
        help_text="Owner user id; logging for someone else needs the assign permission.",
    )
    occurred_at = serializers.DateTimeField(required=False, help_text="When it happened (default: now).")
    duration_minutes = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=100_000
    )
    custom = CustomFieldsField(required=False)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "kind",
            "subject",
            "body",
            "occurred_at",
            "duration_minutes",
            "outcome",
            "direction",
            "location",
            "account",
            "contact",
            "lead",
            "opportunity",
            "participants",
            "participant_contacts",
            "next_follow_up_at",
            "task",
            "owner",
            "department",
            "custom",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*OWNED_READ_ONLY, "task"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not any(
            attrs.get(k) for k in ("account", "contact", "lead", "opportunity")
        ):
            raise serializers.ValidationError({"account": [_("Choose an account or a contact.")]})
        return attrs


class TaskSerializer(_LinkedActivitySerializer):
    owner = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(),
        required=False,
        help_text="Assignee user id; giving the task to someone else needs the assign permission.",
    )
    recurrence_interval = serializers.IntegerField(required=False, min_value=1, max_value=366)
    remind_before_minutes = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=525_600,
        help_text=(
            "Minutes before the due time (an all-day task: before the end of its day); null: no "
            "reminder. Left out when creating: the assignee's default reminder."
        ),
    )
    is_overdue = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "title",
            "description",
            "due_at",
            "all_day",
            "priority",
            "status",
            "completed_at",
            "is_overdue",
            "account",
            "contact",
            "lead",
            "opportunity",
            "interaction",
            "recurrence",
            "recurrence_interval",
            "recurrence_until",
            "series",
            "remind_before_minutes",
            "owner",
            "department",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [*OWNED_READ_ONLY, "completed_at", "interaction", "series"]

    def get_is_overdue(self, obj: Task) -> bool:
        return obj.is_overdue()


class TaskActionSerializer(serializers.Serializer):
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read: refused (409) when the task changed since.",
    )
