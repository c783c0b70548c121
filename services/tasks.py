"""The renewal and notice jobs as Celery tasks, run by beat each night (``CELERY_BEAT_SCHEDULE``).

Thin: each takes an optional ISO date (default: today in Brussels) and calls the job function. A task
delivered twice (Redis visibility timeout, a worker killed mid-task) changes nothing the second time,
because every job claims its work with a unique constraint or a conditional update; so the tasks
acknowledge late, are given back to the queue when their worker dies, and retry on transient errors.
"""

import datetime

from celery import shared_task
from django.db import OperationalError
from django.utils import timezone

from services import notices, renewals

JOB_TASK = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, OSError),
    "retry_backoff": 60,
    "retry_backoff_max": 3600,
    "retry_jitter": True,
    "max_retries": 5,
}


def _today(for_date: str | None) -> datetime.date:
    return datetime.date.fromisoformat(for_date) if for_date else timezone.localdate()


@shared_task(**JOB_TASK)
def issue_renewal_invoices(for_date: str | None = None) -> str:
    return renewals.issue_renewal_invoices(today=_today(for_date)).summary()


@shared_task(**JOB_TASK)
def extend_prepaid_periods() -> str:
    return renewals.extend_prepaid_periods(now=timezone.now()).summary()


@shared_task(**JOB_TASK)
def expire_unpaid(for_date: str | None = None) -> str:
    return renewals.expire_unpaid(today=_today(for_date)).summary()


@shared_task(**JOB_TASK)
def send_certificate_expiry_notices(for_date: str | None = None) -> str:
    return notices.send_certificate_expiry_notices(today=_today(for_date)).summary()


@shared_task(**JOB_TASK)
def bill_m365_licences(for_date: str | None = None) -> str:
    return renewals.bill_m365_licences(today=_today(for_date)).summary()
