"""Definitions and picklists change only through the services: the rules they enforce."""

from __future__ import annotations

import pytest
from django.apps import apps

from kehu.core.errors import ConflictError, DomainError, PermissionDeniedError
from kehu.customfields import registry, selectors, services
from kehu.customfields.models import CustomField, Picklist, PicklistItem

from .factories import CustomFieldFactory, PicklistItemFactory, choice_list

pytestmark = pytest.mark.django_db
ACCOUNT = "customers.account"


def create(name: str = "contract_no", by=None, **data) -> CustomField:
    data.setdefault("label", "合同编号")
    data.setdefault("type", "text")
    return services.custom_field_create(model=ACCOUNT, name=name, data=data, by=by)


# --- definitions --------------------------------------------------------------------------------


def test_create_orders_fields_after_the_last(company) -> None:
    first = create("a_one", by=company.admin)
    second = create("a_two", by=company.admin, label_en="Second", required=True)
    assert (first.order, second.order) == (1, 2)
    assert second.model == ACCOUNT and second.label_en == "Second" and second.required is True


def test_only_administrators_define_fields(company) -> None:
    with pytest.raises(PermissionDeniedError):
        create(by=company.rep1)
    assert not CustomField.objects.exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("name", "This name is already a standard field of this model."),
        ("owner_id", "This name is already a standard field of this model."),
        ("custom", "This name is already a standard field of this model."),
        ("Contract", None),
        ("a__b", None),
        ("1abc", None),
        ("trailing_", None),
        ("", None),
    ],
)
def test_names_are_identifiers_that_do_not_clash(name, message) -> None:
    with pytest.raises(DomainError) as exc:
        create(name)
    assert "name" in exc.value.fields
    if message:
        assert exc.value.fields["name"] == [message]


def test_names_are_unique_per_model_even_when_inactive() -> None:
    field = create("contract_no")
    services.custom_field_deactivate(field=field, by=None)
    with pytest.raises(DomainError) as exc:
        create("contract_no")
    assert exc.value.fields == {"name": ["A custom field with this name already exists."]}
    # another model may use the name
    other = services.custom_field_create(
        model="customers.contact", name="contract_no", data={"label": "x", "type": "text"}, by=None
    )
    assert other.model == "customers.contact"


def test_only_registered_models_take_custom_fields() -> None:
    with pytest.raises(DomainError) as exc:
        services.custom_field_create(
            model="users.user", name="x", data={"label": "x", "type": "text"}, by=None
        )
    assert exc.value.fields == {"model": ["Custom fields cannot be defined on this model."]}


def test_pattern_must_compile_and_only_text_like_fields_take_one() -> None:
    with pytest.raises(DomainError) as exc:
        create(pattern="([a-z")
    assert list(exc.value.fields) == ["pattern"]
    assert exc.value.fields["pattern"][0].startswith("This is not a valid regular expression")
    with pytest.raises(DomainError) as exc:
        create(type="integer", pattern=r"^\d+$")
    assert exc.value.fields["pattern"] == [
        "A validation pattern applies only to text, URL, e-mail and phone fields."
    ]
    assert create(pattern=r"^HT\d+$").pattern == r"^HT\d+$"


def test_choice_fields_need_a_picklist_others_none() -> None:
    colours = choice_list()
    with pytest.raises(DomainError) as exc:
        create("colour", type="single_choice")
    assert exc.value.fields == {"picklist": ["Choose the picklist that holds the choices."]}
    with pytest.raises(DomainError) as exc:
        create("note", type="text", picklist=colours)
    assert exc.value.fields == {"picklist": ["Only choice fields use a picklist."]}


def test_boolean_cannot_be_required() -> None:
    with pytest.raises(DomainError) as exc:
        create("vip", type="boolean", required=True)
    assert exc.value.fields == {"required": ["A yes / no field cannot be required: unticked means no."]}


