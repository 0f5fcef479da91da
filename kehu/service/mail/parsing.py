"""Turn raw RFC 5322 bytes into a `ParsedMessage` (no database, no Django).

The standard library does the MIME work (`email.policy.default`, falling back to `compat32` when
the modern policy chokes); this module adds what Chinese-language mail needs on top of it:
charset fallbacks (GB2312 declared but GBK/GB18030 bytes, unknown or wrong charsets guessed with
charset-normalizer), unencoded 8-bit headers, RFC 2047 words split in the middle of a character,
and tolerant handling of broken structure. Only a message with no recognisable mail headers at
all raises `MalformedMessage`, whose `reason` is a short English code for logs and quarantine.

The HTML body is returned raw: sanitising is the caller's job before anything is displayed.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import datetime as dt
import email
import email.message
import email.policy
import email.utils
import logging
import mimetypes
import quopri
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from charset_normalizer import from_bytes

from kehu.core.richtext import html_to_text

logger = logging.getLogger(__name__)

# Reason codes (logs / quarantine; not shown to users as such).
REASON_NOT_BYTES = "not_bytes"
REASON_EMPTY = "empty"
REASON_UNPARSEABLE = "unparseable"
REASON_NO_HEADERS = "no_mail_headers"
REASON_INTERNAL = "internal_error"

# Headers one of which any real message carries.
_MAIL_HEADERS = frozenset(
    {
        "from",
        "sender",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "return-path",
        "received",
        "reply-to",
        "in-reply-to",
        "references",
        "mime-version",
    }
)

_MAX_DEPTH = 30
_MAX_PARTS = 500


class MalformedMessage(Exception):
    """The bytes are not an e-mail message at all; `reason` is a short code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes = field(repr=False)
    size: int
    inline: bool = False
    content_id: str | None = None


@dataclass(frozen=True)
class ParsedMessage:
    """One inbound message. Ids have no angle brackets; addresses are lower-cased.

    `text` is the text/plain body (or the HTML body rendered as text), line endings "\n";
    `html` is the raw HTML body, NOT sanitised. `charset_problems` lists what had to be
    guessed or repaired (charset fallbacks, structural defects), for logs.
    """

    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_name: str
    from_address: str
    to: list[str]
    cc: list[str]
    reply_to: str | None
    subject: str
    date: dt.datetime | None
    text: str
    html: str | None
    attachments: list[Attachment]
    charset_problems: list[str]
    # Decoded headers in order (lower-cased names); for auto-reply/bounce checks and debugging.
    headers: list[tuple[str, str]] = field(default_factory=list, repr=False)
    content_type: str = "text/plain"
    has_delivery_status: bool = False

    def header(self, name: str) -> str | None:
        """The first header `name` (case-insensitive), decoded, or None."""
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key == name]


# --------------------------------------------------------------------------- charsets

# Declared charsets that are really subsets of a wider one mail clients actually use.
_SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "gb_2312-80": "gb18030",
    "hz-gb-2312": "hz",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "cp950": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "euc-kr": "cp949",
    "iso-8859-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
    "shift_jis": "cp932",
    "iso-2022-jp": "iso2022_jp_ext",
}


def _text_codec(name: str | None) -> str | None:
    """The Python codec for a declared charset name, or None when unknown / not a text codec."""
    if not name:
        return None
    name = name.strip().strip("\"'").lower()
    if not name or len(name) > 40:
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        return None
    if not getattr(info, "_is_text_encoding", True):
        return None
    return info.name


def _decode_bytes(data: bytes, declared: str | None, problems: list[str], where: str) -> str:
    """Decode `data` in its declared charset, with supersets, detection and a lossy last resort."""
    if not data:
        return ""
    declared_clean = (declared or "").strip().strip("\"'").lower()
    codec = _text_codec(declared_clean)
    if declared_clean and codec is None:
        problems.append(f"{where}: unknown charset {declared_clean[:40]!r}")
    candidates: list[str] = []
    if codec:
        candidates.append(codec)
        wider = _SUPERSETS.get(declared_clean) or _SUPERSETS.get(codec)
        if wider:
            candidates.append(wider)
    for candidate in candidates:
        try:
            text = data.decode(candidate)
        except (UnicodeDecodeError, LookupError, ValueError):
            continue
        if candidate != candidates[0]:
            problems.append(f"{where}: declared {declared_clean!r}, decoded as {candidate}")
        return text
    if codec:
        problems.append(f"{where}: bytes do not match declared charset {declared_clean!r}")
    return _guess_decode(data, problems, where, declared_codec=codec)


