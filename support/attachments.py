"""Ticket attachments: allow-listed types, a size limit, stored under MEDIA_ROOT (never static)."""

import secrets
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from support.models import Attachment


def allowed_extensions() -> list[str]:
    return sorted(settings.SUPPORT_ATTACHMENT_TYPES)


# What each allow-listed type's content starts with: the name and the browser's content type are
# the uploader's word, the first bytes are the file's (an HTML page renamed .png is refused).
MAGIC = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
    "gif": (b"GIF87a", b"GIF89a"),
    "zip": (b"PK\x03\x04", b"PK\x05\x06"),
}
# Text types hold text: no NUL bytes, and not a web page or a script a browser would run.
TEXT_TYPES = {"txt", "log", "csv", "eml"}
MARKUP_STARTS = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<iframe", b"<body", b"<head")


def _head(upload, size: int = 2048) -> bytes:
    position = upload.tell() if hasattr(upload, "tell") else 0
    upload.seek(0)
    head = upload.read(size)
    upload.seek(position)
    return head if isinstance(head, bytes) else head.encode()


def content_matches(extension: str, head: bytes) -> bool:
    """Whether the first bytes of a file are what its extension promises."""
    if extension == "webp":
        return head[:4] == b"RIFF" and head[8:12] == b"WEBP"
    if extension in MAGIC:
        return head.startswith(MAGIC[extension])
    if extension in TEXT_TYPES:
        return b"\x00" not in head and not head.lstrip().lower().startswith(MARKUP_STARTS)
    return False


def display_name(filename: str) -> str:
    """The file's own name without any folder (of either slash) or control character."""
    cleaned = "".join(c for c in str(filename) if c.isprintable()).replace("\\", "/")
    return PurePath(cleaned).name[:255] or "file"


def stored_name(filename: str) -> str:
    """A random file name keeping only the (allow-listed) extension: what a customer named the
    file is kept in the database for display, never used as a path."""
    name = display_name(filename)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    extension = extension if extension in settings.SUPPORT_ATTACHMENT_TYPES else "bin"
    return f"{secrets.token_hex(16)}.{extension}"


def validate(upload) -> None:
    name = display_name(upload.name)
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    allowed = settings.SUPPORT_ATTACHMENT_TYPES.get(extension)
    if allowed is None:
        raise ValidationError(
            _("%(name)s: this type of file is not accepted. Accepted: %(types)s."),
            params={"name": name, "types": ", ".join(allowed_extensions())},
        )
    content_type = (getattr(upload, "content_type", "") or "application/octet-stream").split(";")[0].strip()
    if content_type not in allowed and content_type != "application/octet-stream":
        raise ValidationError(
            _("%(name)s: the file's content (%(type)s) does not match its name."),
            params={"name": name, "type": content_type},
        )
    if upload.size > settings.SUPPORT_ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            _("%(name)s is too large (%(size)s); the limit is %(limit)s."),
            params={
                "name": name,
                "size": filesizeformat(upload.size),
                "limit": filesizeformat(settings.SUPPORT_ATTACHMENT_MAX_BYTES),
            },
        )
    if not content_matches(extension, _head(upload)):
        raise ValidationError(
            _("%(name)s: the file's content is not a %(type)s file. Check that you picked the right file."),
            params={"name": name, "type": extension.upper()},
        )


def validate_all(files) -> None:
    files = list(files)
    if len(files) > settings.SUPPORT_ATTACHMENT_MAX_FILES:
        raise ValidationError(
            {"files": _("Attach at most %(count)d files.") % {"count": settings.SUPPORT_ATTACHMENT_MAX_FILES}}
        )
    errors = []
    for upload in files:
        try:
            validate(upload)
        except ValidationError as error:
            errors.extend(error.messages)
    if errors:
        raise ValidationError({"files": errors})


def save_all(*, ticket, remark, files, by) -> list[Attachment]:
    saved = []
    for upload in files:
        name = display_name(upload.name)
        content_type = (getattr(upload, "content_type", "") or "application/octet-stream").split(";")[0].strip()
        attachment = Attachment(
            ticket=ticket, remark=remark, original_name=name, content_type=content_type, size=upload.size,
            uploaded_by=by,
        )  # fmt: skip
        attachment.file.save(stored_name(name), upload, save=False)
        attachment.save()
        saved.append(attachment)
    return saved