def test_default_is_validated_and_normalised() -> None:
    colours = choice_list()
    assert create("n", type="integer", default="42").default == 42
    assert create("tags", type="multi_choice", picklist=colours, default="blue, red").default == [
        "red",
        "blue",
    ]
    assert create("flag", type="boolean", default="true").default is True
    with pytest.raises(DomainError) as exc:
        create("d", type="date", default="tomorrow")
    assert exc.value.fields == {"default": ["Enter a valid date (YYYY-MM-DD)."]}


def test_unknown_attributes_are_refused() -> None:
    with pytest.raises(DomainError) as exc:
        create(order=5)
    assert exc.value.fields == {"order": ["This field cannot be set."]}


def test_type_changes_freely_without_values_but_not_with_them(make_account) -> None:
    field = create("size", type="text")
    field = services.custom_field_update(field=field, data={"type": "integer"}, by=None)
    assert field.type == "integer"
    make_account(custom={"size": 5})
    with pytest.raises(ConflictError) as exc:
        services.custom_field_update(field=field, data={"type": "date"}, by=None)
    assert exc.value.code == "type_change_refused"
    assert exc.value.status == 409
    assert exc.value.message == (
        "Records already hold values of this field, so its type cannot change from Integer to Date. "
        "Create a new field instead."
    )
    # a compatible change is allowed
    assert services.custom_field_update(field=field, data={"type": "decimal"}, by=None).type == "decimal"
    assert CustomField.objects.get(pk=field.pk).type == "decimal"


def test_picklist_of_a_used_choice_field_cannot_change(make_account) -> None:
    colours, other = choice_list(), choice_list("sizes", "s", "m")
    field = create("colour", type="single_choice", picklist=colours)
    make_account(custom={"colour": "red"})
    with pytest.raises(ConflictError) as exc:
        services.custom_field_update(field=field, data={"picklist": other}, by=None)
    assert exc.value.code == "picklist_change_refused"


def test_delete_refused_while_records_hold_values(make_account) -> None:
    field = create("size", type="integer")
    account = make_account(custom={"size": 5})
    with pytest.raises(ConflictError) as exc:
        services.custom_field_delete(field=field, by=None)
    assert exc.value.code == "in_use"
    assert (
        exc.value.message
        == "Records hold values of “合同编号”, so it cannot be deleted. Deactivate it instead."
    )
    account.custom = {}
    account.save()
    services.custom_field_delete(field=field, by=None)
    assert not CustomField.objects.exists()


def test_deactivate_and_reactivate() -> None:
    field = create()
    assert services.custom_field_deactivate(field=field, by=None).is_active is False
    assert selectors.custom_fields_for(ACCOUNT) == []
    assert services.custom_field_reactivate(field=field, by=None).is_active is True
    assert [f.name for f in selectors.custom_fields_for(ACCOUNT)] == ["contract_no"]


def test_reorder() -> None:
    a, _b, c = create("a"), create("b"), create("c")
    services.custom_field_reorder(model=ACCOUNT, ids=[c.pk, a.pk], by=None)
    assert [f.name for f in selectors.custom_fields_for(ACCOUNT)] == ["c", "a", "b"]
    other = services.custom_field_create(
        model="customers.contact", name="x", data={"label": "x", "type": "text"}, by=None
    )
    with pytest.raises(DomainError):
        services.custom_field_reorder(model=ACCOUNT, ids=[other.pk], by=None)
    with pytest.raises(DomainError):
        services.custom_field_reorder(model=ACCOUNT, ids=[a.pk, a.pk], by=None)


# --- picklists ----------------------------------------------------------------------------------


def test_seeded_picklists() -> None:
    # this app seeds these three; higher apps may seed more (e.g. customers' contact roles)
    assert {"industry", "source", "customer_level"} <= set(
        Picklist.objects.filter(is_system=True).values_list("code", flat=True)
    )
    levels = PicklistItem.objects.filter(picklist__code="customer_level").order_by("order")
    assert [(i.value, i.label, i.label_en) for i in levels] == [
        ("vip", "VIP 客户", "VIP"),
        ("a", "A 类客户", "Class A"),
        ("b", "B 类客户", "Class B"),
        ("c", "C 类客户", "Class C"),
    ]
    assert all(i.label and i.label_en and i.color for i in PicklistItem.objects.all())


