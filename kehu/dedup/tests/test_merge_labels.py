"""The merge page shows labels, not stored keys: model choices, standard picklist fields (industry,
customer level), custom choice fields and yes / no, in the viewer's language; the form still
posts record ids and the merge keeps the stored keys."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kehu.customers.models import Account
from kehu.customers.tests.factories import AccountFactory
from kehu.customfields.choices import FieldType
from kehu.customfields.tests.factories import CustomFieldFactory, choice_list
from kehu.dedup.choices import MatchLevel
from kehu.dedup.merging import merge_preview
from kehu.dedup.models import DuplicateGroup, DuplicateMember

pytestmark = pytest.mark.django_db
ACCOUNT = "customers.account"


@pytest.fixture
def pair(sales: Any) -> dict[str, Any]:
    colours = choice_list("colours")
    CustomFieldFactory.create(
        model=ACCOUNT,
        name="colours",
        label="颜色",
        label_en="Colours",
        type=FieldType.MULTI_CHOICE,
        picklist=colours,
    )
    CustomFieldFactory.create(
        model=ACCOUNT, name="vat_payer", label="一般纳税人", label_en="VAT payer", type="boolean"
    )
    keep = AccountFactory.create(
        owner=sales.rep1,
        name="甲公司",
        kind="company",
        industry="it",
        level="vip",
        phone="+8613812345678",
        custom={"colours": ["red", "blue"], "vat_payer": True},
    )
    gone = AccountFactory.create(
        owner=sales.rep1,
        name="乙公司",
        kind="person",
        industry="retail",
        level="unknown_level",
        custom={"colours": ["green"], "vat_payer": False, "undefined": "raw"},
    )
    group = DuplicateGroup.objects.create(model_label=ACCOUNT, level=MatchLevel.POSSIBLE, score=0.8, key="k")
    for pk in (keep.pk, gone.pk):
        DuplicateMember.objects.create(group=group, object_id=pk)
    return {"keep": keep, "gone": gone, "group": group, "rep": sales.rep1}


def _values(pair: dict[str, Any], language: str) -> dict[str, dict[int, Any]]:
    with translation.override(language):
        preview = merge_preview(
            user=pair["rep"], model_label=ACCOUNT, ids=[pair["gone"].pk], master_id=pair["keep"].pk
        )
        return {f.name: f.values for f in preview.fields} | {
            f"label:{f.name}": {0: f.label} for f in preview.fields
        }


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            {
                "kind": ("Company", "Person"),
                "industry": ("Information technology", "Retail"),
                "level": ("VIP", "unknown_level"),
                "custom.colours": ("Red, Blue", "Green"),
                "custom.vat_payer": ("Yes", "No"),
                "custom.undefined": (None, "raw"),
                "phone": ("+86 138 1234 5678", ""),
                "label:custom.colours": ("Colours",),
            },
        ),
        (
            "zh-hans",
            {
                "industry": ("信息技术", "零售"),
                "level": ("VIP 客户", "unknown_level"),
                "custom.vat_payer": ("是", "否"),
                "label:custom.colours": ("颜色",),
            },
        ),
    ],
)
def test_preview_shows_labels_in_the_viewers_language(
    pair: dict[str, Any], language: str, expected: dict[str, tuple[Any, ...]]
) -> None:
    values = _values(pair, language)
    keep, gone = pair["keep"].pk, pair["gone"].pk
    for name, want in expected.items():
        got = (
            tuple(values[name].values())
            if name.startswith("label:")
            else (values[name][keep], values[name][gone])
        )
        assert got == want, name


def test_preview_joins_custom_choices_with_the_languages_separator(pair: dict[str, Any]) -> None:
    from kehu.core.text import list_separator

    with translation.override("zh-hans"):
        sep = list_separator()
    values = _values(pair, "zh-hans")
    assert values["custom.colours"][pair["keep"].pk] == f"红{sep}蓝"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_merge_page_shows_labels_and_posts_record_ids(pair: dict[str, Any], language: str) -> None:
    client = Client()
    client.force_login(pair["rep"])
    url = reverse("dedup:group_merge", args=[pair["group"].pk])
    client.cookies["django_language"] = language
    html = client.get(url, {"master": pair["keep"].pk}).content.decode()
    retail = "Retail" if language == "en" else "零售"
    row = re.search(r'<tr data-field="industry".*?</tr>', html, re.S)
    assert row is not None
    assert retail in row.group(0) and ">retail<" not in row.group(0)
    radios = re.findall(r'name="value_industry" value="(\d+)"', row.group(0))
    assert sorted(map(int, radios)) == sorted([pair["keep"].pk, pair["gone"].pk])

    response = client.post(
        url, {"master": pair["keep"].pk, "value_industry": pair["gone"].pk, "value_level": pair["gone"].pk}
    )
    assert response.status_code == 302
    kept = Account.objects.get(pk=pair["keep"].pk)
    assert (kept.industry, kept.level) == ("retail", "unknown_level")  # the keys, never the labels
