"""E-mails: rendered from templates in the recipient's language, sent by a Celery task after commit."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def render_email(template_prefix: str, context: dict, language: str | None = None) -> tuple[str, str, str]:
    """Render ``<prefix>_subject.txt``, ``<prefix>.txt`` and ``<prefix>.html``."""
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = render_to_string(f"{template_prefix}_subject.txt", context).strip()
        text = render_to_string(f"{template_prefix}.txt", context)
        html = render_to_string(f"{template_prefix}.html", context)
    return " ".join(subject.splitlines()), text, html


def send_now(*, to: list[str], subject: str, text: str, html: str = "") -> None:
    message = EmailMultiAlternatives(subject=subject, body=text, to=to)
    if html:
        message.attach_alternative(html, "text/html")
    message.send()


def send_templated(*, to: list[str], template_prefix: str, context: dict, language: str | None = None) -> None:
    """Render now (inside the request's data), enqueue the sending once the transaction commits."""
    from portal.tasks import send_email

    subject, text, html = render_email(template_prefix, context, language)
    transaction.on_commit(lambda: send_email.delay(to=to, subject=subject, text=text, html=html))