def test_standard_field_usages_are_registered_by_customers() -> None:
    assert {u.label for u in registry.picklist_usages()} >= {
        "customers.account.industry",
        "customers.account.source",
        "customers.account.level",
    }
    assert registry.is_registered(ACCOUNT)


def test_picklist_code_is_fixed_and_unique(company) -> None:
    picklist = services.picklist_create(
        code="region", data={"name": "区域", "name_en": "Region"}, by=company.admin
    )
    with pytest.raises(DomainError) as exc:
        services.picklist_create(code="region", data={"name": "x"}, by=company.admin)
    assert list(exc.value.fields) == ["code"]
    with pytest.raises(DomainError) as exc:
        services.picklist_update(picklist=picklist, data={"code": "other"}, by=company.admin)
    assert exc.value.fields == {"code": ["This field cannot be set."]}
    with pytest.raises(PermissionDeniedError):
        services.picklist_update(picklist=picklist, data={"name": "x"}, by=company.rep1)


def test_system_and_used_picklists_cannot_be_deleted() -> None:
    industry = Picklist.objects.get(code="industry")
    with pytest.raises(ConflictError) as exc:
        services.picklist_delete(picklist=industry, by=None)
    assert exc.value.message == "“Industry” is a system picklist and cannot be deleted."
    colours = choice_list()
    create("colour", type="single_choice", picklist=colours)
    with pytest.raises(ConflictError) as exc:
        services.picklist_delete(picklist=colours, by=None)
    assert exc.value.code == "in_use"
    assert "customers.account.custom.colour" in str(exc.value.message)
    unused = choice_list("unused")
    services.picklist_delete(picklist=unused, by=None)
    assert not Picklist.objects.filter(code="unused").exists()
    assert not PicklistItem.objects.filter(picklist__code="unused").exists()


def test_item_held_by_a_standard_field_is_in_use(make_account) -> None:
    item = PicklistItem.objects.get(picklist__code="industry", value="finance")
    assert selectors.item_usage(item) == []
    make_account(industry="finance")
    assert selectors.item_usage(item) == ["customers.account.industry"]
    with pytest.raises(ConflictError) as exc:
        services.picklist_item_delete(item=item, by=None)
    assert exc.value.code == "in_use"
    assert exc.value.message == (
        "“Finance” is in use (customers.account.industry), so it cannot be deleted. Deactivate it instead."
    )
    # deactivating is the way out; the record keeps showing it
    assert services.picklist_item_deactivate(item=item, by=None).is_active is False
    assert services.picklist_item_reactivate(item=item, by=None).is_active is True


@pytest.mark.parametrize("multi", [False, True])
def test_item_held_by_a_custom_field_is_in_use(make_account, multi) -> None:
    colours = choice_list("colours", "red", "green", "blue", "gr")
    create("colour", type="multi_choice" if multi else "single_choice", picklist=colours)
    make_account(custom={"colour": ["green", "blue"] if multi else "green"})
    green, red, gr = (PicklistItem.objects.get(picklist=colours, value=v) for v in ("green", "red", "gr"))
    assert selectors.item_usage(green) == ["customers.account.custom.colour"]
    assert selectors.item_in_use(red) is False
    assert selectors.item_in_use(gr) is False  # "gr" is not "green"
    with pytest.raises(ConflictError):
        services.picklist_item_delete(item=green, by=None)
    with pytest.raises(ConflictError) as exc:
        services.picklist_item_update(item=green, data={"value": "lime"}, by=None)
    assert exc.value.fields == {"value": ["Records hold this value."]}
    services.picklist_item_delete(item=red, by=None)
    assert not PicklistItem.objects.filter(pk=red.pk).exists()


def test_item_that_is_a_default_cannot_be_deleted() -> None:
    colours = choice_list()
    create("colour", type="single_choice", picklist=colours, default="blue")
    blue = PicklistItem.objects.get(picklist=colours, value="blue")
    with pytest.raises(ConflictError) as exc:
        services.picklist_item_delete(item=blue, by=None)
    assert (
        exc.value.message
        == "“Blue” is the default value of the custom field “合同编号”. Change the default first."
    )


