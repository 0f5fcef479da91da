"""Checks of customer identifiers."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# GB 32100-2015 统一社会信用代码: 18 characters from this alphabet (no I, O, S, V, Z); the last is a
# check character over the first 17 with these weights (3^i mod 31).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_FULLWIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ",
    "0123456789ABCDEFGHJKLMNPQRTUWXY",
)


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def normalise_tax_number(value: str | None) -> str:
    """A unified social credit code (统一社会信用代码), upper-case without spaces, or ``""``.

    Raises ValidationError (code ``invalid_tax_number``) with a message that says what is wrong."""
    text = "".join((value or "").translate(_FULLWIDTH).split()).upper().replace("-", "")
    if not text:
        return ""
    if len(text) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters; this one has %(count)d."),
            code="invalid_tax_number",
            params={"count": len(text)},
        )
    bad = sorted({c for c in text if c not in USCC_ALPHABET})
    if bad:
        raise ValidationError(
            _(
                "A unified social credit code uses only digits and the letters A–Y without I, O, S, V and Z "
                "(found: %(chars)s)."
            ),
            code="invalid_tax_number",
            params={"chars": " ".join(bad)[:40]},
        )
    if uscc_check_char(text[:17]) != text[17]:
        raise ValidationError(
            _(
                "This unified social credit code is not valid: its last character (check digit) does not "
                "match. Check it for typing errors."
            ),
            code="invalid_tax_number",
        )
    return text
