"""Region names to codes (`division_code`, `country_code`), as imports read them."""

from __future__ import annotations

import pytest

from kehu.customers.regions import country_code, division_code


@pytest.mark.parametrize("text", ["浙江省", "浙江", "Zhejiang", "zhejiang", " 330000 ", "浙江省 (Zhejiang)"])
def test_province_by_name_stem_pinyin_code_or_label(text: str) -> None:
    assert division_code(text, level="province") == "330000"


def test_cities_and_districts_within_their_parent() -> None:
    assert division_code("杭州市", level="city", parent="330000") == "330100"
    assert division_code("杭州", level="city", parent="110000") == ""  # not a city of Beijing
    assert division_code("西湖区", level="district", parent="330100") == "330106"
    # 朝阳区 is in Beijing and in Changchun: ambiguous without the parent
    assert division_code("朝阳区", level="district") == ""
    assert division_code("朝阳区", level="district", parent="110000") == "110105"
    assert division_code("330100", level="province") == ""  # a city's code is no province
    assert division_code("", level="province") == division_code("火星", level="province") == ""


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("中国", "CN"),
        ("China", "CN"),
        ("cn", "CN"),
        ("日本", "JP"),
        ("Japan", "JP"),
        ("美国", "US"),
        ("USA", "US"),
    ],
)
def test_country_names(text: str, code: str) -> None:
    assert country_code(text) == code


def test_unknown_country() -> None:
    assert country_code("Atlantis") == country_code("") == ""
