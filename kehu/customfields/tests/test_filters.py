"""Generated list filters on real JSON columns (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
import pytest
from django.apps import apps
from django.utils import timezone

from kehu.customfields.filters import add_custom_filters, custom_filters
from kehu.customfields.services import custom_values_clean

from .factories import CustomFieldFactory, choice_list

pytestmark = pytest.mark.django_db


class AccountFilterSet(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = apps.get_model("customers", "Account")
        fields = ["name"]


@pytest.fixture
def data(make_account):
    colours = choice_list("colours", "red", "green", "blue", "gr")
    for name, type_ in [
        ("code", "text"),
        ("staff", "integer"),
        ("revenue", "decimal"),
        ("founded", "date"),
        ("met_at", "datetime"),
        ("vip", "boolean"),
        ("colour", "single_choice"),
        ("tags", "multi_choice"),
        ("mail", "email"),
    ]:
        CustomFieldFactory.create(
            name=name, type=type_, filterable=True, picklist=colours if "choice" in type_ else None
        )
    CustomFieldFactory.create(name="hidden_from_filters", type="text", filterable=False)

    def make(name, **values):
        return make_account(name=name, custom=custom_values_clean(model="customers.account", values=values))

    with timezone.override("Asia/Shanghai"):
        return {
            "a": make(
                "A",
                code="HT-北京-001",
                staff=5,
                revenue="9.5",
                founded="2020-01-31",
                met_at="2024-05-01T07:59",
                vip=True,
                colour="red",
                tags=["green", "blue"],
                mail="Zhang@Example.com",
            ),
            "b": make(
                "B",
                code="ht-上海-002",
                staff=50,
                revenue="10.25",
                founded="2021-06-01",
                met_at="2024-05-01T08:00",
                vip=False,
                colour="green",
                tags=["gr"],
            ),
            "c": make(
                "C", staff=500, revenue="100", founded="2019-12-31", met_at="2024-04-30T23:59", colour="gr"
            ),
            "d": make("D"),
        }


def names(params, tz="Asia/Shanghai"):
    Account = apps.get_model("customers", "Account")
    with timezone.override(tz):
        fs = AccountFilterSet(params, queryset=Account.objects.all())
        add_custom_filters(fs)
        assert fs.is_valid(), fs.errors
        return sorted(a.name for a in fs.qs)


def test_filters_for_filterable_fields_only(data) -> None:
    keys = set(custom_filters("customers.account"))
    assert keys == {
        "custom__code",
        "custom__staff__gte",
        "custom__staff__lte",
        "custom__revenue__gte",
        "custom__revenue__lte",
        "custom__founded__gte",
        "custom__founded__lte",
        "custom__met_at__gte",
        "custom__met_at__lte",
        "custom__vip",
        "custom__colour",
        "custom__tags",
        "custom__mail",
    }


def test_text_contains_ignoring_case(data) -> None:
    assert names({"custom__code": "ht-"}) == ["A", "B"]
    assert names({"custom__code": "北京"}) == ["A"]
    assert names({"custom__mail": "zhang@"}) == ["A"]
    assert names({"custom__code": ""}) == ["A", "B", "C", "D"]


def test_integer_range(data) -> None:
    assert names({"custom__staff__gte": "50"}) == ["B", "C"]
    assert names({"custom__staff__lte": "50"}) == ["A", "B"]
    assert names({"custom__staff__gte": "6", "custom__staff__lte": "499"}) == ["B"]


def test_decimal_range_is_numeric_not_textual(data) -> None:
    # as text "10.25" < "9.5"; as numbers 9.5 < 10.25 < 100
    assert names({"custom__revenue__gte": "9.6"}) == ["B", "C"]
    assert names({"custom__revenue__lte": "10.25"}) == ["A", "B"]
    assert names({"custom__revenue__gte": "10", "custom__revenue__lte": "99.99"}) == ["B"]


def test_date_range(data) -> None:
    assert names({"custom__founded__gte": "2020-01-31"}) == ["A", "B"]
    assert names({"custom__founded__lte": "2020-01-31"}) == ["A", "C"]


def test_datetime_range_by_local_dates(data) -> None:
    # stored in UTC: A 2024-04-30T23:59Z, B 2024-05-01T00:00Z, C 2024-04-30T15:59Z
    assert names({"custom__met_at__gte": "2024-05-01"}) == ["A", "B"]
    assert names({"custom__met_at__lte": "2024-04-30"}) == ["C"]
    # the same dates in UTC put A on April 30
    assert names({"custom__met_at__gte": "2024-05-01"}, tz="UTC") == ["B"]


def test_boolean(data) -> None:
    assert names({"custom__vip": "true"}) == ["A"]
    assert names({"custom__vip": "false"}) == ["B"]


def test_single_choice_any_of(data) -> None:
    assert names({"custom__colour": ["red"]}) == ["A"]
    assert names({"custom__colour": ["red", "gr"]}) == ["A", "C"]


def test_multi_choice_holds_any_of(data) -> None:
    assert names({"custom__tags": ["blue"]}) == ["A"]
    assert names({"custom__tags": ["gr"]}) == ["B"]  # not "green"
    assert names({"custom__tags": ["green", "gr"]}) == ["A", "B"]


def test_unknown_choice_is_a_form_error(data) -> None:
    Account = apps.get_model("customers", "Account")
    fs: Any = add_custom_filters(
        AccountFilterSet({"custom__colour": ["purple"]}, queryset=Account.objects.all())
    )
    assert not fs.is_valid()
    assert list(fs.errors) == ["custom__colour"]


def test_combined_with_standard_filters(data) -> None:
    assert names({"name": "a", "custom__staff__gte": "1"}) == ["A"]


def test_on_a_class_gives_a_subclass(data) -> None:
    Account = apps.get_model("customers", "Account")
    cls: Any = add_custom_filters(AccountFilterSet)
    assert cls is not AccountFilterSet and issubclass(cls, AccountFilterSet)
    assert "custom__vip" in cls.base_filters and "custom__vip" not in AccountFilterSet.base_filters
    assert sorted(a.name for a in cls({"custom__vip": "true"}, queryset=Account.objects.all()).qs) == ["A"]


def test_filter_form_widgets(data) -> None:
    Account = apps.get_model("customers", "Account")
    fs: Any = add_custom_filters(AccountFilterSet({}, queryset=Account.objects.all()))
    form = fs.form
    assert "data-tom-select" in form.fields["custom__tags"].widget.attrs
    assert form.fields["custom__founded__gte"].widget.input_type == "date"
    assert [c[0] for c in form.fields["custom__colour"].choices] == ["red", "green", "blue", "gr"]


def test_a_datetime_bound_covers_the_whole_day() -> None:
    from kehu.customfields.filters import _day_start

    with timezone.override("Asia/Shanghai"):
        assert _day_start(dt.date(2024, 5, 1)).astimezone(dt.UTC) == dt.datetime(
            2024, 4, 30, 16, 0, tzinfo=dt.UTC
        )
