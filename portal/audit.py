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
    "order.placed": _("Order placed"),
    "order.accepted": _("Order accepted"),
    "order.refused": _("Order refused"),
    "order.cancelled": _("Order cancelled"),
    "service.status_changed": _("Service status changed"),
    "hosting.restore_requested": _("Backup restoration requested"),
    "cms_update.recorded": _("CMS update recorded"),
    "cms_update.confirmed": _("CMS update checked: the site works"),
    "cms_update.problem_reported": _("Problem reported after a CMS update"),
    "certificate.requested": _("Certificate requested"),
    "certificate.status_changed": _("Certificate request updated"),
    "certificate.answered": _("Answer sent to the certificate authority"),
    "certificate.installed": _("Certificate installed"),
    "certificate.revoked": _("Certificate revoked"),
    "certificate.key_downloaded": _("Private key downloaded"),
    "certificate.withdrawn": _("Certificate request withdrawn"),
    "dns.zone_created": _("DNS zone created"),
    "dns.record_added": _("DNS record added"),
    "dns.record_changed": _("DNS record changed"),
    "dns.record_deleted": _("DNS record deleted"),
    "dns.zone_imported": _("DNS zone imported"),
    "domain_request.submitted": _("Domain request submitted"),
    "domain_request.status_changed": _("Domain request updated"),
    "domain_request.answered": _("Answer sent to the registry"),
    "domain_request.completed": _("Domain request completed"),
    "domain_request.rejected": _("Domain request rejected"),
    "domain_request.auth_code_revealed": _("Auth code revealed to staff"),
    "m365.licences_changed": _("Microsoft 365 licences changed"),
    "m365.contract_ended": _("Microsoft 365 contract ended"),
    "m365.licence_change_done": _("Licence change applied at Microsoft"),
    "m365.price_change_recorded": _("Microsoft 365 price change recorded"),
    "m365.price_change_announced": _("Microsoft 365 price change announced"),
    "m365.integration_added": _("Integration service agreed"),
    "service.renewed": _("Service renewed"),
    "service.paid_after_expiry": _("Payment received after expiry"),
    "service.reactivated_after_late_payment": _("Service reactivated after a late payment"),
    "service.late_payment_refunded": _("Late payment refunded"),
    "system.ping": _("Worker check"),
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
    event = unsaved(action, actor=actor, customer=customer, obj=obj, request=request, **details)
    event.save(force_insert=True)
    return event


def unsaved(
    action: str,
    *,
    actor=None,
    customer=None,
    obj: Model | None = None,
    request: HttpRequest | None = None,
    **details,
):
    """The event ``record`` saves, not saved yet: the jobs insert a batch's events at once (bulk_create)."""
    from accounts.models import AuditEvent

    if actor is None and request is not None and request.user.is_authenticated:
        actor = request.user
    return AuditEvent(
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
