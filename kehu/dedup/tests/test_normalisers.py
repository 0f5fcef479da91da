"""Normalisers: every way of writing the same phone, e-mail, company or tax number gives one key."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kehu.customers.validators import USCC_ALPHABET, uscc_check_char
from kehu.dedup.normalisers import company_key, email_key, phone_key, tax_number_key

FULL = str.maketrans("0123456789+-() ", "０１２３４５６７８９＋－（）　")

mobiles = st.builds(
    lambda p, rest: f"1{p}{rest}",
    st.sampled_from("3456789"),
    st.text(alphabet="0123456789", min_size=9, max_size=9),
)


def _spellings(number: str) -> list[str]:
    a, b, c = number[:3], number[3:7], number[7:]
    return [
        number,
        f"{a} {b} {c}",
        f"{a}-{b}-{c}",
        f"+86 {a} {b} {c}",
        f"+86-{number}",
        f"0086 {number}",
        f"(+86){number}",
        f"86{number}",
        f" {a}.{b}.{c} ",
        number.translate(FULL),
        f"+86 {a} {b} {c}".translate(FULL),
    ]


@given(mobiles)
def test_every_spelling_of_a_chinese_mobile_gives_its_e164(number: str) -> None:
    keys = {phone_key(s) for s in _spellings(number)}
    assert keys == {"+86" + number}


@given(st.sampled_from(["10", "21", "755", "571"]), st.text(alphabet="23456789", min_size=8, max_size=8))
def test_landlines_with_area_code_and_extension(area: str, local: str) -> None:
    local = local if len(area) == 2 else local[:7] if area == "755" else local
    expected = phone_key(f"0{area}{local}")
    if not expected:  # an unassigned range: nothing to compare
        return
    assert expected == f"+86{area}{local}"
    for spelling in (
        f"0{area}-{local}",
        f"(0{area}) {local}",
        f"+86 {area} {local}",
        f"0{area}-{local} ext. 12",
        f"0{area}-{local}转12",
        f"0{area}{local}分机 305",
    ):
        assert phone_key(spelling) == expected, spelling


@given(st.text(max_size=40))
def test_phone_key_never_raises_and_is_e164_or_empty(text: str) -> None:
    key = phone_key(text)
    assert key == "" or (key.startswith("+") and key[1:].isdigit() and len(key) <= 16)
    assert phone_key(key) == key  # idempotent


def test_phone_key_other_regions_and_garbage() -> None:
    assert phone_key("+1 415 555 2671") == "+14155552671"
    assert phone_key("(415) 555-2671", "US") == "+14155552671"
    assert phone_key("13812345678", "US") != "+8613812345678"
    assert phone_key("call me") == ""
    assert phone_key("123") == ""
    assert phone_key(None) == ""


local_parts = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=20).filter(
    lambda s: s[0] not in "." and s[-1] != "."
)
domains = st.sampled_from(["example.com", "qq.com", "163.com", "corp.example.cn"])


@given(local_parts, domains, st.booleans(), st.text(alphabet=" \t", max_size=3))
def test_email_case_and_spaces_do_not_matter(local: str, domain: str, upper: bool, pad: str) -> None:
    address = f"{local}@{domain}"
    variant = f"{pad}{address.upper() if upper else address.title()}{pad}"
    assert email_key(variant) == email_key(address) == address
    assert email_key(email_key(address)) == address


@given(
    local_parts.filter(lambda s: s.replace(".", "")),
    st.sampled_from(["gmail.com", "googlemail.com", "GMail.com"]),
    st.text(alphabet="abc", max_size=5),
)
def test_gmail_dots_tags_and_googlemail_are_one_mailbox(local: str, domain: str, tag: str) -> None:
    plain = local.replace(".", "")
    dotted = ".".join(plain)
    assert email_key(f"{dotted}+{tag}@{domain}") == email_key(f"{plain}@gmail.com") == f"{plain}@gmail.com"


def test_other_domains_keep_dots_and_tags() -> None:
    assert email_key("zhang.wei+crm@example.com") == "zhang.wei+crm@example.com"
    assert email_key("zhang.wei@example.com") != email_key("zhangwei@example.com")
    assert email_key("not an email") == ""
    assert email_key("a@b") == ""
    assert email_key("") == ""


cjk_names = st.text(
    alphabet="华为腾讯科技阿里巴巴网络字节跳动小米通讯美的电器中兴万科地产", min_size=2, max_size=8
)
CN_SUFFIXES = [
    "有限公司",
    "有限责任公司",
    "股份有限公司",
    "集团有限公司",
    "集团",
    "公司",
    "（中国）有限公司",
    "(北京)有限公司",
]


@given(cjk_names, st.sampled_from(CN_SUFFIXES), st.sampled_from(CN_SUFFIXES))
def test_chinese_legal_forms_do_not_matter(name: str, a: str, b: str) -> None:
    assert company_key(name + a) == company_key(name + b) == company_key(name)


@given(cjk_names, st.sampled_from(["北京", "上海", "深圳市", "广东省"]))
def test_a_branch_is_its_parent_company(name: str, region: str) -> None:
    assert company_key(f"{name}有限公司{region}分公司") == company_key(f"{name}有限公司")


@given(cjk_names)
def test_width_spacing_and_punctuation_do_not_matter(name: str) -> None:
    spaced = " ".join(name) + " 有限公司"
    full = unicodedata.normalize("NFKC", name)  # already half-width
    assert company_key(spaced) == company_key(f"{full}有限公司") == company_key(f"“{name}”有限公司。")


latin_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=12)
WESTERN = [
    "Inc.",
    "Inc",
    "Ltd",
    "Ltd.",
    "Co., Ltd.",
    "LLC",
    "L.L.C.",
    "GmbH",
    "Corp.",
    "Corporation",
    "Limited",
    "AG",
    "PLC",
    "(China) Co., Ltd.",
    "S.A.",
]


@given(latin_names, st.sampled_from(WESTERN), st.sampled_from(WESTERN), st.booleans())
def test_western_legal_forms_and_case_do_not_matter(name: str, a: str, b: str, upper: bool) -> None:
    left = f"{name.upper() if upper else name.title()} {a}"
    right = f"{name}, {b}"
    assert company_key(left) == company_key(right) == company_key(name)


@given(latin_names)
def test_full_width_latin_is_half_width(name: str) -> None:
    full = "".join(chr(ord(c) + 0xFEE0) for c in name.upper())
    assert company_key(full + " Ｌｔｄ．") == company_key(name)


@given(st.text(max_size=60))
def test_company_key_is_idempotent_and_never_raises(text: str) -> None:
    key = company_key(text)
    assert key == "" or len(key) >= 2
    assert company_key(key) == key


def test_region_prefix_is_kept_unless_asked() -> None:
    assert company_key("海南航空股份有限公司") != company_key("上海航空有限公司")
    assert company_key("北京字节跳动科技有限公司", strip_region_prefix=True) == company_key(
        "字节跳动科技有限公司"
    )
    assert company_key("上海市小米科技有限公司", strip_region_prefix=True) == "小米科技"
    assert company_key("有限公司") == company_key("集团") == company_key("Ltd.") == ""  # only a legal form
    assert company_key("") == company_key("  ") == company_key("x Ltd") == ""


def _uscc(body: str) -> str:
    return body + uscc_check_char(body)


@given(st.text(alphabet=USCC_ALPHABET, min_size=17, max_size=17))
def test_tax_number_spacing_case_and_width(body: str) -> None:
    code = _uscc(body)
    spaced = " ".join([code[:6], code[6:12], code[12:]]).lower()
    full = code.translate(
        str.maketrans(
            "0123456789ABCDEFGHJKLMNPQRTUWXY",
            "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ",
        )
    )
    assert tax_number_key(spaced) == tax_number_key(full) == tax_number_key(f"-{code}-") == code


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("123456789012345", "123456789012345"),
        ("91350100M000100Y44", "91350100M000100Y44"),
        ("12", ""),
        ("", ""),
    ],
)
def test_tax_number_fallback_for_old_or_mistyped_codes(raw: str, key: str) -> None:
    assert tax_number_key(raw) == key
