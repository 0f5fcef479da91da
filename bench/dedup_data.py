"""Contacts with planted near-duplicates for the dedup benchmark (issue 6), deterministic.

    .venv/bin/python bench/dedup_data.py --contacts 100000        # prints a sample and the counts

``generate(n, seed)`` gives ``n`` base contacts (85 % Chinese names, 15 % Western; a phone, an
e-mail and a company each) and ``round(n * 0.05)`` planted duplicates, each copying one distinct
original and changed in one of eight ways, in equal shares (``KINDS``):

* ``typo``: 1–2 character edits in the name (Chinese: one character replaced or inserted; Western:
  letters replaced, dropped, inserted or swapped);
* ``swap``: given/family name order swapped ("John Smith" → "Smith John" / "Smith, John");
* ``width``: full-width letters, digits and brackets (Chinese names: an ideographic space);
* ``phone``: the phone as +86, with spaces, dashes or without the country code;
* ``email``: the e-mail in upper or mixed case;
* ``company``: the company's legal form or region changed (有限公司 / 有限责任公司 / （北京）,
  Inc. / Co., Ltd.);
* ``pinyin``: a Chinese name written in pinyin ("Zhang Wei", "zhangwei", "Wei Zhang");
* ``missing``: no phone or no e-mail.

As in real data, a duplicate's other details are not always the same: in 25 % of the non-missing
kinds one contact detail is new (the person's second phone or another e-mail; for ``phone`` the
e-mail, for ``email`` the phone), and in 10 % of ``swap``, ``width``, ``company`` and ``pinyin`` both
are — only the name and the company tie the copy to its original.

Base contacts have distinct phones and e-mails (each is a different person), but their names
repeat as in a real population (张伟 many times) and companies have ~5 contacts each, so same-name
different people exist and are not duplicates. The labels say which original each duplicate
copies and how; a reported pair is right when both records descend from the same original.
"""

from __future__ import annotations

import argparse
import pickle
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

if __name__ == "__main__":  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kehu.demo.fake import (
    CN_MOBILE_PREFIXES,
    EN_COMPANY_KINDS,
    EN_COMPANY_SUFFIXES,
    EN_COMPANY_WORDS,
    EN_FIRST,
    EN_LAST,
    ZH_CITIES,
    ZH_GIVEN_FEMALE,
    ZH_GIVEN_MALE,
    ZH_INDUSTRIES,
    ZH_SURNAME_WEIGHTS,
    ZH_SURNAMES,
    ZH_TRADE_CHARS,
)

GENERATOR_VERSION = 3  # bump when the generated rows change
KINDS = ("typo", "swap", "width", "phone", "email", "company", "pinyin", "missing")
DUPLICATE_SHARE = 0.05
WESTERN_SHARE = 0.15
CONTACTS_PER_COMPANY = 5
DRIFT_ONE = 0.25  # one contact detail new
DRIFT_BOTH = 0.10  # both new (swap, width, company, pinyin only)
# ``--hard``: both contact details new in 30 % of every kind that keeps the name's evidence,
# typos included: how recall falls when only a (mistyped) name and the company are left.
HARD_DRIFT_BOTH = 0.30
HARD_BOTH_KINDS = ("typo", "swap", "width", "company", "pinyin")
# More trade-name characters than the demo's, so that ~200,000 companies rarely share a name.
TRADE_CHARS = (
    ZH_TRADE_CHARS
    + "东方长城万达美佳永兴富强大成百合新世纪银河宝华时代蓝天青松凯旋利民福润康泰益友同心恒通远景卓越"
)
ZH_MAILS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com")
EN_MAILS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com")
_FULL = {c: chr(ord(c) + 0xFEE0) for c in map(chr, range(0x21, 0x7F))}
_FULL[" "] = "\u3000"
_FULLWIDTH = str.maketrans(_FULL)


class Contact(NamedTuple):
    id: int
    name: str
    phone: str
    email: str
    company: str


class Planted(NamedTuple):
    duplicate: int  # the planted record's id
    original: int  # the id of the base record it copies
    kind: str


@dataclass
class Dataset:
    contacts: list[Contact]
    planted: list[Planted]
    n: int
    seed: int


def _is_han(text: str) -> bool:
    return any("\u4e00" <= c <= "\u9fff" for c in text)


def _pinyin(text: str) -> list[str]:
    """A Chinese name's syllables as people write them (the family name by its surname reading)."""
    from kehu.dedup.normalisers import _SURNAME_PINYIN, _char_pinyin

    return [_SURNAME_PINYIN.get(text[0]) or _char_pinyin(text[0]), *map(_char_pinyin, text[1:])]


