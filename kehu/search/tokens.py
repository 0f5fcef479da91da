"""Search tokens: what goes into the index for a record and what a query looks for.

Neither PostgreSQL's text parser nor SQLite's FTS5 tokenizer segments Chinese, so the index holds
our own tokens (ARCHITECTURE.md §9), each a run of letters and digits, lower-cased (NFKC):

* Chinese text: single characters and character bigrams ("北京远大" -> 北 京 远 大 北京 京远 远大),
  plus the whole run in the name column, so "远大" finds "北京远大" and a name that starts with
  the query ranks higher.
* pinyin of Chinese names: full ("zhangwei") and initials ("zw") of the whole name, and of every
  stretch of up to 4 syllables ("yuanda", "yd"), so "yuanda" finds 北京远大科技. For person names
  the first character's other readings count too (单 -> dan, shan, chan; 曾 -> ceng, zeng): a
  surname is often read differently from the same character in a word.
* latin words as they are ("acme", "trading").
* e-mail: the whole address, its local part and domain without punctuation, and their words.
* phone numbers: every digit suffix of 4 or more digits of the E.164 number (which contains the
  national number), so "5678", "13812345678" and "+86 138 1234 5678" all find +8613812345678;
  a prefix search on a suffix token is a substring search ("1381" finds numbers containing 1381).
* identifiers (tax number, WeChat ID): the whole value without punctuation and its words.

Tokens carry no punctuation, so the database never parses them (PostgreSQL builds the tsvector
from the token array, FTS5's unicode61 tokenizer splits on the spaces between them).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.seg.simpleseg import seg as _segment

# A "word" for our purposes: letters and digits (no underscore, FTS5 splits on it).
_WORD = re.compile(r"[^\W_]+")
# CJK unified ideographs (basic + extension A + compatibility): the characters we bigram and pinyin.
_CJK_CHAR = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK_CHAR}]+")
_SPLIT = re.compile(f"[{_CJK_CHAR}]+|[^\\W_{_CJK_CHAR}]+")
_DIGITS = re.compile(r"\d")

MAX_TOKEN_LENGTH = 64  # longer runs are cut: nobody types more into a search box
MAX_NAME_CHARS = 120  # bigrams and pinyin of at most this much of a name
PINYIN_SPAN = 4  # syllables per pinyin stretch
MIN_PHONE_SUFFIX = 4
MAX_QUERY_TERMS = 8
MAX_SURNAME_READINGS = 3


def normalise(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").lower()


def is_cjk(token: str) -> bool:
    return bool(_CJK_RUN.fullmatch(token))


def words(text: str | None) -> list[str]:
    """Runs of CJK characters and runs of other letters/digits, lower-cased."""
    return [w[:MAX_TOKEN_LENGTH] for w in _SPLIT.findall(normalise(text))]


def cjk_grams(run: str) -> list[str]:
    run = run[:MAX_NAME_CHARS]
    return list(run) + [run[i : i + 2] for i in range(len(run) - 1)]


def _spans(syllables: list[str]) -> Iterable[list[str]]:
    for i in range(len(syllables)):
        yield syllables[i : i + PINYIN_SPAN]


def pinyin_tokens(run: str, *, person: bool = False) -> tuple[list[str], list[str]]:
    """(whole-name tokens, stretch tokens) for a run of Chinese characters."""
    whole, stretch = _pinyin_tokens(run[:MAX_NAME_CHARS], person)
    return list(whole), list(stretch)


def _syllables(run: str) -> list[str]:
    """``lazy_pinyin(run)``, converting each of pypinyin's own segments (phrases of its dictionary:
    北京, 有限公司, 供应链 ...) once: company names are mostly made of the same few thousand words,
    so a rebuild converts each word once instead of each name."""
    out: list[str] = []
    for word in _segment(run):
        out.extend(_word_syllables(word))
    return out


@lru_cache(maxsize=200_000)
def _word_syllables(word: str) -> tuple[str, ...]:
    return tuple(lazy_pinyin(word, style=Style.NORMAL, errors="ignore"))


# Names repeat a lot (张伟, 王芳): converting each distinct run once makes a rebuild of a million
# records several times faster.
@lru_cache(maxsize=100_000)
def _pinyin_tokens(run: str, person: bool) -> tuple[tuple[str, ...], tuple[str, ...]]:
    syllables = _syllables(run)
    if not syllables:
        return (), ()
    whole = ["".join(syllables), "".join(s[0] for s in syllables)]
    if person:
        readings = pinyin(run[0], style=Style.NORMAL, heteronym=True, errors="ignore")
        for first in (readings[0] if readings else [])[:MAX_SURNAME_READINGS]:
            if first != syllables[0]:
                whole.append(first + "".join(syllables[1:]))
                whole.append(first[0] + "".join(s[0] for s in syllables[1:]))
    stretch: list[str] = []
    if len(syllables) > 1:
        for span in _spans(syllables):
            stretch.append("".join(span))
            stretch.append("".join(s[0] for s in span))
        stretch.extend(syllables)
    return tuple(t[:MAX_TOKEN_LENGTH] for t in whole), tuple(t[:MAX_TOKEN_LENGTH] for t in stretch)


def phone_suffixes(number: str | None) -> list[str]:
    digits = "".join(_DIGITS.findall(number or ""))
    return [digits[-n:] for n in range(MIN_PHONE_SUFFIX, len(digits) + 1)]


def email_tokens(address: str | None) -> list[str]:
    address = normalise(address).strip()
    if "@" not in address:
        return words(address)
    local, _, domain = address.rpartition("@")
    local_words, domain_words = words(local), words(domain)  # "@" is no word character
    both = local_words + domain_words
    return ["".join(both), "".join(local_words), "".join(domain_words), *both]


def identifier_tokens(value: str | None) -> list[str]:
    parts = words(value)
    return (["".join(parts)[:MAX_TOKEN_LENGTH]] if len(parts) > 1 else []) + parts


@dataclass
class Document:
    """What the index stores for one record: `name` tokens rank above the `other` tokens."""

    title: str = ""
    name: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    def add_name(self, text: str | None, *, person: bool = False) -> None:
        """A name (account name, short name, contact name): whole runs and pinyin in the name
        column, bigrams and pinyin stretches in the other."""
        for w in words(text):
            self.name.append(w)
            if is_cjk(w):
                self.other.extend(cjk_grams(w))
                whole, stretch = pinyin_tokens(w, person=person)
                self.name.extend(whole)
                self.other.extend(stretch)

    def add_text(self, text: str | None) -> None:
        for w in words(text):
            self.other.extend(cjk_grams(w) if is_cjk(w) else [w])

    def add_phone(self, number: str | None) -> None:
        self.other.extend(phone_suffixes(number))

    def add_email(self, address: str | None) -> None:
        self.other.extend(t for t in email_tokens(address) if t)

    def add_identifier(self, value: str | None) -> None:
        self.other.extend(identifier_tokens(value))

    def columns(self) -> tuple[str, str]:
        """(name tokens, other tokens): space-separated, de-duplicated, in first-seen order."""
        name = list(dict.fromkeys(t for t in self.name if t))
        seen = set(name)
        other = [t for t in dict.fromkeys(self.other) if t and t not in seen]
        return " ".join(name), " ".join(other)


# --- the query side -----------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One thing the query looks for; a match needs every term (AND).

    `any_of` are alternatives (OR); each may be a prefix match when `prefix` says so."""

    any_of: tuple[tuple[str, bool], ...]  # (token, prefix)


