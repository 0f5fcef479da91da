"""Checking an uploaded file before it is kept (contract attachments, ticket files, e-mailed
attachments): the extension must be one of ``KEHU_ATTACHMENT_TYPES`` and the content must look like
that type (its first bytes; Office Open XML and OFD files are ZIP archives with their own marker
file); at most ``KEHU_ATTACHMENT_MAX_BYTES``."""

from __future__ import annotations

import io
import os
import zipfile
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from kehu.core.errors import DomainError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_TYPES = ("pdf", "png", "jpg", "jpeg", "doc", "docx", "xls", "xlsx", "zip", "ofd")


def attachment_max_bytes() -> int:
    return int(getattr(settings, "KEHU_ATTACHMENT_MAX_BYTES", DEFAULT_MAX_BYTES))


def attachment_types() -> list[str]:
    return [
        str(t).strip().lower().lstrip(".") for t in getattr(settings, "KEHU_ATTACHMENT_TYPES", DEFAULT_TYPES)
    ]


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")
_MAGIC: dict[str, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "doc": (_OLE2,),
    "xls": (_OLE2,),
    "ppt": (_OLE2,),
    "zip": _ZIP,
    "docx": _ZIP,
    "xlsx": _ZIP,
    "pptx": _ZIP,
    "ofd": _ZIP,
}
# ZIP-based formats: a member that must be in the archive.
_ZIP_MARKER = {
    "docx": "word/",
    "xlsx": "xl/",
    "pptx": "ppt/",
    "ofd": "OFD.xml",
}
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip",
    "ofd": "application/ofd",
    "txt": "text/plain",
}


def _read_all(upload: Any) -> bytes:
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read()
    if hasattr(upload, "seek"):
        upload.seek(0)
    return data if isinstance(data, bytes) else bytes(data)


def _content_matches(ext: str, upload: Any, size: int) -> bool:
    """Whether the file's content looks like `ext` (first bytes; ZIP-based types by a member)."""
    magic = _MAGIC.get(ext)
    if magic is None:  # a type an administrator added with no known signature: extension only
        return True
    if hasattr(upload, "seek"):
        upload.seek(0)
    head = upload.read(16) or b""
    if hasattr(upload, "seek"):
        upload.seek(0)
    if not any(head.startswith(m) for m in magic):
        return False
    marker = _ZIP_MARKER.get(ext)
    if marker is None:
        return True
    try:
        with zipfile.ZipFile(io.BytesIO(_read_all(upload))) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    finally:
        if hasattr(upload, "seek"):
            upload.seek(0)
    if marker.endswith("/"):
        return any(n.startswith(marker) for n in names)
    return any(n == marker or n.endswith("/" + marker) for n in names)


class UploadRefused(DomainError):
    """A file that is not accepted; the message is on the ``file`` field."""

    code = "attachment_refused"


def _refused(message: str) -> UploadRefused:
    return UploadRefused(message, fields={"file": [message]})


def check_upload(upload: Any) -> tuple[str, int, str]:
    """(clean name, size, content type) of an acceptable upload; else :class:`UploadRefused` (on `file`)."""
    if upload is None:
        raise _refused(_("Choose a file."))
    name = os.path.basename(str(getattr(upload, "name", "") or "")).strip()
    size = int(getattr(upload, "size", 0) or 0)
    if not name:
        raise _refused(_("Choose a file."))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = attachment_types()
    if ext not in allowed:
        raise _refused(
            _("Files of type “%(ext)s” are not accepted. Accepted types: %(types)s.")
            % {"ext": ext or "—", "types": ", ".join(allowed)}
        )
    limit = attachment_max_bytes()
    if size > limit:
        raise _refused(
            _("The file is too big (%(size)s); the limit is %(limit)s.")
            % {"size": size_text(size), "limit": size_text(limit)}
        )
    if size == 0:
        raise _refused(_("The file is empty."))
    if not _content_matches(ext, upload, size):
        raise _refused(_("The file's content is not a %(ext)s file; it was refused.") % {"ext": ext.upper()})
    return name[-255:], size, CONTENT_TYPES.get(ext, "application/octet-stream")


def size_text(n: int) -> str:
    """A byte count as people read it (B, KB, MB)."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} B"