def _guess_decode(data: bytes, problems: list[str], where: str, *, declared_codec: str | None = None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    best = None
    try:
        best = from_bytes(data).best()
    except Exception:  # charset-normalizer must never take the parse down
        logger.debug("charset-normalizer failed on %s", where, exc_info=True)
    if best is not None:
        problems.append(f"{where}: charset guessed as {best.encoding}")
        return str(best)
    fallback = declared_codec or "gb18030"
    problems.append(f"{where}: undecodable bytes replaced ({fallback})")
    try:
        return data.decode(fallback, errors="replace")
    except (LookupError, ValueError):
        return data.decode("utf-8", errors="replace")


def _short_guess(data: bytes, problems: list[str], where: str) -> str:
    """Unlabelled 8-bit header text: UTF-8, then the GB family, then detection."""
    for candidate in ("utf-8", "gb18030", "big5hkscs"):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate != "utf-8":
            problems.append(f"{where}: unencoded 8-bit header read as {candidate}")
        return text
    return _guess_decode(data, problems, where)


# --------------------------------------------------------------------------- headers

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?]*)\?=")
_FOLD = re.compile(r"\r?\n[ \t]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _decode_word_payload(encoding: str, payload: str) -> bytes:
    if encoding in "bB":
        cleaned = re.sub(r"[^A-Za-z0-9+/]", "", payload)
        cleaned += "=" * (-len(cleaned) % 4)
        try:
            return base64.b64decode(cleaned)
        except (binascii.Error, ValueError):
            return b""
    raw = payload.replace("_", " ").encode("utf-8", errors="replace")
    return quopri.decodestring(raw, header=True)


def _decode_header(value: str, problems: list[str], where: str) -> str:
    """RFC 2047 words (adjacent words of one charset joined before decoding) and raw 8-bit."""
    value = _FOLD.sub(" ", value).replace("\r", "").replace("\n", "")
    # Non-ASCII bytes arrive as surrogate escapes from the bytes parser.
    if any("\udc80" <= ch <= "\udcff" for ch in value):
        raw = value.encode("utf-8", errors="surrogateescape")
        value = _short_guess(raw, problems, where)
    if "=?" not in value:
        return _CONTROL.sub(" ", value).strip()
    out: list[str] = []
    pos = 0
    pending: bytearray = bytearray()
    pending_charset: str | None = None

    def flush() -> None:
        nonlocal pending, pending_charset
        if pending_charset is not None:
            charset = pending_charset.split("*", 1)[0]  # RFC 2231 language suffix
            out.append(_decode_bytes(bytes(pending), charset, problems, where))
        pending = bytearray()
        pending_charset = None

    for match in _ENCODED_WORD.finditer(value):
        between = value[pos : match.start()]
        charset, encoding, payload = match.group(1), match.group(2), match.group(3)
        if between.strip() or pos == 0:
            flush()
            out.append(between)
        # Whitespace between two encoded words is dropped (RFC 2047 section 6.2).
        if pending_charset is not None and charset.lower() != pending_charset.lower():
            flush()
        pending_charset = charset
        pending.extend(_decode_word_payload(encoding, payload))
        pos = match.end()
    flush()
    out.append(value[pos:])
    # Decoded words may smuggle CR/LF or other controls; a header value is one line.
    return _CONTROL.sub(" ", "".join(out)).strip()


def _raw_headers(msg: email.message.Message) -> list[tuple[str, str]]:
    try:
        items = list(msg.raw_items())
    except Exception:
        items = list(getattr(msg, "_headers", []))
    return [(str(k), v if isinstance(v, str) else str(v)) for k, v in items]


def _first(raw: list[tuple[str, str]], name: str) -> str | None:
    for key, value in raw:
        if key.lower() == name:
            return value
    return None


def _all(raw: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in raw if key.lower() == name]


_MSGID = re.compile(r"<([^<>\s]+)>")


def _message_ids(value: str | None) -> list[str]:
    if not value:
        return []
    value = _FOLD.sub(" ", value)
    ids = _MSGID.findall(value)
    if not ids:
        ids = [tok.strip("<>,;") for tok in value.split() if "@" in tok]
    seen: list[str] = []
    for mid in ids:
        mid = mid.strip()
        if mid and mid not in seen:
            seen.append(mid)
    return seen


def _addresses(values: Iterable[str], problems: list[str], where: str) -> list[tuple[str, str]]:
    """(decoded name, lower-cased address) pairs; unparseable entries are skipped."""
    result: list[tuple[str, str]] = []
    for value in values:
        value = _FOLD.sub(" ", value)
        if any("\udc80" <= ch <= "\udcff" for ch in value):
            value = _short_guess(value.encode("utf-8", "surrogateescape"), problems, where)
        try:
            pairs = email.utils.getaddresses([value])
        except Exception:
            pairs = []
        for name, address in pairs:
            address = address.strip().strip("<>").lower()
            if not address or "@" not in address:
                continue
            result.append((_decode_header(name, problems, where).strip().strip('"'), address))
    return result


def _parse_date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(_FOLD.sub(" ", value).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed


def _normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")


# --------------------------------------------------------------------------- MIME walk


@dataclass
class _Collected:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    delivery_status: bool = False
    parts: int = 0


def _safe(call: Any, default: Any) -> Any:
    try:
        return call()
    except Exception:
        return default


def _payload_bytes(part: email.message.Message, problems: list[str], where: str) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = _safe(part.get_payload, "")
    if isinstance(raw, str):
        problems.append(f"{where}: payload could not be decoded, kept raw")
        return raw.encode("utf-8", errors="surrogateescape")
    return b""


def _param(part: email.message.Message, name: str) -> str | None:
    value = _safe(lambda: part.get_param(name), None)
    if isinstance(value, tuple):  # compat32 RFC 2231 triple
        value = _safe(lambda: email.utils.collapse_rfc2231_value(value), None)
    return value if isinstance(value, str) else None


def _filename(part: email.message.Message, problems: list[str], where: str) -> str:
    name = _safe(part.get_filename, None)
    if not name:
        name = _param(part, "name")
    if not isinstance(name, str) or not name:
        return ""
    name = _decode_header(name, problems, where)
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip()


def _walk(part: email.message.Message, acc: _Collected, problems: list[str], depth: int = 0) -> None:
    acc.parts += 1
    if depth > _MAX_DEPTH or acc.parts > _MAX_PARTS:
        if "structure: too deep or too many parts, rest ignored" not in problems:
            problems.append("structure: too deep or too many parts, rest ignored")
        return
    ctype = str(_safe(part.get_content_type, "text/plain")).lower()
    maintype = ctype.split("/", 1)[0]
    where = f"part {acc.parts} ({ctype})"
    if ctype == "message/delivery-status":
        acc.delivery_status = True
    if maintype == "message" or ctype == "text/rfc822-headers":
        payload = _safe(part.get_payload, None)
        if isinstance(payload, list):
            data = b"".join(
                _safe(lambda m=m: m.as_bytes(), b"") for m in payload if isinstance(m, email.message.Message)
            )
        else:
            data = _payload_bytes(part, problems, where)
        ext = ".eml" if ctype == "message/rfc822" else ".txt"
        filename = _filename(part, problems, where) or f"attachment-{acc.parts}{ext}"
        acc.attachments.append(Attachment(filename, ctype, data, len(data)))
        return
    if _safe(part.is_multipart, False):
        children = _safe(part.get_payload, [])
        for child in children if isinstance(children, list) else []:
            if isinstance(child, email.message.Message):
                _walk(child, acc, problems, depth + 1)
        return
    for defect in _safe(lambda: list(part.defects), [])[:3]:
        problems.append(f"{where}: {type(defect).__name__}")
    if maintype == "multipart":  # multipart without usable boundary: read it as plain text
        ctype, maintype = "text/plain", "text"
    disposition = _safe(part.get_content_disposition, None)
    filename = _filename(part, problems, where)
    content_id_raw = _safe(lambda: part.get("Content-ID"), None)
    content_id = (
        _safe(lambda: str(content_id_raw).strip().strip("<>").strip(), None) if content_id_raw else None
    )
    is_body = maintype == "text" and disposition != "attachment" and not filename
    if is_body and ctype in ("text/plain", "text/html"):
        data = _payload_bytes(part, problems, where)
        charset = _param(part, "charset")
        text = _normalise_newlines(_decode_bytes(data, charset, problems, where))
        (acc.plain if ctype == "text/plain" else acc.html).append(text)
        return
    data = _payload_bytes(part, problems, where)
    inline = disposition == "inline" or (disposition is None and bool(content_id))
    if not filename:
        ext = _safe(lambda: mimetypes.guess_extension(ctype), None) or ".bin"
        filename = f"attachment-{acc.parts}{ext}"
    acc.attachments.append(
        Attachment(
            filename=filename,
            content_type=ctype,
            content=data,
            size=len(data),
            inline=inline and maintype == "image",
            content_id=content_id or None,
        )
    )


# --------------------------------------------------------------------------- entry point


def _load(raw: bytes) -> email.message.Message:
    try:
        return email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:
        logger.debug("policy.default failed, retrying with compat32", exc_info=True)
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:
        raise MalformedMessage(REASON_UNPARSEABLE) from exc


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse raw message bytes; raises only `MalformedMessage` (for quarantine)."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise MalformedMessage(REASON_NOT_BYTES)
    raw = bytes(raw)
    if not raw.strip():
        raise MalformedMessage(REASON_EMPTY)
    msg = _load(raw)
    try:
        return _build(msg)
    except MalformedMessage:
        raise
    except Exception as exc:  # a bug here must quarantine the message, not crash the poller
        logger.exception("mail parsing failed")
        raise MalformedMessage(REASON_INTERNAL) from exc


def _build(msg: email.message.Message) -> ParsedMessage:
    problems: list[str] = []
    raw_headers = _raw_headers(msg)
    if not any(key.lower() in _MAIL_HEADERS for key, _ in raw_headers):
        raise MalformedMessage(REASON_NO_HEADERS)

    headers = [
        (key.lower(), _decode_header(value, problems, f"header {key.lower()}")) for key, value in raw_headers
    ]
    senders = _addresses(_all(raw_headers, "from")[:1], problems, "header from")
    if not senders:
        senders = _addresses(_all(raw_headers, "sender")[:1], problems, "header sender")
    from_name, from_address = senders[0] if senders else ("", "")
    to = [addr for _, addr in _addresses(_all(raw_headers, "to"), problems, "header to")]
    cc = [addr for _, addr in _addresses(_all(raw_headers, "cc"), problems, "header cc")]
    reply_to_pairs = _addresses(_all(raw_headers, "reply-to")[:1], problems, "header reply-to")
    message_ids = _message_ids(_first(raw_headers, "message-id"))
    in_reply_to_ids = _message_ids(_first(raw_headers, "in-reply-to"))
    references = _message_ids(" ".join(_all(raw_headers, "references")))

    acc = _Collected()
    _walk(msg, acc, problems)
    html = "\n".join(acc.html) if acc.html else None
    if acc.plain:
        text = "\n".join(acc.plain)
    elif html is not None:
        text = html_to_text(html)
    else:
        text = ""
    return ParsedMessage(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to_ids[0] if in_reply_to_ids else None,
        references=references,
        from_name=from_name,
        from_address=from_address,
        to=to,
        cc=cc,
        reply_to=reply_to_pairs[0][1] if reply_to_pairs else None,
        subject=_decode_header(_first(raw_headers, "subject") or "", [], "subject"),
        date=_parse_date(_first(raw_headers, "date")),
        text=text,
        html=html,
        attachments=acc.attachments,
        charset_problems=problems,
        headers=headers,
        content_type=str(_safe(msg.get_content_type, "text/plain")).lower(),
        has_delivery_status=acc.delivery_status,
    )


# --------------------------------------------------------------------------- classification

_AUTO_SUBJECT = re.compile(
    r"^\s*(?:自动回复|自動回覆|automatic reply|auto[- ]?reply|autoreply|out of (?:the )?office)",
    re.IGNORECASE,
)
_BULK_PRECEDENCE = frozenset({"bulk", "junk", "auto_reply", "auto-reply"})
_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon"})


def auto_reply_reason(msg: ParsedMessage) -> str | None:
    """Why `msg` looks machine-generated (a reply we must not answer), or None."""
    submitted = (msg.header("auto-submitted") or "").split(";", 1)[0].strip().lower()
    if submitted and submitted != "no":
        return "auto_submitted"
    if msg.header("x-autoreply") is not None:
        return "x_autoreply"
    if msg.header("x-autorespond") is not None:
        return "x_autorespond"
    precedence = (msg.header("precedence") or "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return "precedence"
    if _AUTO_SUBJECT.match(msg.subject):
        return "subject"
    return None


def is_auto_reply(msg: ParsedMessage) -> bool:
    return auto_reply_reason(msg) is not None


def bounce_reason(msg: ParsedMessage) -> str | None:
    """Why `msg` looks like a delivery failure report, or None."""
    report_type = (msg.header("content-type") or "").lower()
    if msg.has_delivery_status or (
        msg.content_type == "multipart/report" and "delivery-status" in report_type
    ):
        return "delivery_status"
    if msg.header("x-failed-recipients") is not None:
        return "failed_recipients"
    local = msg.from_address.split("@", 1)[0]
    if local in _DAEMONS:
        return "mailer_daemon"
    return_path = msg.header("return-path")
    if return_path is not None and return_path.strip().replace(" ", "") == "<>":
        return "null_return_path"
    return None


def is_bounce(msg: ParsedMessage) -> bool:
    return bounce_reason(msg) is not None


# --------------------------------------------------------------------------- threading


def ticket_number_in_subject(subject: str, prefix: str = "TK") -> str | None:
    """The first ticket number (`{prefix}-{yyyy}-{n:05d}`, see core Sequence) in `subject`.

    Case-insensitive; brackets optional; the result uses `prefix` as given.
    """
    if not subject or not prefix:
        return None
    pattern = re.compile(
        rf"(?<![A-Za-z0-9]){re.escape(prefix)}-([0-9]{{4}})-([0-9]{{5,}})(?![0-9])",
        re.IGNORECASE | re.ASCII,
    )
    match = pattern.search(subject)
    if match is None:
        return None
    return f"{prefix}-{match.group(1)}-{match.group(2)}"


def thread_keys(msg: ParsedMessage) -> list[str]:
    """Message ids this message answers: In-Reply-To first, then References, de-duplicated."""
    keys: list[str] = []
    candidates = ([msg.in_reply_to] if msg.in_reply_to else []) + list(msg.references)
    for key in candidates:
        if key and key not in keys:
            keys.append(key)
    return keys


# --------------------------------------------------------------------------- quoted replies

_ON_WROTE = re.compile(r"^\s*On\b.*\bwrote:\s*$", re.IGNORECASE)
_ON_START = re.compile(r"^\s*On\s", re.IGNORECASE)
_WROTE_END = re.compile(r"\bwrote:\s*$", re.IGNORECASE)
_ZH_WROTE = re.compile(r"^\s*(?:在|于).*写道\s*[:：]\s*$|^.*\S\s*于.*写道\s*[:：]\s*$")
_SEPARATOR = re.compile(
    r"^\s*-{2,}\s*(?:original message|原始邮件|邮件原件|原始郵件|forwarded message|转发邮件)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_HEADER_START = re.compile(r"^\s*\*?(?:from|发件人|寄件者)\s*\*?\s*[:：]", re.IGNORECASE)
_HEADER_FOLLOW = re.compile(
    r"^\s*\*?(?:sent|date|to|subject|cc|发送时间|日期|收件人|主题|抄送|寄件日期|主旨)\s*\*?\s*[:：]",
    re.IGNORECASE,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")


def _quote_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            return i
        if _ON_WROTE.match(line) or _ZH_WROTE.match(line) or _SEPARATOR.match(line):
            return i
        if _ON_START.match(line) and i + 1 < len(lines) and _WROTE_END.search(lines[i + 1]):
            return i
        if _HEADER_START.match(line) and any(_HEADER_FOLLOW.match(nxt) for nxt in lines[i + 1 : i + 5]):
            return i - 1 if i > 0 and _UNDERSCORES.match(lines[i - 1]) else i
    return None


def strip_quoted_reply(text: str) -> str:
    """The new part of a reply: everything before the quoted history.

    When the whole text is quoted history the original text is returned (nothing is lost).
    """
    text = _normalise_newlines(text)
    lines = text.split("\n")
    start = _quote_start(lines)
    if start is None:
        return text.strip()
    kept = "\n".join(lines[:start]).strip()
    return kept or text.strip()
