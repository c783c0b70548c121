"""E-mails about renewals and expiries, and the certificate expiry notices (issue 7, art. 5.2.2).

Each notice is sent once: the row that records it (``ServiceNotice``, ``CertificateNotice``) is
inserted before the e-mail is enqueued, and its unique constraint refuses a second one, whether it
comes from a second run, a redelivered task or a concurrent worker. The jobs insert a batch's rows
at once; when the constraint refuses one, the batch is rolled back and done again item by item,
each claim in its own savepoint (``jobs.Run.each_batch``). The e-mail leaves after the transaction
commits (``portal.mail``), so a rolled-back batch or item sends nothing.
"""

import datetime
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.models import Customer, Membership, User
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


class Recipients:
    """Who is told, for many customers at once: their active members' roles, read in one query."""

    def __init__(self, customers: Iterable[Customer]):
        self.emails: dict[int, list[tuple[str, str]]] = defaultdict(list)
        rows = Membership.objects.filter(customer__in=list(customers), user__is_active=True)
        for customer_id, role, email in rows.values_list("customer_id", "role", "user__email"):
            self.emails[customer_id].append((role, email))

    def members(self, customer: Customer, permission: Permission) -> set[str]:
        roles = PERMISSIONS[permission]
        return {email for role, email in self.emails[customer.pk] if role in roles}

    def billing(self, customer: Customer) -> list[str]:
        """Renewal invoices and reminders: who buys for the customer, and the billing address."""
        emails = self.members(customer, Permission.SPEND)
        if customer.billing_email:
            emails.add(customer.billing_email)
        return sorted(emails)

    def service(self, customer: Customer) -> list[str]:
        """A service ending or expiring: the buyers and billing address, and the technical people who run it."""
        return sorted(set(self.billing(customer)) | self.members(customer, Permission.OPEN_TICKETS))

    def certificate(self, customer: Customer) -> list[str]:
        """Certificate expiry: the owners and technical members (the roles that manage certificates)."""
        return sorted(self.members(customer, Permission.MANAGE_DNS))


def billing_recipients(customer: Customer) -> list[str]:
    return Recipients([customer]).billing(customer)


def service_recipients(customer: Customer) -> list[str]:
    return Recipients([customer]).service(customer)


def certificate_recipients(customer: Customer) -> list[str]:
    return Recipients([customer]).certificate(customer)


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


def send_end_announced(
    service: Service, *, addons: Sequence[Service] = (), recipients: Recipients | None = None
) -> bool:
    """Auto-renew is off: the customer learns the end date (no invoice), and what ending means."""
    return _send(
        (recipients or Recipients([service.customer])).service(service.customer), "renewal_end_announced",
        {"service": service, "addons": addons, "link": _url("service_detail", service.pk),
         "ticket_link": _url("ticket_new")},
        service.customer.preferred_language,
    )  # fmt: skip


def send_invoice(invoice, *, lines: Sequence | None = None, recipients: Recipients | None = None) -> bool:
    """A renewal or monthly invoice was issued: what it pays for, how to pay, and that only paying renews.
    Sent with the invoice's own transaction, so once (the invoice is created once per period). ``lines``:
    the invoice's lines with their service and plan, when the caller has them."""
    lines = list(invoice.lines.select_related("service__plan")) if lines is None else lines
    return _send(
        (recipients or Recipients([invoice.customer])).billing(invoice.customer), "renewal_invoice",
        {"invoice": invoice, "lines": lines, "monthly": all(line.service.plan.period_months == 0 for line in lines),
         "link": _url("invoice_detail", invoice.number)},
        invoice.customer.preferred_language,
    )  # fmt: skip


def send_reminder(
    invoice, services: Sequence[Service], *, days_left: int, recipients: Recipients | None = None
) -> bool:
    """The renewal invoice is unpaid ``days_left`` days before the period ends."""
    return _send(
        (recipients or Recipients([invoice.customer])).billing(invoice.customer), "renewal_reminder",
        {"invoice": invoice, "services": services, "days_left": days_left, "end": services[0].current_period_end,
         "link": _url("invoice_detail", invoice.number)},
        invoice.customer.preferred_language,
    )  # fmt: skip


