from __future__ import annotations

import re

import phonenumbers
from django.core.validators import validate_email

from kehu.demo.fake import Fake

ZH_COMPANY = re.compile(
    r"^[\u4e00-\u9fff]{2,3}[\u4e00-\u9fff]{2}[\u4e00-\u9fff]{2,5}(有限公司|股份有限公司|集团有限公司)$"
)


def test_same_seed_same_values_other_seed_other_values() -> None:
    def sample(seed: int) -> list[object]:
        f = Fake(seed)
        return [f.person_zh(), f.person_en(), f.company_zh(), f.company_en(), f.mobile_cn(), f.landline_cn()]

    assert sample(7) == sample(7)
    assert sample(7) != sample(8)


def test_phone_numbers_are_valid_e164_numbers() -> None:
    f = Fake(1)
    for _ in range(500):
        for number, region, kind in (
            (f.mobile_cn(), "CN", phonenumbers.PhoneNumberType.MOBILE),
            (f.landline_cn(), "CN", phonenumbers.PhoneNumberType.FIXED_LINE),
            (f.phone_us(), "US", None),
            (f.phone_de(), "DE", phonenumbers.PhoneNumberType.FIXED_LINE),
        ):
            parsed = phonenumbers.parse(number)
            assert phonenumbers.is_valid_number(parsed), number
            assert phonenumbers.region_code_for_number(parsed) == region, number
            assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number
            if kind is not None:
                assert phonenumbers.number_type(parsed) == kind, number


def test_companies_people_and_emails_look_real() -> None:
    f = Fake(3)
    for _ in range(300):
        company = f.company_zh()
        assert ZH_COMPANY.match(company.name), company.name
        assert company.name.startswith(company.city)
        person = f.person_zh()
        assert 2 <= len(person.name) <= 3
        assert person.name == person.last_name + person.first_name
        email = f.email(person, company)
        validate_email(email)
        assert email.isascii()
        assert email.endswith(".example.cn")
        western = f.person_en()
        assert western.name == f"{western.first_name} {western.last_name}"
        validate_email(f.email(western))
    assert f.pinyin("王芳") == "wangfang"
    assert f.address_zh("北京").startswith("北京市")
