"""IMAP access to a support mailbox (standard library `imaplib`): connect over SSL/TLS, STARTTLS or
plain, log in, select the folder; list unprocessed messages by UID, fetch one without marking it
read, and mark it processed (flag \\Seen, or move it to another folder).

Folder names are quoted and encoded in IMAP's modified UTF-7 (RFC 3501 5.1.3), so Chinese folder
names such as 已处理 work. Certificates are verified (`KEHU_MAIL_CA_FILE` adds a CA bundle)."""

from __future__ import annotations

import base64
import contextlib
import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

TIMEOUT = 30


class ImapError(Exception):
    """The server refused something; the message is for the mailbox's last error."""


def utf7_encode(name: str) -> str:
    """`name` in IMAP modified UTF-7."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode("ascii").rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if 0x20 <= ord(ch) <= 0x7E:
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def quote_folder(name: str) -> str:
    encoded = utf7_encode(name or "INBOX")
    return '"' + encoded.replace("\\", "\\\\").replace('"', '\\"') + '"'


def ssl_context() -> ssl.SSLContext:
    cafile = getattr(settings, "KEHU_MAIL_CA_FILE", None) or None
    return ssl.create_default_context(cafile=cafile)


def _check(result: tuple[str, Any], what: str) -> Any:
    typ, data = result
    if typ != "OK":
        detail = b" ".join(d for d in data if isinstance(d, bytes)).decode("utf-8", "replace")
        raise ImapError(f"{what}: {typ} {detail}".strip())
    return data


@contextmanager
def imap_session(mailbox: Any) -> Iterator[imaplib.IMAP4]:
    """A logged-in connection to `mailbox` (a `Mailbox`) with its folder selected."""
    host, port = mailbox.imap_host, int(mailbox.imap_port)
    if not host:
        raise ImapError("no IMAP host configured")
    conn: imaplib.IMAP4
    if mailbox.imap_ssl:
        conn = imaplib.IMAP4_SSL(host, port, ssl_context=ssl_context(), timeout=TIMEOUT)
    else:
        conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
        if mailbox.imap_starttls:
            _check(conn.starttls(ssl_context=ssl_context()), "STARTTLS")
    try:
        _check(conn.login(mailbox.imap_username, mailbox.imap_password), "LOGIN")
        _check(conn.select(quote_folder(mailbox.imap_folder)), f"SELECT {mailbox.imap_folder}")
        yield conn
    finally:
        with contextlib.suppress(Exception):  # the connection is going away anyway
            conn.logout()


def unprocessed_uids(conn: imaplib.IMAP4, *, moves: bool) -> list[str]:
    """UIDs to process, oldest first: every undeleted message when processed mail is moved away,
    else the unseen ones."""
    criteria = "UNDELETED" if moves else "UNSEEN UNDELETED"
    data = _check(conn.uid("SEARCH", criteria), "SEARCH")
    uids = (data[0] or b"").split() if data else []
    return [u.decode("ascii") for u in sorted(uids, key=int)]


_LITERAL = re.compile(rb"BODY\[\]")


def fetch(conn: imaplib.IMAP4, uid: str) -> bytes | None:
    """The raw message of `uid` (not marked \\Seen), or None when it vanished."""
    data = _check(conn.uid("FETCH", uid, "(BODY.PEEK[])"), "FETCH")
    for item in data or []:
        if isinstance(item, tuple) and len(item) >= 2 and _LITERAL.search(item[0] or b""):
            return bytes(item[1])
    return None


def ensure_folder(conn: imaplib.IMAP4, name: str) -> None:
    conn.create(quote_folder(name))  # NO when it exists: fine


def mark_processed(conn: imaplib.IMAP4, uid: str, *, move_to: str = "") -> None:
    if not move_to:
        _check(conn.uid("STORE", uid, "+FLAGS", "(\\Seen)"), "STORE")
        return
    target = quote_folder(move_to)
    capabilities = {c.upper() for c in (conn.capabilities or ())}
    conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    if "MOVE" in capabilities:
        _check(conn.uid("MOVE", uid, target), "MOVE")
        return
    _check(conn.uid("COPY", uid, target), "COPY")
    _check(conn.uid("STORE", uid, "+FLAGS", "(\\Deleted)"), "STORE")
    if "UIDPLUS" in capabilities:
        conn.uid("EXPUNGE", uid)
    else:
        conn.expunge()


def message_count(conn: imaplib.IMAP4) -> tuple[int, int]:
    """(all, unseen) messages in the selected folder."""
    everything = _check(conn.uid("SEARCH", "ALL"), "SEARCH")
    unseen = _check(conn.uid("SEARCH", "UNSEEN"), "SEARCH")
    return len((everything[0] or b"").split()), len((unseen[0] or b"").split())
