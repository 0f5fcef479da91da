"""Data collection standards: rules_check (required / pattern / unique, partial, custom fields),
completeness, the rule services and the recompute job."""

from __future__ import annotations

import pytest
from django.apps import apps
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kehu.core.errors import DomainError, PermissionDeniedError
from kehu.core.models import Job, JobStatus
from kehu.customfields import services, standards
from kehu.customfields.models import CustomField, FieldRule, pattern_problem
from kehu.customfields.rules import completeness, completeness_score, rules_check
from kehu.customfields.standards import field_specs

from .factories import CustomFieldFactory

pytestmark = pytest.mark.django_db
Account = apps.get_model("customers", "Account")
Contact = apps.get_model("customers", "Contact")


def rule(field: str, model: str = "customers.account", **kwargs) -> FieldRule:
    return FieldRule.objects.create(model=model, field=field, **kwargs)


def errors(**kwargs) -> dict:
    with pytest.raises(DomainError) as exc:
        rules_check(**kwargs)
    assert exc.value.status == 400
    assert exc.value.code == "invalid"
    return {k: [str(m) for m in v] for k, v in exc.value.fields.items()}


# --- field list ---------------------------------------------------------------------------------


def test_specs_list_standard_fields_without_system_ones_and_active_custom_fields() -> None:
    CustomFieldFactory.create(name="contract_no")
    CustomFieldFactory.create(name="old", is_active=False)
    keys = [s.key for s in field_specs(Account)]
    assert "name" in keys and "phone" in keys and "tax_number" in keys
    for system in (
        "id",
        "owner",
        "department",
        "created_by",
        "version",
        "custom",
        "completeness",
        "is_active",
    ):
        assert system not in keys
    assert "custom.contract_no" in keys and "custom.old" not in keys
    name = next(s for s in field_specs(Account) if s.key == "name")
    assert name.builtin_required and name.required


# --- required -------------------------------------------------------------------------------------


def test_required_standard_field_missing_or_blank() -> None:
    rule("phone", required=True)
    assert errors(model=Account, values={"name": "甲"}) == {"phone": ["This field is required."]}
    assert errors(model=Account, values={"name": "甲", "phone": "  "}) == {
        "phone": ["This field is required."]
    }
    rules_check(model=Account, values={"name": "甲", "phone": "+8613812345678"})


def test_builtin_required_is_always_checked_and_defaults_count() -> None:
    # `name` is required by the model; `kind` has a default, so omitting it on create is fine.
    assert errors(model=Account, values={"name": ""}) == {"name": ["This field is required."]}
    rules_check(model=Account, values={"name": "甲"})


def test_update_reads_unchanged_fields_from_the_instance_and_partial_checks_only_given() -> None:
    account = Account.objects.create(name="甲")
    rule("industry", required=True)
    # a full update (non-partial): the stored empty industry counts
    assert errors(model=Account, values={"name": "乙"}, instance=account) == {
        "industry": ["This field is required."]
    }
    # PATCH: only the given field is checked
    rules_check(model=Account, values={"name": "乙"}, instance=account, partial=True)
    assert errors(model=Account, values={"industry": ""}, instance=account, partial=True) == {
        "industry": ["This field is required."]
    }


# --- pattern --------------------------------------------------------------------------------------


def test_pattern_with_message_in_the_active_language(settings) -> None:
    rule(
        "tax_number",
        pattern=r"^[0-9A-Z]{18}$",
        pattern_message="税号格式不对",
        pattern_message_en="Bad tax no.",
    )
    assert errors(model=Account, values={"name": "甲", "tax_number": "123"}) == {
        "tax_number": ["Bad tax no."]
    }
    from django.utils import translation

    with translation.override("zh-hans"):
        assert errors(model=Account, values={"name": "甲", "tax_number": "123"}) == {
            "tax_number": ["税号格式不对"]
        }
    rules_check(model=Account, values={"name": "甲", "tax_number": "91110000MA01ABCDE1"})
    rules_check(model=Account, values={"name": "甲", "tax_number": ""})  # empty: only `required` applies


def test_pattern_default_message_and_unchanged_legacy_values_pass() -> None:
    account = Account.objects.create(name="甲", tax_number="legacy")
    rule("tax_number", pattern=r"^\d+$")
    # unchanged stored value: not re-validated
    rules_check(model=Account, values={"name": "乙", "tax_number": "legacy"}, instance=account)
    assert errors(model=Account, values={"tax_number": "x1"}, instance=account, partial=True) == {
        "tax_number": ["Enter a value in the required format."]
    }


