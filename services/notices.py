"""E-mails about renewals and expiries, and the certificate expiry notices (issue 7, art. 5.2.2).

Each notice is sent once: the row that records it (``ServiceNotice``, ``CertificateNotice``) is
inserted in a savepoint before the e-mail is enqueued, and its unique constraint refuses a second
one, whether it comes from a second run, a redelivered task or a concurrent worker. The e-mail
leaves after the item's transaction commits (``portal.mail``), so a rolled-back item sends nothing.
"""

import datetime
import logging
import time
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Prefetch
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Customer, User
from accounts.roles import PERMISSIONS, Permission
from portal import mail
from services.jobs import Run, recorded
from services.models import Certificate, CertificateNotice, CertificateRequest, Service, ServiceNotice

logger = logging.getLogger(__name__)

# ServiceNotice kinds, one per service and period end.
END_ANNOUNCED = "end_announced"  # auto-renew off: the customer is told the end date instead of invoiced
EXPIRED = "expired"  # the period ended unpaid (or not renewed): suspended, released or ended
PAID_AFTER_EXPIRY = "paid_after_expiry"  # staff told that a renewal was paid after the service expired
LATE_PAYMENT_REACTIVATED = "late_payment_reactivated"  # staff decided: reactivated from the old end
LATE_PAYMENT_REFUNDED = "late_payment_refunded"  # staff decided: the payment is refunded
REGISTRY_RENEWAL = "registry_renewal"  # staff asked to renew a domain at the registry by hand


def reminder_kind(days: int) -> str:
    return f"reminder_{days}"


def nearest_threshold(days_left: int, thresholds: Iterable[int]) -> int | None:
    """The threshold a notice is due for when ``days_left`` days remain: the smallest one already
    reached. A day missed (or several) catches up with that one only, never a burst of all of them."""
    if days_left < 0:
        return None
    reached = [int(t) for t in thresholds if int(t) >= days_left]
    return min(reached) if reached else None


def pace() -> None:
    """Test-only: ``RENEWALS_ITEM_DELAY_SECONDS`` slows each item so that the worker test can kill a
    worker in the middle of a job. Zero (no delay) everywhere else."""
    delay = float(getattr(settings, "RENEWALS_ITEM_DELAY_SECONDS", 0) or 0)
    if delay > 0:
        time.sleep(delay)


# Claiming a notice


def claim_service_notice(*, service: Service, period_end: datetime.date, kind: str, now: datetime.datetime) -> bool:
    """Record that ``kind`` is sent about ``service``'s period ending ``period_end``; False when it was before."""
    try:
        with transaction.atomic():
            ServiceNotice.objects.create(service=service, period_end=period_end, kind=kind, sent_at=now)
    except IntegrityError:
        return False
    return True


def has_notice(service: Service, *, period_end: datetime.date, kind: str) -> bool:
    return ServiceNotice.objects.filter(service=service, period_end=period_end, kind=kind).exists()


def claim_certificate_notice(*, certificate: Certificate, days_before: int, now: datetime.datetime) -> bool:
    try:
        with transaction.atomic():
            CertificateNotice.objects.create(certificate=certificate, days_before=days_before, sent_at=now)
    except IntegrityError:
        return False
    return True


# Who is told


def _members(customer: Customer, permission: Permission) -> set[str]:
    roles = PERMISSIONS[permission]
    return set(customer.memberships.filter(role__in=roles, user__is_active=True).values_list("user__email", flat=True))


def billing_recipients(customer: Customer) -> list[str]:
    """Renewal invoices and reminders: who buys for the customer, and the billing address."""
    emails = _members(customer, Permission.SPEND)
    if customer.billing_email:
        emails.add(customer.billing_email)
    return sorted(emails)


def service_recipients(customer: Customer) -> list[str]:
    """A service ending or expiring: the buyers and billing address, and the technical people who run it."""
    return sorted(set(billing_recipients(customer)) | _members(customer, Permission.OPEN_TICKETS))


def certificate_recipients(customer: Customer) -> list[str]:
    """Certificate expiry: the owners and technical members (the roles that manage certificates)."""
    return sorted(_members(customer, Permission.MANAGE_DNS))


def staff_recipients() -> list[str]:
    if settings.SUPPORT_STAFF_EMAILS:
        return list(settings.SUPPORT_STAFF_EMAILS)
    return sorted(User.objects.filter(is_staff=True, is_active=True).values_list("email", flat=True))


def _url(name: str, *args) -> str:
    """An absolute link for an e-mail; empty when the page does not exist (yet)."""
    try:
        return settings.PORTAL_BASE_URL + reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _send(to: Sequence[str], template: str, context: dict, language: str) -> bool:
    if not to:
        return False
    mail.send_templated(to=list(to), template_prefix=f"services/email/{template}", context=context, language=language)
    return True


# Renewal and expiry e-mails


def send_end_announced(service: Service, *, addons: Sequence[Service] = ()) -> bool:
    """Auto-renew is off: the customer learns the end date (no invoice), and what ending means."""
    return _send(
        service_recipients(service.customer), "renewal_end_announced",
        {"service": service, "addons": addons, "link": _url("service_detail", service.pk),
         "ticket_link": _url("ticket_new")},
        service.customer.preferred_language,
    )  # fmt: skip


def send_invoice(invoice) -> bool:
    """A renewal or monthly invoice was issued: what it pays for, how to pay, and that only paying renews.
    Sent with the invoice's own transaction, so once (the invoice is created once per period)."""
    lines = list(invoice.lines.select_related("service__plan"))
    return _send(
        billing_recipients(invoice.customer), "renewal_invoice",
        {"invoice": invoice, "lines": lines, "monthly": all(line.service.plan.period_months == 0 for line in lines),
         "link": _url("invoice_detail", invoice.number)},
        invoice.customer.preferred_language,
    )  # fmt: skip


