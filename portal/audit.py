"""Audit events: who did what, to which object, for which customer, when, from which IP."""

from django.db.models import Model
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

ACTIONS = {
    "auth.login": _("Signed in"),
    "auth.logout": _("Signed out"),
    "auth.login_failed": _("Failed sign-in"),
    "invitation.sent": _("Invitation sent"),
    "invitation.revoked": _("Invitation revoked"),
    "invitation.accepted": _("Invitation accepted"),
    "membership.role_changed": _("Role changed"),
    "membership.removed": _("Member removed"),
    "customer.updated": _("Company details changed"),
    "staff_access.granted": _("Staff access to the configuration granted"),
    "staff_access.revoked": _("Staff access to the configuration revoked"),
    "ticket.opened": _("Ticket opened"),
    "payment.recorded": _("Payment recorded"),
    "invoice.paid": _("Invoice paid"),
    "invoice.issued": _("Invoice issued"),
}


def client_ip(request: HttpRequest | None) -> str | None:
    # REMOTE_ADDR only: behind the proxy, gunicorn's --forwarded-allow-ips sets it from
    # X-Forwarded-For for trusted proxies; trusting the header ourselves would allow spoofing.
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record(
    action: str,
    *,
    actor=None,
    customer=None,
    obj: Model | None = None,
    request: HttpRequest | None = None,
    **details,
):
    from accounts.models import AuditEvent

    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent.objects.create(
        action=action,
        actor=actor if actor is not None and actor.pk else None,
        actor_email=getattr(actor, "email", "") or details.pop("actor_email", ""),
        customer=customer,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        ip_address=client_ip(request),
        details=details,
    )


def describe(action: str) -> str:
    return str(ACTIONS.get(action, action))
