from celery import shared_task
from django.utils import timezone

from support import deadlines


@shared_task(acks_late=True)
def warn_response_deadlines() -> dict[str, int]:
    """Run by beat every few minutes; safe to run twice or on two workers at once (see support.deadlines)."""
    return deadlines.warn_response_deadlines(now=timezone.now())