def send_reminder(invoice, services: Sequence[Service], *, days_left: int) -> bool:
    """The renewal invoice is unpaid ``days_left`` days before the period ends."""
    return _send(
        billing_recipients(invoice.customer), "renewal_reminder",
        {"invoice": invoice, "services": services, "days_left": days_left, "end": services[0].current_period_end,
         "link": _url("invoice_detail", invoice.number)},
        invoice.customer.preferred_language,
    )  # fmt: skip


def send_expired(service: Service, *, invoice=None, addons: Sequence[Service] = ()) -> bool:
    """The period ended without a paid renewal: what happened to the service and its add-ons."""
    return _send(
        service_recipients(service.customer), "renewal_expired",
        {"service": service, "invoice": invoice, "addons": addons, "link": _url("service_detail", service.pk),
         "invoice_link": _url("invoice_detail", invoice.number) if invoice else ""},
        service.customer.preferred_language,
    )  # fmt: skip


def send_late_payment_decision(service: Service, line, *, reactivated: bool) -> bool:
    """Staff decided about a renewal paid after expiry: reactivated from the old end, or refunded."""
    return _send(
        billing_recipients(service.customer), "renewal_late_payment",
        {"service": service, "line": line, "invoice": line.invoice, "reactivated": reactivated,
         "link": _url("service_detail", service.pk)},
        service.customer.preferred_language,
    )  # fmt: skip


def _admin_link(service: Service) -> str:
    return _url("admin:services_service_change", service.pk)


def send_paid_after_expiry_to_staff(service: Service, line) -> bool:
    """A renewal was paid after the service expired: staff reactivate or refund (never automatic)."""
    return _send(
        staff_recipients(), "renewal_paid_after_expiry_staff",
        {"service": service, "line": line, "invoice": line.invoice, "link": _admin_link(service)},
        settings.LANGUAGE_CODE,
    )  # fmt: skip


def send_registry_renewal_to_staff(service: Service, *, years: int, start: datetime.date, end: datetime.date) -> bool:
    """The registry interface left a paid domain renewal to staff (manual fulfilment)."""
    return _send(
        staff_recipients(), "renewal_registry_staff",
        {"service": service, "years": years, "start": start, "end": end, "link": _admin_link(service)},
        settings.LANGUAGE_CODE,
    )  # fmt: skip


# Certificate expiry notices (art. 5.2.2)


def current_certificates():
    """Certificates in use: not revoked, of an issued request (not replaced, not revoked), and the
    latest certificate of that request."""
    newer = Certificate.objects.filter(request=OuterRef("request"), not_after__gt=OuterRef("not_after"))
    return Certificate.objects.filter(
        revoked_at__isnull=True, request__status=CertificateRequest.Status.ISSUED
    ).exclude(Exists(newer))


def _expiry_date(certificate: Certificate) -> datetime.date:
    return timezone.localdate(certificate.not_after)


def certificates_due(today: datetime.date, thresholds: Sequence[int]) -> list[tuple[Certificate, int]]:
    """(certificate, threshold) for each current certificate whose nearest reached threshold has no
    notice yet. Three queries, however many certificates."""
    if not thresholds:
        return []
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(today, datetime.time.min, tzinfo=zone)
    last = today + datetime.timedelta(days=max(thresholds) + 1)
    until = datetime.datetime.combine(last, datetime.time.min, tzinfo=zone)
    certificates = (
        current_certificates()
        .filter(not_after__gte=start, not_after__lt=until)
        .select_related("request__customer")
        .prefetch_related(Prefetch("notices", queryset=CertificateNotice.objects.only("certificate", "days_before")))
        .order_by("not_after", "pk")
    )
    due = []
    for certificate in certificates:
        threshold = nearest_threshold((_expiry_date(certificate) - today).days, thresholds)
        if threshold is not None and threshold not in {n.days_before for n in certificate.notices.all()}:
            due.append((certificate, threshold))
    return due


def send_certificate_expiry(certificate: Certificate, *, days_before: int, today: datetime.date) -> bool:
    request = certificate.request
    expires_on = _expiry_date(certificate)
    return _send(
        certificate_recipients(request.customer), "certificate_expiry",
        {"certificate": certificate, "request": request, "names": certificate.names or request.names,
         "expires_on": expires_on, "days_left": (expires_on - today).days, "days_before": days_before,
         "link": _url("certificate_detail", request.pk)},
        request.customer.preferred_language,
    )  # fmt: skip


def send_certificate_expiry_notices(
    *, today: datetime.date, now: datetime.datetime | None = None, dry_run: bool = False
) -> Run:
    """Art. 5.2.2: warn the customer's owners and technical members before a certificate expires, at
    each threshold of ``CERTIFICATE_NOTICE_DAYS`` (30, 14, 7, 1 days), once per certificate and threshold
    (the ``one_notice_per_certificate_threshold`` constraint decides, not the clock of the run)."""
    now = now or timezone.now()
    thresholds = list(settings.CERTIFICATE_NOTICE_DAYS)

    def notify(item: tuple[Certificate, int]) -> str | None:
        certificate, threshold = item
        pace()
        if not claim_certificate_notice(certificate=certificate, days_before=threshold, now=now):
            return "already sent"
        if not send_certificate_expiry(certificate, days_before=threshold, today=today):
            return "no recipient"
        return f"sent ({threshold} days)"

    with recorded("send_certificate_expiry_notices", for_date=today, dry_run=dry_run) as run:
        run.each(certificates_due(today, thresholds), notify)
    return run