@dataclass(frozen=True)
class Query:
    terms: tuple[Term, ...]

    def __bool__(self) -> bool:
        return bool(self.terms)

    def exact(self) -> Query:
        """The same query without prefix matching (ranked first: exact tokens beat prefixes)."""
        return Query(tuple(Term(tuple((tok, False) for tok, _ in t.any_of)) for t in self.terms))


_PHONE_LIKE = re.compile(r"^[+(]?[\d\s().\-]{4,}$")
_JOINED = re.compile(r"^[^\s]+$")


def phone_query_digits(q: str) -> str | None:
    """The digits to look for when `q` looks like (part of) a phone number, else None."""
    q = normalise(q).strip()
    if not _PHONE_LIKE.match(q):
        return None
    digits = "".join(_DIGITS.findall(q))
    if digits.startswith("00"):
        digits = digits[2:]
    elif digits.startswith("0") and len(digits) >= 10:  # 010 6552 9988 -> +86 10 6552 9988
        digits = digits[1:]
    return digits if len(digits) >= MIN_PHONE_SUFFIX else None


def parse_query(q: str, *, short_prefixes: bool = False) -> Query:
    """Tokenise a query the way records are tokenised.

    A phone-like query is one suffix token; otherwise each Chinese run needs its bigrams (or is a
    prefix of a whole name), each other word is a prefix of a token (single letters and short
    numbers only match whole tokens, a one-letter prefix would match half the index, unless
    `short_prefixes`: a list's quick search, which filters rather than ranks, lets them be
    prefixes too, as the substring search it replaces did)."""
    digits = phone_query_digits(q)
    if digits:
        return Query((Term(((digits[:MAX_TOKEN_LENGTH], True),)),))
    text = normalise(q).strip()
    if _JOINED.match(text) and ("@" in text or "." in text or "_" in text):
        # An e-mail address, a domain, a WeChat ID: one joined token ("li.lei@example.com" ->
        # "lileiexamplecom"), far more selective than its words ("com" is in every other record).
        joined = "".join(words(text))[:MAX_TOKEN_LENGTH]
        return Query((Term(((joined, True),)),) if joined else ())
    terms: list[Term] = []
    for w in words(q):
        if is_cjk(w):
            if len(w) == 1:
                terms.append(Term(((w, False),)))
            else:
                bigrams = [w[i : i + 2] for i in range(len(w) - 1)]
                if len(bigrams) == 1:
                    terms.append(Term(((w, True),)))
                else:
                    # All bigrams (substring anywhere), expressed as one term per bigram; the whole
                    # run as a prefix of a name token ranks those names higher.
                    terms.extend(Term(((b, False), (w, True))) for b in bigrams)
        else:
            prefix = short_prefixes or (len(w) >= 2 and not (w.isdigit() and len(w) < MIN_PHONE_SUFFIX))
            terms.append(Term(((w, prefix),)))
        if len(terms) >= MAX_QUERY_TERMS:
            break
    return Query(tuple(dict.fromkeys(terms))[:MAX_QUERY_TERMS])
