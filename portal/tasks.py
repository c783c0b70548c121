from celery import shared_task

from portal import mail


@shared_task(
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=30,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=8,
)
def send_email(*, to: list[str], subject: str, text: str, html: str = "") -> None:
    mail.send_now(to=to, subject=subject, text=text, html=html)


@shared_task(acks_late=True)
def ping(marker: str) -> str:
    """Write an audit row: lets ops (and the services test) prove a worker runs tasks."""
    from portal import audit

    audit.record("system.ping", marker=marker)
    return marker