@pytest.mark.parametrize(
    ("pattern", "ok"),
    [
        (r"^[A-Z]{2}\d{6}$", True),
        (r"^(\d{3}-)?\d{8}$", True),
        (r"^(a+)+$", False),
        (r"(\w*)*x", False),
        (r"^(x+y?)+$", False),
        (r"(", False),
        ("a" * 301, False),
    ],
)
def test_pattern_safety(pattern: str, ok: bool) -> None:
    assert (pattern_problem(pattern) is None) is ok


# --- unique ---------------------------------------------------------------------------------------


def test_unique_case_insensitive_and_excluding_self() -> None:
    rule("tax_number", unique=True)
    first = Account.objects.create(name="甲", tax_number="91110000MA01ABCDE1")
    assert errors(model=Account, values={"name": "乙", "tax_number": "91110000ma01abcde1"}) == {
        "tax_number": ["Another account already has this value."]
    }
    # the record itself may keep (or re-send) its value
    rules_check(model=Account, values={"tax_number": "91110000MA01ABCDE1"}, instance=first, partial=True)
    rules_check(model=Account, values={"name": "乙", "tax_number": "91110000MA01ABCDE2"})
    # another record changing to the taken value is refused
    other = Account.objects.create(name="丙")
    assert "tax_number" in errors(
        model=Account, values={"tax_number": "91110000MA01ABCDE1"}, instance=other, partial=True
    )


# --- custom fields --------------------------------------------------------------------------------


def test_custom_required_pattern_from_the_definition_and_unique_from_the_rule() -> None:
    CustomFieldFactory.create(name="code", required=True, pattern=r"^C\d+$")
    assert errors(model=Account, values={"name": "甲", "custom": {}}) == {
        "custom.code": ["This field is required."]
    }
    assert errors(model=Account, values={"name": "甲", "custom": {"code": "X1"}}) == {
        "custom.code": ["Enter a value in the required format."]
    }
    rules_check(model=Account, values={"name": "甲", "custom": {"code": "C1"}})
    rule("custom.code", unique=True)
    Account.objects.create(name="甲", custom={"code": "C1"})
    assert errors(model=Account, values={"name": "乙", "custom": {"code": "C1"}}) == {
        "custom.code": ["Another account already has this value."]
    }


def test_setting_required_of_a_custom_field_writes_its_definition(company) -> None:
    field = CustomFieldFactory.create(name="code")
    services.field_rule_set(
        model="customers.account", field="custom.code", data={"required": True}, by=company.admin
    )
    field.refresh_from_db()
    assert field.required is True
    spec = next(s for s in field_specs(Account) if s.key == "custom.code")
    assert spec.required


# --- services -------------------------------------------------------------------------------------


def test_rule_services_are_for_admins_and_validate(company) -> None:
    with pytest.raises(PermissionDeniedError):
        services.field_rule_set(
            model="customers.account", field="phone", data={"required": True}, by=company.rep1
        )
    with pytest.raises(DomainError) as exc:
        services.field_rule_set(
            model="customers.account", field="id", data={"required": True}, by=company.admin
        )
    assert "field" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.field_rule_set(
            model="customers.account", field="phone", data={"pattern": "(a+)+"}, by=company.admin
        )
    assert "pattern" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.field_rule_set(
            model="customers.account", field="name", data={"required": False}, by=company.admin
        )
    assert "required" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.field_rule_set(
            model="customers.account", field="phone", data={"weight": 11}, by=company.admin
        )
    assert "weight" in exc.value.fields
    with pytest.raises(DomainError) as exc:
        services.field_rule_set(
            model="customers.account", field="notes", data={"unique": True}, by=company.admin
        )
    assert "unique" in exc.value.fields  # long text: never unique
    with pytest.raises(DomainError) as exc:
        services.field_rule_set(
            model="customers.account", field="kind", data={"unique": True}, by=company.admin
        )
    assert "unique" in exc.value.fields  # a choice
    with pytest.raises(DomainError):
        services.field_rule_set(model="nope.model", field="phone", data={}, by=company.admin)
    assert not FieldRule.objects.exists()


# --- completeness ---------------------------------------------------------------------------------


def test_completeness_default_weights_and_rule_weights() -> None:
    specs = [s for s in field_specs(Account) if s.weight]
    assert {"name", "phone", "email", "industry"} <= {s.key for s in specs}
    assert "notes" not in {s.key for s in specs}  # not in the declared default set
    account = Account(name="甲")
    # only name and phone count, phone twice as much
    for spec in field_specs(Account):
        if spec.key not in ("name", "phone"):
            rule(spec.key, weight=0)
    rule("phone", weight=2)
    assert completeness(model=Account, obj=account) == 33
    account.phone = "+8613812345678"
    assert completeness(model=Account, obj=account) == 100