class _Maker:
    def __init__(self, n: int, rng: random.Random) -> None:
        self.rng = rng
        self.n = n
        self.next_phone = 0
        self.next_mail = 0
        self.companies = [self._company() for _ in range(max(1, n // CONTACTS_PER_COMPANY))]

    def _company(self) -> str:
        rng = self.rng
        if rng.random() < WESTERN_SHARE:
            kind, _ = rng.choice(EN_COMPANY_KINDS)
            first, second = rng.sample(EN_COMPANY_WORDS, 2)
            return f"{first} {second} {kind} {rng.choice(EN_COMPANY_SUFFIXES)}"
        city = rng.choice(ZH_CITIES)[0]
        trade = "".join(rng.sample(TRADE_CHARS, rng.choice((2, 2, 3))))
        industry = rng.choice(ZH_INDUSTRIES)[0]
        suffix = rng.choices(("有限公司", "股份有限公司", "有限责任公司"), (8, 2, 1))[0]
        return f"{city}{trade}{industry}{suffix}"

    def phone(self) -> str:
        """A mobile no one else has: the counter spread over prefixes and scrambled."""
        i = self.next_phone
        self.next_phone += 1
        prefixes = CN_MOBILE_PREFIXES
        body = (i // len(prefixes) * 7919 + 1_234_567) % 100_000_000
        return f"{prefixes[i % len(prefixes)]}{body:08d}"

    def zh_name(self) -> str:
        rng = self.rng
        pool = ZH_GIVEN_MALE if rng.random() < 0.5 else ZH_GIVEN_FEMALE
        given = "".join(rng.choice(pool) for _ in range(rng.choice((1, 2))))
        return rng.choices(ZH_SURNAMES, ZH_SURNAME_WEIGHTS)[0] + given

    def email(self, name: str) -> str:
        rng = self.rng
        self.next_mail += 1
        serial = format(self.next_mail * 7 + 100, "x")
        if not _is_han(name):
            first, last = name.lower().split()
            return f"{first}.{last}{serial}@{rng.choice(EN_MAILS)}"
        syllables = _pinyin(name)
        local = syllables[0] + ("." if rng.random() < 0.3 else "") + "".join(syllables[1:])
        return f"{local}{serial}@{rng.choice(ZH_MAILS)}"

    def base(self, id: int) -> Contact:
        rng = self.rng
        if rng.random() < WESTERN_SHARE:
            name = f"{rng.choice(EN_FIRST)} {rng.choice(EN_LAST)}"
        else:
            name = self.zh_name()
        phone = self.phone()
        if rng.random() < 0.3:
            phone = "+86 " + phone
        return Contact(id, name, phone, self.email(name), rng.choice(self.companies))


# --- variations ---------------------------------------------------------------------------------


def _typo(name: str, rng: random.Random) -> str:
    if _is_han(name):
        pool = ZH_GIVEN_MALE + ZH_GIVEN_FEMALE
        position = rng.randrange(1, len(name))  # the surname is rarely mistyped
        if rng.random() < 0.7:
            replacement = rng.choice([c for c in pool if c != name[position]])
            return name[:position] + replacement + name[position + 1 :]
        return name[:position] + rng.choice(pool) + name[position:]
    chars = list(name)
    letters = "abcdefghijklmnopqrstuvwxyz"
    for _ in range(rng.choice((1, 2))):
        spots = [i for i, c in enumerate(chars) if c != " "]
        i = rng.choice(spots[1:])  # keep the first letter: names are rarely mistyped there
        edit = rng.randrange(4)
        if edit == 0:
            chars[i] = rng.choice([c for c in letters if c != chars[i].lower()])
        elif edit == 1 and len(spots) > 6:
            del chars[i]
        elif edit == 2:
            chars.insert(i, rng.choice(letters))
        elif i + 1 < len(chars) and chars[i + 1] != " " and chars[i + 1] != chars[i]:
            chars[i], chars[i + 1] = chars[i + 1], chars[i]
        else:
            chars[i] = rng.choice([c for c in letters if c != chars[i].lower()])
    return "".join(chars)


def _phone_variant(phone: str, rng: random.Random) -> str:
    number = phone.removeprefix("+86 ")
    a, b, c = number[:3], number[3:7], number[7:]
    variants = [
        f"+86 {a} {b} {c}",
        f"{a}-{b}-{c}",
        f"+86-{number}",
        f"0086 {number}",
        f"{a} {b} {c}",
        number,
        f"(+86) {a}-{b}-{c}",
    ]
    return rng.choice([v for v in variants if v != phone])


def _email_variant(email: str, rng: random.Random) -> str:
    local, _, domain = email.partition("@")
    return rng.choice((email.upper(), f"{local.capitalize()}@{domain.upper()}", f"{local.upper()}@{domain}"))


def _company_variant(company: str, rng: random.Random) -> str:
    if company.isascii():
        words = company.split()
        core = " ".join(words[:-1])
        options = [f"{core} Co., Ltd.", f"{core}, {words[-1].rstrip('.')}", f"{core} LLC", f"{core} Inc"]
        return rng.choice([o for o in options if o != company])
    city = next(c for c, _, _ in ZH_CITIES if company.startswith(c))
    for suffix in ("股份有限公司", "有限责任公司", "有限公司"):
        if company.endswith(suffix):
            stem = company[: -len(suffix)]
            break
    core = stem[len(city) :]
    other = [s for s in ("有限公司", "有限责任公司", "股份有限公司") if s != suffix]
    return rng.choice(
        (
            f"{stem}{rng.choice(other)}",
            f"{core}（{city}）{suffix}" if rng.random() < 0.5 else f"（{city}）{core}{suffix}",
            f"({city}){core}{rng.choice(other)}",
        )
    )


def _pinyin_variant(name: str, rng: random.Random) -> str:
    syllables = _pinyin(name)
    family, given = syllables[0].capitalize(), "".join(syllables[1:])
    return rng.choice(
        (
            f"{family} {given.capitalize()}",
            f"{given.capitalize()} {family}",
            f"{family}{given}".lower(),
            f"{family.upper()} {given.capitalize()}",
        )
    )


def _vary(kind: str, c: Contact, maker: _Maker, hard: bool = False) -> Contact:
    rng = maker.rng
    if kind == "typo":
        c = c._replace(name=_typo(c.name, rng))
    elif kind == "swap":
        first, last = c.name.split()
        c = c._replace(name=f"{last} {first}" if rng.random() < 0.5 else f"{last}, {first}")
    elif kind == "width":
        name = f"{c.name[0]}\u3000{c.name[1:]}" if _is_han(c.name) else c.name.translate(_FULLWIDTH)
        c = Contact(
            c.id,
            name,
            c.phone.translate(_FULLWIDTH),
            c.email.translate(_FULLWIDTH),
            c.company.replace("(", "（").replace(")", "）").translate(_FULLWIDTH),
        )
    elif kind == "phone":
        c = c._replace(phone=_phone_variant(c.phone, rng))
    elif kind == "email":
        c = c._replace(email=_email_variant(c.email, rng))
    elif kind == "company":
        c = c._replace(company=_company_variant(c.company, rng))
    elif kind == "pinyin":
        c = c._replace(name=_pinyin_variant(c.name, rng))
    elif kind == "missing":
        return c._replace(phone="") if rng.random() < 0.5 else c._replace(email="")
    # Contact details that changed besides the kind's own variation.
    draw = rng.random()
    both_kinds, both = (
        (HARD_BOTH_KINDS, HARD_DRIFT_BOTH) if hard else (("swap", "width", "company", "pinyin"), DRIFT_BOTH)
    )
    if kind in both_kinds and draw < both:
        return c._replace(phone=maker.phone(), email=maker.email(_ascii_name(c.name)))
    if draw < both + DRIFT_ONE:
        new = {"phone": "email", "email": "phone"}.get(kind) or rng.choice(("phone", "email"))
        if new == "phone":
            return c._replace(phone=maker.phone())
        return c._replace(email=maker.email(_ascii_name(c.name)))
    return c


def _ascii_name(name: str) -> str:
    """A name fit for an e-mail's local part generator (Western names as "first last")."""
    import unicodedata

    plain = unicodedata.normalize("NFKC", name).replace(",", "")
    if not _is_han(plain):
        words = plain.split()
        return " ".join(words[:2]) if len(words) >= 2 else f"{plain} x"
    return plain.replace(" ", "")


def generate(n: int, seed: int = 42, *, hard: bool = False) -> Dataset:
    """`n` base contacts and ``round(n * DUPLICATE_SHARE)`` planted duplicates (ids after them)."""
    rng = random.Random(seed)
    maker = _Maker(n, rng)
    contacts = [maker.base(i + 1) for i in range(n)]
    western = [c.id for c in contacts if not _is_han(c.name)]
    chinese = [c.id for c in contacts if _is_han(c.name)]
    every = [c.id for c in contacts]
    rng.shuffle(western)
    rng.shuffle(chinese)
    rng.shuffle(every)
    used: set[int] = set()
    pools = {"swap": western, "pinyin": chinese}
    planted: list[Planted] = []
    next_id = n + 1
    for k in range(round(n * DUPLICATE_SHARE)):
        kind = KINDS[k % len(KINDS)]
        pool = pools.get(kind, every)
        while pool[-1] in used:
            pool.pop()
        original = pool.pop()
        used.add(original)
        copy = _vary(kind, contacts[original - 1]._replace(id=next_id), maker, hard)
        contacts.append(copy)
        planted.append(Planted(next_id, original, kind))
        next_id += 1
    return Dataset(contacts, planted, n, seed)


def load(n: int, seed: int = 42, cache_dir: Path = Path("/tmp"), *, hard: bool = False) -> Dataset:
    """``generate(n, seed, hard=...)`` from a pickle cache (/tmp/dedup_<n>_<seed>[_hard]_v<version>.pkl)."""
    path = cache_dir / f"dedup_{n}_{seed}{'_hard' if hard else ''}_v{GENERATOR_VERSION}.pkl"
    if path.exists():
        with path.open("rb") as f:
            data: Dataset = pickle.load(f)
            return data
    data = generate(n, seed, hard=hard)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        pickle.dump(data, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    started = time.perf_counter()
    data = generate(args.contacts, args.seed)
    print(f"{len(data.contacts):,} records in {time.perf_counter() - started:.1f} s")
    by_id = {c.id: c for c in data.contacts}
    for p in data.planted[:16]:
        print(f"{p.kind:8} {by_id[p.original]}\n{'':8} {by_id[p.duplicate]}")


if __name__ == "__main__":
    main()
