"""Sign-in and sign-out are recorded in the audit trail of every customer the person belongs to."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from portal import audit


def _customers(user):
    return [m.customer for m in user.memberships.select_related("customer")] or [None]


@receiver(user_logged_in)
def record_login(sender, request, user, **kwargs):
    for customer in _customers(user):
        audit.record("auth.login", actor=user, customer=customer, request=request)


@receiver(user_logged_out)
def record_logout(sender, request, user, **kwargs):
    if user is not None:
        for customer in _customers(user):
            audit.record("auth.logout", actor=user, customer=customer, request=request)


@receiver(user_login_failed)
def record_login_failed(sender, credentials, request=None, **kwargs):
    email = str(credentials.get("email") or credentials.get("username") or "")[:254]
    audit.record("auth.login_failed", request=request, actor_email=email)