def test_item_values_are_codes_unique_ignoring_case() -> None:
    colours = choice_list()
    item = services.picklist_item_create(
        picklist=colours,
        data={"value": "navy", "label": "藏青", "label_en": "Navy", "color": "#1f2a44"},
        by=None,
    )
    assert item.order == 4
    assert item.badge_style == "background-color: #1f2a44; color: #ffffff;"
    with pytest.raises(DomainError) as exc:
        services.picklist_item_create(picklist=colours, data={"value": "RED", "label": "x"}, by=None)
    assert exc.value.fields == {"value": ["This value is already used in this picklist."]}
    for bad in ("有色", "a b", 'a"b', "-x"):
        with pytest.raises(DomainError) as exc:
            services.picklist_item_create(picklist=colours, data={"value": bad, "label": "x"}, by=None)
        assert list(exc.value.fields) == ["value"]
    with pytest.raises(DomainError) as exc:
        services.picklist_item_create(
            picklist=colours, data={"value": "ok", "label": "x", "color": "rainbow"}, by=None
        )
    assert exc.value.fields == {
        "color": ["Choose a colour from the palette or give a hex colour such as #1f77b4."]
    }


def test_item_reorder() -> None:
    colours = choice_list()
    red, green, blue = (PicklistItem.objects.get(picklist=colours, value=v) for v in ("red", "green", "blue"))
    services.picklist_item_reorder(picklist=colours, ids=[blue.pk, red.pk, green.pk], by=None)
    assert [i.value for i in selectors.picklist_items("colours")] == ["blue", "red", "green"]
    stranger = PicklistItemFactory.create()
    with pytest.raises(DomainError):
        services.picklist_item_reorder(picklist=colours, ids=[stranger.pk], by=None)


def test_picklist_choices_keep_the_current_deactivated_value() -> None:
    colours = choice_list()
    PicklistItem.objects.filter(picklist=colours, value="red").update(is_active=False)
    assert [v for v, _ in selectors.picklist_choices("colours")] == ["green", "blue"]
    assert [v for v, _ in selectors.picklist_choices("colours", current="red")] == ["red", "green", "blue"]
    assert selectors.picklist_label("colours", "red") == "Red"
    assert selectors.picklist_label("colours", "gone") == "gone"


def test_labels_follow_the_active_language() -> None:
    from django.utils import translation

    field = CustomFieldFactory.create(label="合同编号", label_en="Contract no.")
    item = PicklistItem.objects.get(picklist__code="customer_level", value="a")
    with translation.override("zh-hans"):
        assert (field.display_label, item.display_label) == ("合同编号", "A 类客户")
    with translation.override("en"):
        assert (field.display_label, item.display_label) == ("Contract no.", "Class A")
    field.label_en = ""
    with translation.override("en"):
        assert field.display_label == "合同编号"  # English falls back to Chinese


def test_custom_fields_are_restrictable_by_field_permissions(company) -> None:
    from django.utils import translation

    from kehu.users import selectors as users_selectors
    from kehu.users import services as users_services

    CustomFieldFactory.create(name="mobile", label="手机", label_en="Mobile", type="phone")
    with translation.override("en"):
        fields = dict(users_selectors.restrictable_fields(ACCOUNT))
    assert fields["custom.mobile"] == "Mobile (mobile)"
    CustomFieldFactory.create(model="users.user", name="stray", type="text")  # not a customizable model
    assert not [n for n, _ in users_selectors.restrictable_fields("users.user") if n.startswith("custom.")]
    users_services.role_update(
        role=company.role_rep, field_permissions=[(ACCOUNT, "custom.mobile", "masked")], by=company.admin
    )
    from kehu.core.permissions import field_modes

    assert field_modes(company.rep1, apps.get_model(ACCOUNT)) == {"custom.mobile": "masked"}