def send_expired(
    service: Service, *, invoice=None, addons: Sequence[Service] = (), recipients: Recipients | None = None
) -> bool:
    """The period ended without a paid renewal: what happened to the service and its add-ons."""
    return _send(
        (recipients or Recipients([service.customer])).service(service.customer), "renewal_expired",
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


def _due_certificates(today: datetime.date, thresholds: Sequence[int]):
    """Current certificates whose nearest reached threshold (annotated ``threshold``) has no notice yet.

    The nearest reached threshold of a certificate expiring on day E is the smallest t with E <= today
    + t, that is ``not_after`` before midnight (Brussels) of day today + t + 1 (``nearest_threshold``)."""
    zone = timezone.get_current_timezone()

    def midnight(day: datetime.date) -> datetime.datetime:
        return datetime.datetime.combine(day, datetime.time.min, tzinfo=zone)

    ordered = sorted({int(t) for t in thresholds})
    reached = [When(not_after__lt=midnight(today + datetime.timedelta(days=t + 1)), then=Value(t)) for t in ordered]
    sent = CertificateNotice.objects.filter(certificate=OuterRef("pk"), days_before=OuterRef("threshold"))
    return (
        current_certificates()
        .filter(
            not_after__gte=midnight(today), not_after__lt=midnight(today + datetime.timedelta(days=ordered[-1] + 1))
        )
        .annotate(threshold=Case(*reached, output_field=IntegerField()))
        .exclude(Exists(sent))
        .order_by("not_after", "pk")
    )


def certificates_due(today: datetime.date, thresholds: Sequence[int]) -> list[tuple[Certificate, int]]:
    """(certificate, threshold) for each current certificate whose nearest reached threshold has no
    notice yet. One query, however many certificates."""
    if not thresholds:
        return []
    due = _due_certificates(today, thresholds).select_related("request__customer")
    return [(certificate, certificate.threshold) for certificate in due]


def send_certificate_expiry(
    certificate: Certificate, *, days_before: int, today: datetime.date, recipients: Recipients | None = None
) -> bool:
    request = certificate.request
    expires_on = _expiry_date(certificate)
    return _send(
        (recipients or Recipients([request.customer])).certificate(request.customer), "certificate_expiry",
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
    (the ``one_notice_per_certificate_threshold`` constraint decides, not the clock of the run).

    The certificates due are listed in one query, then handled in batches: a batch reads its
    certificates and their recipients in two queries and claims its notices in one insert."""
    now = now or timezone.now()
    thresholds = list(settings.CERTIFICATE_NOTICE_DAYS)

    def sent(certificate: Certificate, threshold: int, recipients: Recipients | None = None) -> str:
        if not send_certificate_expiry(certificate, days_before=threshold, today=today, recipients=recipients):
            return "no recipient"
        return f"sent ({threshold} days)"

    def load(items: list[tuple[Certificate, int]]) -> list[tuple[Certificate, int]]:
        certificates = Certificate.objects.select_related("request__customer").in_bulk([c.pk for c, _ in items])
        return [(certificates[c.pk], threshold) for c, threshold in items if c.pk in certificates]

    def notify_batch(items: list[tuple[Certificate, int]]) -> list[str]:
        for _item in items:
            pace()
        due = load(items)
        # A notice claimed meanwhile (a second run, a concurrent worker) makes this insert fail: the
        # batch is then rolled back and done item by item, where that one counts as "already sent".
        CertificateNotice.objects.bulk_create(
            CertificateNotice(certificate=certificate, days_before=threshold, sent_at=now)
            for certificate, threshold in due
        )
        recipients = Recipients({certificate.request.customer for certificate, _ in due})
        return [sent(certificate, threshold, recipients) for certificate, threshold in due]

    def notify(item: tuple[Certificate, int]) -> str | None:
        pace()
        found = load([item])
        if not found:
            return None
        ((certificate, threshold),) = found
        if not claim_certificate_notice(certificate=certificate, days_before=threshold, now=now):
            return "already sent"
        return sent(certificate, threshold)

    with recorded("send_certificate_expiry_notices", for_date=today, dry_run=dry_run) as run:
        if thresholds:  # listed light: the batches read the rest
            due = _due_certificates(today, thresholds).only("pk", "names", "not_after")
            run.each_batch(
                [(certificate, certificate.threshold) for certificate in due], batch=notify_batch, item=notify
            )
    return run
