"""What needs a customer's attention, for the dashboard (issue 9, item 4).

Each list is short (``LIMIT`` rows) and read in one query, whatever the customer's size; the
counts come together in one more. ``scope`` is the customer scoping helper bound to the request
(``lambda model: scoped(request, model)``), so nothing here can read another customer's rows.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from accounts.models import Customer, Membership
from billing.models import CreditAccount, Invoice
from services.domains import display_domain
from services.models import CertificateRequest, CmsUpdate, DomainRequest
from support.models import Status, Ticket

LIMIT = 5
CERTIFICATE_WARNING_DAYS = 30  # the first expiry notice goes out 30 days before (art. 5.2.2)

Scope = Callable[[type], QuerySet]


@dataclass
class Attention:
    tickets_waiting: list = field(default_factory=list)  # waiting for the customer's reply
    invoices_due: list = field(default_factory=list)  # to be paid, the oldest due first
    certificates_ending: list = field(default_factory=list)  # issued, not renewed, ending within 30 days
    requests_asking: list = field(default_factory=list)  # the registry or the CA needs information
    cms_updates_to_check: list = field(default_factory=list)  # art. 3.2.2: check the site after an update
    open_tickets: int = 0
    members: int = 0
    credits: int = 0

    @property
    def anything(self) -> bool:
        return any(
            [self.tickets_waiting, self.invoices_due, self.certificates_ending, self.requests_asking,
             self.cms_updates_to_check]
        )  # fmt: skip


def _count(queryset: QuerySet) -> Coalesce:
    """The number of rows of ``queryset`` (filtered on ``customer=OuterRef("pk")``) as a subquery."""
    counted = queryset.order_by().values("customer").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _counts(scope: Scope) -> dict:
    """Open tickets, team members and the credit balance of the customer, in one query."""
    row = (
        Customer.objects.filter(pk__in=scope(Membership).values("customer"))  # the current customer, scoped
        .annotate(
            open_tickets=_count(Ticket.objects.open().filter(customer=OuterRef("pk"))),
            members=_count(Membership.objects.filter(customer=OuterRef("pk"))),
            credits=Coalesce(
                Subquery(CreditAccount.objects.filter(customer=OuterRef("pk")).values("balance")[:1]), Value(0)
            ),
        )
        .values("open_tickets", "members", "credits")
        .first()
    )
    return row or {}


def _certificates_ending(scope: Scope, now: datetime.datetime) -> list[CertificateRequest]:
    from services.models import Certificate

    latest = Certificate.objects.filter(request=OuterRef("pk"), revoked_at=None).order_by("-uploaded_at", "-pk")
    renewing = CertificateRequest.objects.filter(replaces=OuterRef("pk")).exclude(
        status=CertificateRequest.Status.REJECTED
    )
    return list(
        scope(CertificateRequest)
        .filter(status=CertificateRequest.Status.ISSUED)
        .annotate(not_after=Subquery(latest.values("not_after")[:1]))
        .filter(not_after__gte=now, not_after__lte=now + datetime.timedelta(days=CERTIFICATE_WARNING_DAYS))
        .exclude(pk__in=renewing.values("replaces"))
        .defer("private_key_encrypted", "csr_pem")
        .order_by("not_after")[:LIMIT]
    )


def _requests_asking(scope: Scope) -> list:
    """Domain and certificate requests where the registry or the CA asked the customer something."""
    domains = scope(DomainRequest).filter(status=DomainRequest.Status.INFORMATION_REQUESTED)
    certificates = scope(CertificateRequest).filter(status=CertificateRequest.Status.INFORMATION_REQUESTED)
    asked = list(domains.order_by("-pk")[:LIMIT])
    for row in asked:
        row.display_domain = display_domain(row.domain)  # stored in ASCII (punycode), shown in Unicode
    rows = asked + list(certificates.defer("private_key_encrypted", "csr_pem").order_by("-pk")[:LIMIT])
    return rows[:LIMIT]


def for_customer(scope: Scope, *, now: datetime.datetime) -> Attention:
    counts = _counts(scope)
    return Attention(
        tickets_waiting=list(scope(Ticket).filter(status=Status.WAITING_ON_CUSTOMER).order_by("-logged_at")[:LIMIT]),
        invoices_due=list(scope(Invoice).filter(status=Invoice.Status.ISSUED).order_by("due_on", "pk")[:LIMIT]),
        certificates_ending=_certificates_ending(scope, now),
        requests_asking=_requests_asking(scope),
        cms_updates_to_check=list(
            scope(CmsUpdate)
            .filter(status=CmsUpdate.Status.AWAITING_CHECK)
            .select_related("service")
            .order_by("applied_at")[:LIMIT]
        ),
        open_tickets=counts.get("open_tickets", 0),
        members=counts.get("members", 0),
        credits=counts.get("credits", 0),
    )
