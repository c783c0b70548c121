"""E-mails: rendered from templates in the recipient's language, sent by a Celery task after commit.

When the broker (Redis) is down, enqueueing fails after the data is committed: instead of a 500
for a change that was saved and an e-mail lost, the mail is sent at once from this process (the
same ``send_now`` the task calls). Checked by `make soak` with Redis stopped while customers work.
"""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


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
    subject, text, html = render_email(template_prefix, context, language)
    transaction.on_commit(lambda: enqueue(to=to, subject=subject, text=text, html=html))


def enqueue(*, to: list[str], subject: str, text: str, html: str = "") -> None:
    """Hand the mail to a worker; without a broker, send it now rather than fail or lose it."""
    from portal.tasks import send_email

    try:
        send_email.delay(to=to, subject=subject, text=text, html=html)
    except (OperationalError, RedisError, OSError) as error:
        logger.warning("Broker unavailable (%s): sending %r from the web process", error, subject)
        send_now(to=to, subject=subject, text=text, html=html)