def test_completeness_counts_custom_fields_and_empty_values() -> None:
    CustomFieldFactory.create(name="tags_x", required=True)
    for spec in field_specs(Account):
        if spec.key != "custom.tags_x":
            rule(spec.key, weight=0)
    assert completeness(model=Account, obj=Account(name="甲", custom={"tags_x": []})) == 0
    assert completeness(model=Account, obj=Account(name="甲", custom={"tags_x": "x"})) == 100


def test_completeness_scorer_loads_the_standards_once(django_assert_num_queries) -> None:
    from kehu.customfields.rules import completeness_scorer

    rule("phone", weight=5)
    with django_assert_num_queries(2):
        score = completeness_scorer(model=Account)
    accounts = [Account(name="甲", phone="+8613812345678"), Account(name="乙")]
    with django_assert_num_queries(0):
        scores = [score(a) for a in accounts]
    assert scores == [completeness(model=Account, obj=a) for a in accounts]
    assert scores[0] > scores[1]


def test_completeness_with_nothing_scored_is_100() -> None:
    for spec in field_specs(Account):
        rule(spec.key, weight=0)
    assert completeness(model=Account, obj=Account(name="")) == 100


def test_registered_readers_score_non_column_values() -> None:
    before = standards.declaration(Contact)
    standards.register(Contact, scored=("name", "channels"), readers={"channels": lambda c: c.notes.split()})
    try:
        specs = field_specs(Contact)
        assert "channels" in [s.key for s in specs]
        # scored: name, the account (required by the model) and the channels
        assert completeness_score(specs, Contact(name="张三", notes="")) == 33
        assert completeness_score(specs, Contact(name="张三", notes="wechat")) == 67
    finally:
        standards._declarations[Contact._meta.label_lower] = before


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    weights=st.lists(st.integers(0, 10), min_size=3, max_size=3),
    filled=st.lists(st.booleans(), min_size=3, max_size=3),
)
def test_completeness_is_the_weighted_share(weights: list[int], filled: list[bool]) -> None:
    specs = [s for s in field_specs(Account) if s.key in ("phone", "email", "industry")]
    for spec, weight in zip(specs, weights, strict=True):
        spec.weight = weight
    values = {"phone": "+8613812345678", "email": "a@b.cn", "industry": "it"}
    obj = Account(**{s.key: values[s.key] if f else "" for s, f in zip(specs, filled, strict=True)})
    total = sum(weights)
    expected = (
        100 if not total else round(100 * sum(w for w, f in zip(weights, filled, strict=True) if f) / total)
    )
    score = completeness_score(specs, obj)
    assert score == expected
    assert 0 <= score <= 100


# --- recompute job --------------------------------------------------------------------------------


def test_weight_change_recomputes_every_record_in_a_job(company, django_capture_on_commit_callbacks) -> None:
    full = Account.objects.create(name="甲", phone="+8613812345678", completeness=0)
    empty = Account.objects.create(name="乙", completeness=77)
    for spec in field_specs(Account):
        if spec.key not in ("name", "phone"):
            rule(spec.key, weight=0)
    with django_capture_on_commit_callbacks(execute=True):
        services.field_rule_set(
            model="customers.account", field="phone", data={"weight": 3}, by=company.admin
        )
    job = Job.objects.get(kind=services.COMPLETENESS_JOB_KIND)
    assert job.status == JobStatus.SUCCEEDED
    assert job.progress_done == job.progress_total == 2
    full.refresh_from_db()
    empty.refresh_from_db()
    assert (full.completeness, empty.completeness) == (100, 25)
    # the same weight again: no new job
    with django_capture_on_commit_callbacks(execute=True):
        services.field_rule_set(
            model="customers.account", field="phone", data={"weight": 3}, by=company.admin
        )
    assert Job.objects.filter(kind=services.COMPLETENESS_JOB_KIND).count() == 1


def test_pending_recompute_job_is_reused(company) -> None:
    first = services.completeness_recompute_start(model=Account, by=company.admin)
    second = services.completeness_recompute_start(model=Account, by=company.admin)
    assert first.pk == second.pk


def test_custom_field_rule_row_keeps_only_unique_and_weight(company) -> None:
    CustomFieldFactory.create(name="code")
    saved = services.field_rule_set(
        model="customers.account",
        field="custom.code",
        data={"unique": True, "weight": 4, "pattern": r"^C\d+$"},
        by=company.admin,
    )
    assert (saved.unique, saved.weight, saved.pattern) == (True, 4, "")
    assert CustomField.objects.get(name="code").pattern == r"^C\d+$"
