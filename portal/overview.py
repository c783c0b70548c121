"""A customer at a glance, for staff: the admin's customer overview (issue 9, item 6).

Every list is bounded (``LIMIT`` rows) and read in one query, and the counts and sums come together
with the customer in one more, so the page costs the same for a customer with five rows as for one
with fifty thousand. Reads only; every row links into the admin, where the changes are made.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    F,
    IntegerField,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404

from accounts.models import AuditEvent, Customer, Membership
from billing.models import CreditAccount, Invoice, LedgerEntry, Payment
from portal import audit
from services import certificates, domains
from services.models import CertificateRequest, DomainRequest, Kind, Service
from support import deadlines
from support.models import Ticket

LIMIT = 10
ZERO = Decimal("0.00")


@dataclass
class ServiceGroup:
    """The customer's services of one kind in one status."""

    kind: str
    kind_label: str
    status: str
    status_label: str
    count: int
    next_period_end: datetime.date | None


@dataclass
class Overview:
    customer: Customer
    members: list[Membership]
    member_count: int
    service_groups: list[ServiceGroup]
    services_ending: list[Service]  # active, with a period end, the soonest first
    open_tickets: list[Ticket]  # each with ``sla_state`` ("breached", "at_risk" or "")
    open_ticket_count: int
    unpaid_invoices: list[Invoice]
    unpaid_invoice_count: int
    total_due: Decimal  # incl. VAT, what the unpaid invoices still lack after partial payments
    credits: int
    ledger: list[LedgerEntry]
    domain_requests: list[DomainRequest]  # open: submitted, at the registry, or waiting for the customer
    domain_request_count: int
    certificate_requests: list[CertificateRequest]  # open
    certificate_request_count: int
    audit_events: list[AuditEvent]


def _count(queryset: QuerySet) -> Coalesce:
    """The number of rows of ``queryset`` (filtered on ``customer=OuterRef("pk")``), as a subquery."""
    counted = queryset.order_by().values("customer").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _sum(queryset: QuerySet, field: str, group_by: str) -> Coalesce:
    summed = queryset.order_by().values(group_by).annotate(total=Sum(field)).values("total")[:1]
    money = DecimalField(max_digits=14, decimal_places=2)
    return Coalesce(Subquery(summed, output_field=money), Value(ZERO), output_field=money)


def _customer(customer_id: int) -> Customer:
    """The customer with its counts, its credit balance and what its unpaid invoices add up to."""
    unpaid = Invoice.objects.filter(customer=OuterRef("pk"), status=Invoice.Status.ISSUED)
    paid_on_unpaid = Payment.objects.filter(
        invoice__customer=OuterRef("pk"), invoice__status=Invoice.Status.ISSUED
    ).annotate(customer=F("invoice__customer"))
    customer = (
        Customer.objects.filter(pk=customer_id)
        .annotate(
            member_count=_count(Membership.objects.filter(customer=OuterRef("pk"))),
            open_ticket_count=_count(Ticket.objects.open().filter(customer=OuterRef("pk"))),
            unpaid_invoice_count=_count(unpaid),
            invoiced_unpaid=_sum(unpaid, "total", "customer"),
            paid_on_unpaid=_sum(paid_on_unpaid, "amount", "customer"),
            domain_request_count=_count(
                DomainRequest.objects.filter(customer=OuterRef("pk"), status__in=domains.OPEN_STATUSES)
            ),
            certificate_request_count=_count(
                CertificateRequest.objects.filter(customer=OuterRef("pk"), status__in=certificates.OPEN_STATUSES)
            ),
            credits=Coalesce(
                Subquery(CreditAccount.objects.filter(customer=OuterRef("pk")).values("balance")[:1]), Value(0)
            ),
        )
        .first()
    )
    if customer is None:
        raise Http404
    return customer


def _service_groups(customer: Customer) -> list[ServiceGroup]:
    rows = (
        Service.objects.filter(customer=customer)
        .order_by()
        .values("plan__kind", "status")
        .annotate(count=Count("pk"), next_period_end=Min("current_period_end"))
    )
    kinds = {kind.value: (position, kind.label) for position, kind in enumerate(Kind)}
    statuses = {status.value: (position, status.label) for position, status in enumerate(Service.Status)}
    groups = [
        ServiceGroup(
            kind=row["plan__kind"], kind_label=str(kinds.get(row["plan__kind"], (0, row["plan__kind"]))[1]),
            status=row["status"], status_label=str(statuses.get(row["status"], (0, row["status"]))[1]),
            count=row["count"], next_period_end=row["next_period_end"],
        )
        for row in rows
    ]  # fmt: skip
    return sorted(groups, key=lambda g: (kinds.get(g.kind, (99,))[0], statuses.get(g.status, (99,))[0]))


def _money(value) -> Decimal:
    # SQLite's SUM drops the scale: quantize so the page reads the same on every database.
    return Decimal(value or 0).quantize(Decimal("0.01"))


def for_customer(*, customer_id: int, now: datetime.datetime) -> Overview:
    """The overview of one customer (``Http404`` if there is none)."""
    customer = _customer(customer_id)
    open_tickets = (
        Ticket.objects.open()
        .filter(customer=customer)
        .annotate(sla_state=deadlines.sla_state(now))
        .select_related("reason", "assignee", "service__plan")
        .order_by(F("response_deadline").asc(nulls_last=True), "-logged_at", "-pk")
    )
    return Overview(
        customer=customer,
        members=list(customer.memberships.select_related("user").order_by("user__email")[:LIMIT]),
        member_count=customer.member_count,
        service_groups=_service_groups(customer),
        services_ending=list(
            Service.objects.active()
            .filter(customer=customer, current_period_end__isnull=False)
            .select_related("plan")
            .order_by("current_period_end", "pk")[:LIMIT]
        ),
        open_tickets=list(open_tickets[:LIMIT]),
        open_ticket_count=customer.open_ticket_count,
        unpaid_invoices=list(
            Invoice.objects.filter(customer=customer, status=Invoice.Status.ISSUED).order_by("due_on", "pk")[:LIMIT]
        ),
        unpaid_invoice_count=customer.unpaid_invoice_count,
        total_due=max(_money(customer.invoiced_unpaid) - _money(customer.paid_on_unpaid), ZERO),
        credits=customer.credits,
        ledger=list(
            LedgerEntry.objects.filter(account__customer=customer)
            .select_related("ticket", "invoice", "actor")
            .order_by("-created_at", "-pk")[:LIMIT]
        ),
        domain_requests=list(
            DomainRequest.objects.filter(customer=customer, status__in=domains.OPEN_STATUSES)
            .defer("auth_code_encrypted", "new_owner")
            .order_by("created_at", "pk")[:LIMIT]
        ),
        domain_request_count=customer.domain_request_count,
        certificate_requests=list(
            CertificateRequest.objects.filter(customer=customer, status__in=certificates.OPEN_STATUSES)
            .defer("private_key_encrypted", "csr_pem")
            .order_by("created_at", "pk")[:LIMIT]
        ),
        certificate_request_count=customer.certificate_request_count,
        audit_events=_labelled(customer.audit_events.order_by("-created_at", "-pk")[:LIMIT]),
    )


def _labelled(events: QuerySet) -> list[AuditEvent]:
    """The events, each with ``label``: what its action reads as in the activity pages."""
    events = list(events)
    for event in events:
        event.label = audit.describe(event.action)
    return events
