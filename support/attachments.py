"""Ticket attachments: allow-listed types, a size limit, stored under MEDIA_ROOT (never static)."""

from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from support.models import Attachment


def allowed_extensions() -> list[str]:
    return sorted(settings.SUPPORT_ATTACHMENT_TYPES)


def validate(upload) -> None:
    name = PurePath(upload.name).name
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
        name = PurePath(upload.name).name
        content_type = (getattr(upload, "content_type", "") or "application/octet-stream").split(";")[0].strip()
        attachment = Attachment(
            ticket=ticket, remark=remark, original_name=name, content_type=content_type, size=upload.size,
            uploaded_by=by,
        )  # fmt: skip
        attachment.file.save(name, upload, save=False)
        attachment.save()
        saved.append(attachment)
    return saved
