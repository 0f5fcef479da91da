from __future__ import annotations

from rest_framework import serializers

from ..choices import KeyKind, PolicyMode


class CollisionMatchSerializer(serializers.Serializer):
    """One existing record that matches (masked when the user may not view it)."""

    model = serializers.CharField(help_text='"sales.lead", "customers.account" or "customers.contact".')
    model_name = serializers.CharField(help_text="The record type, translated.")
    id = serializers.IntegerField()
    label = serializers.CharField(help_text="The record's name (masked when not visible).")  # type: ignore[assignment]
    owner_name = serializers.CharField(help_text="Its owner (masked when not visible; empty in a pool).")
    in_pool = serializers.BooleanField()
    matched_on = serializers.ChoiceField(choices=KeyKind.choices, help_text="The strongest key that matched.")
    kinds = serializers.ListField(child=serializers.ChoiceField(choices=KeyKind.choices))
    fields = serializers.ListField(  # type: ignore[assignment]
        child=serializers.CharField(), help_text="The fields of the checked values that matched."
    )
    visible = serializers.BooleanField(help_text="False: the user may not view the record.")
    url = serializers.CharField(help_text="The record's page (empty when not visible).")


class CollisionErrorSerializer(serializers.Serializer):
    """409 answer of a create or edit that collides (code "collision")."""

    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]
    policy = serializers.ChoiceField(choices=PolicyMode.choices)
    confirm_field = serializers.CharField(
        allow_null=True, help_text='Send this body field as true to save anyway (null under "block").'
    )
    matches = CollisionMatchSerializer(many=True)


class CollisionConfirmSerializer(serializers.Serializer):
    """The request field that saves a record despite collision warnings (policy "warn")."""

    confirm_collisions = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Save although the collision check (撞单检查) found matching records (policy “warn”); "
        "without it a collision answers 409 with the matches.",
    )


class CheckRequestSerializer(serializers.Serializer):
    model = serializers.CharField(help_text='The record type checked: "sales.lead", "customers.account", ...')
    values = serializers.DictField(
        help_text='Field values, e.g. {"phone": "138 1234 5678", "company": "某某科技有限公司"}; '
        'list fields ("phones", "emails") take strings or rows.'
    )
    exclude_id = serializers.IntegerField(
        required=False, allow_null=True, help_text="The record being edited."
    )


class CheckResponseSerializer(serializers.Serializer):
    policy = serializers.ChoiceField(choices=PolicyMode.choices)
    matches = CollisionMatchSerializer(many=True)


class PolicySerializer(serializers.Serializer):
    model = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    kinds = serializers.ListField(child=serializers.CharField(), read_only=True)
    mode = serializers.ChoiceField(choices=PolicyMode.choices)
