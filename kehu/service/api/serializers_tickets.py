"""Serializers of the ticket API: the ticket (writes go to `services.tickets`), its messages and
attachments, and the bodies of its actions."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from kehu.catalog.models import Product
from kehu.commerce.models import Order
from kehu.core.api.fastlist import FastListSerializer
from kehu.core.api.mixins import CachedModelFieldsMixin, FieldPermissionSerializerMixin
from kehu.core.choices import Action
from kehu.customers.models import Account, Contact
from kehu.customfields.api.fields import CustomFieldsField
from kehu.tags.api.fields import TagsField
from kehu.users.selectors import assignable_users

from ..models import Queue, Ticket, TicketAttachment, TicketCategory, TicketMessage, TicketStatus, TicketType

SCOPED = {"account": Account, "contact": Contact, "product": Product, "order": Order}


class TicketSerializer(FieldPermissionSerializerMixin, CachedModelFieldsMixin, serializers.ModelSerializer):
    type = serializers.PrimaryKeyRelatedField(
        queryset=TicketType.objects.all(),
        required=False,
        help_text="Ticket type id (default: the first active type).",
    )
    priority = serializers.IntegerField(
        required=False, help_text="1 low, 2 normal, 3 high, 4 urgent (default: the type's)."
    )
    channel = serializers.CharField(
        required=False, help_text="phone, email, web, chat, wechat, walk_in, api (default: phone)."
    )
    category = serializers.PrimaryKeyRelatedField(
        queryset=TicketCategory.objects.all(), required=False, allow_null=True
    )
    account = serializers.PrimaryKeyRelatedField(
        queryset=Account.objects.none(),
        required=False,
        allow_null=True,
        help_text="Account id (one you may see).",
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(),
        required=False,
        allow_null=True,
        help_text="Contact id of the account.",
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.none(), required=False, allow_null=True
    )
    order = serializers.PrimaryKeyRelatedField(
        queryset=Order.objects.none(),
        required=False,
        allow_null=True,
        help_text="The order (after-sales types).",
    )
    queue = serializers.PrimaryKeyRelatedField(queryset=Queue.objects.all(), required=False, allow_null=True)
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(),
        required=False,
        allow_null=True,
        help_text="On create only: the agent (else the queue's automatic assignment). Change with …/assign/.",
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Rich text (HTML, sanitised); the plain text is description_text.",
    )
    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="The version you read (409 if someone changed the ticket since).",
    )
    custom = CustomFieldsField(required=False)
    tags = TagsField(required=False)
    sla_breached = serializers.SerializerMethodField(help_text="Any SLA timer breached.")

    class Meta:
        model = Ticket
        fields = [
            "id",
            "number",
            "subject",
            "description",
            "description_text",
            "type",
            "status",
            "state",
            "priority",
            "channel",
            "category",
            "account",
            "contact",
            "requester_name",
            "requester_email",
            "requester_phone",
            "product",
            "order",
            "queue",
            "assignee",
            "department",
            "sla_policy",
            "first_response_due",
            "next_response_due",
            "resolution_due",
            "sla_paused_at",
            "first_response_breached",
            "next_response_breached",
            "resolution_breached",
            "sla_breached",
            "escalation_level",
            "first_responded_at",
            "last_customer_message_at",
            "last_agent_message_at",
            "resolved_at",
            "closed_at",
            "reopened_count",
            "merged_into",
            "split_from",
            "custom",
            "tags",
            "version",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "number",
            "description_text",
            "status",
            "state",
            "department",
            "sla_policy",
            "first_response_due",
            "next_response_due",
            "resolution_due",
            "sla_paused_at",
            "first_response_breached",
            "next_response_breached",
            "resolution_breached",
            "escalation_level",
            "first_responded_at",
            "last_customer_message_at",
            "last_agent_message_at",
            "resolved_at",
            "closed_at",
            "reopened_count",
            "merged_into",
            "split_from",
            "created_by",
            "created_at",
            "updated_at",
        ]
        list_serializer_class = FastListSerializer

    def get_sla_breached(self, obj: Ticket) -> bool:
        return bool(obj.first_response_breached or obj.next_response_breached or obj.resolution_breached)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None:
            for name, model in SCOPED.items():
                if name in fields:
                    fields[name].queryset = model.objects.restrict(request.user, Action.VIEW)  # type: ignore[attr-defined]
        if self.instance is not None and not isinstance(self.instance, list | tuple) and "assignee" in fields:
            fields["assignee"].read_only = True
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None and not attrs.get("subject"):
            raise serializers.ValidationError(
                {"subject": [serializers.Field.default_error_messages["required"]]}
            )
        return attrs


class TicketMessageSerializer(serializers.ModelSerializer):
    kind = serializers.CharField(read_only=True, help_text="customer, reply, note (internal) or system.")
    body_text = serializers.SerializerMethodField(
        help_text="The message as plain text; a system line (merge, split, SLA warning or breach, "
        "escalation) in the request's language."
    )
    attachments = serializers.SerializerMethodField()

    def get_body_text(self, obj: TicketMessage) -> str:
        from ..selectors.tickets import system_line_text

        return system_line_text(obj)

    class Meta:
        model = TicketMessage
        fields = [
            "id",
            "kind",
            "author",
            "from_name",
            "from_email",
            "to",
            "cc",
            "subject",
            "body",
            "body_text",
            "channel",
            "delivery",
            "sent_at",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields

    def get_attachments(self, obj: TicketMessage) -> list[int]:
        return [a.pk for a in obj.attachments.all()]


class TicketAttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = TicketAttachment
        fields = [
            "id",
            "message",
            "name",
            "size",
            "content_type",
            "is_public",
            "uploaded_by",
            "created_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, obj: TicketAttachment) -> str:
        return f"/api/v1/service/tickets/{obj.ticket_id}/attachments/{obj.pk}/download/"


# --- action bodies ---------------------------------------------------------------------------


class TicketAssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(), required=False, allow_null=True, help_text="User id; null: unassign."
    )
    queue = serializers.PrimaryKeyRelatedField(
        queryset=Queue.objects.all(), required=False, allow_null=True, help_text="Move to this queue first."
    )
    auto = serializers.BooleanField(
        required=False, default=False, help_text="Let the queue's assignment choose."
    )


class TicketMoveSerializer(serializers.Serializer):
    status = serializers.PrimaryKeyRelatedField(
        queryset=TicketStatus.objects.filter(is_active=True),
        help_text="Target status id (the flow must allow it).",
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class TicketNoteBodySerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class TicketReplySerializer(serializers.Serializer):
    body = serializers.CharField(help_text="HTML (sanitised).")
    cc = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    status = serializers.PrimaryKeyRelatedField(
        queryset=TicketStatus.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        help_text="Where the ticket goes next (e.g. waiting on customer).",
    )


class TicketInternalNoteSerializer(serializers.Serializer):
    body = serializers.CharField(help_text="HTML (sanitised); never e-mailed.")


class TicketMergeSerializer(serializers.Serializer):
    target = serializers.IntegerField(min_value=1, help_text="The ticket id to merge this one into.")
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class TicketSplitSerializer(serializers.Serializer):
    messages = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        min_length=1,
        help_text="Ids of this ticket's messages to move.",
    )
    subject = serializers.CharField(required=False, allow_blank=True, max_length=255)


class TicketWatchSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(
        queryset=assignable_users(), required=False, allow_null=True, help_text="Default: you."
    )


class TicketEscalateSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class TicketAttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The file (KEHU_ATTACHMENT_TYPES, at most KEHU_ATTACHMENT_MAX_BYTES)."
    )
    is_public = serializers.BooleanField(required=False, default=True, help_text="Visible to the customer.")
