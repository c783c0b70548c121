from celery import shared_task

from accounts import invitations


@shared_task(acks_late=True)
def purge_expired_invitations() -> int:
    return invitations.purge_expired()
