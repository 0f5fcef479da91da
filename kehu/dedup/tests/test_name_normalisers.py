"""Person-name, pinyin, address and company-core keys: every way of writing one name gives one key."""

from __future__ import annotations

from random import Random

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from kehu.dedup.normalisers import (
    _SURNAME_PINYIN,
    _char_pinyin,
    _region_names,
    address_key,
    company_core_key,
    company_key,
    name_pinyin_key,
    person_name_key,
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董"
GIVEN = "伟强磊军勇杰涛斌超明刚平辉鹏华飞芳娜敏静丽艳娟霞秀玲桂英慧莹雪"
FULL_WIDTH = str.maketrans(
    "".join(map(chr, range(0x20, 0x7F))), "\u3000" + "".join(chr(c + 0xFEE0) for c in range(0x21, 0x7F))
)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("张伟", "张伟"),
        ("张 伟", "张伟"),
        ("张\u3000伟", "张伟"),
        (" 欧阳·娜娜 ", "欧阳娜娜"),
        ("王先生", "王先生"),  # nothing but a surname is left: kept whole
        ("王小明先生", "王小明"),
        ("John Smith", "john smith"),
        ("Smith, John", "john smith"),
        ("SMITH John", "john smith"),
        ("Ｊｏｈｎ\u3000Ｓｍｉｔｈ", "john smith"),
        ("Dr. John  Smith", "john smith"),
        ("Zhang Wei", "wei zhang"),
        ("Müller, Anna", "anna müller"),
        ("", ""),
        (None, ""),
        ("  ", ""),
        ("王", ""),
        ("J", ""),
        ("123", ""),
    ],
)
def test_person_name_key(value: str | None, key: str) -> None:
    assert person_name_key(value) == key


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("张伟", "wei zhang"),
        ("Zhang Wei", "wei zhang"),
        ("Wei Zhang", "wei zhang"),
        ("zhangwei", "wei zhang"),
        ("ZhangWei", "wei zhang"),
        ("Xi'an Li", "an li xi"),
        ("Xian Li", "li xian"),  # the fewest syllables
        ("ZHANG Wei", "wei zhang"),
        ("张\u3000伟", "wei zhang"),
        ("王小明", "ming wang xiao"),
        ("Xiaoming Wang", "ming wang xiao"),
        ("曾帆", "fan zeng"),  # the surname reading, not céng
        ("Zeng Fan", "fan zeng"),
        ("单丽", "li shan"),
        ("吕娜", "lv na"),
        ("Lü Na", "lv na"),
        ("Lv Na", "lv na"),
        ("欧阳娜娜", "na na ou yang"),
        ("Ouyang Nana", "na na ou yang"),
        ("John Smith", ""),  # not pinyin
        ("张", ""),  # one syllable
        ("Wang", ""),
        ("", ""),
        (None, ""),
        ("张3", ""),
    ],
)
def test_name_pinyin_key(value: str | None, key: str) -> None:
    assert name_pinyin_key(value) == key


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("北京市朝阳区建国路88号", "北京市朝阳区建国路88号"),
        ("中国 北京市 朝阳区 建国路 88 号", "北京市朝阳区建国路88号"),
        ("１２ Main St., Springfield", "12mainstspringfield"),
        ("China, 100020", "100020"),
        ("中国", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_address_key(value: str | None, key: str) -> None:
    assert address_key(value) == key


@pytest.mark.parametrize(
    "name",
    [
        "北京字节跳动科技有限公司",
        "（北京）字节跳动科技有限公司",
        "上海航空股份有限公司",
        "内蒙古自治区伊利实业集团",
        "北京公司",
        "北京大学",
        "Contoso Systems Inc.",
        "深圳市腾讯计算机系统有限公司",
    ],
)
def test_company_core_key_is_company_key_without_the_region(name: str) -> None:
    assert company_core_key(company_key(name)) == company_key(name, strip_region_prefix=True)


@given(
    st.sampled_from(_region_names()), st.text(alphabet="华信创新达恒泰瑞博远云帆智汇通科技贸易", max_size=6)
)
def test_company_core_key_matches_the_slow_path(region: str, rest: str) -> None:
    key = company_key(region + rest + "有限公司")
    assert company_core_key(key) == company_key(region + rest + "有限公司", strip_region_prefix=True)


@given(st.text(max_size=40))
def test_name_keys_never_raise_and_are_idempotent(text: str) -> None:
    key = person_name_key(text)
    assert person_name_key(key) == key
    pinyin = name_pinyin_key(text)
    assert pinyin == "" or name_pinyin_key(pinyin) == pinyin
    address = address_key(text)
    assert address == "" or address_key(address) == address


western_words = st.lists(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéü", min_size=2, max_size=10),
    min_size=1,
    max_size=4,
)


@given(western_words, st.randoms(use_true_random=False))
def test_western_names_in_any_order_width_or_case_share_a_key(words: list[str], rnd: Random) -> None:
    shuffled = words[:]
    rnd.shuffle(shuffled)
    key = person_name_key(" ".join(words))
    assume(key)  # not nothing but honorifics ("Mr Dr")
    assert person_name_key(" ".join(shuffled)) == key
    assert person_name_key(f"{words[-1]}, {' '.join(words[:-1])}") == key
    assert person_name_key(" ".join(words).upper().translate(FULL_WIDTH)) == key


@given(
    st.sampled_from(SURNAMES),
    st.text(alphabet=GIVEN, min_size=1, max_size=2),
    st.booleans(),
    st.booleans(),
)
def test_a_chinese_name_and_its_pinyin_share_a_pinyin_key(
    surname: str, given_name: str, family_first: bool, joined: bool
) -> None:
    name = surname + given_name
    key = name_pinyin_key(name)
    assert key
    assert len(key.split()) == len(name)
    family = _SURNAME_PINYIN.get(surname) or _char_pinyin(surname)
    rest = "".join(_char_pinyin(c) for c in given_name)
    parts = [family.capitalize(), rest.capitalize()]
    if not family_first:
        parts.reverse()
    assert name_pinyin_key(" ".join(parts)) == key
    assert name_pinyin_key("".join(parts)) == key  # "ZhangWei": the capital splits
    # All lower case, "zhangwei" is split into the fewest syllables, which can differ when the
    # letters allow two readings ("xiana": xia na or xian a); the letters are the same.
    lower = name_pinyin_key("".join(parts).lower())
    assert lower == key or sorted(lower.replace(" ", "")) == sorted(key.replace(" ", ""))
