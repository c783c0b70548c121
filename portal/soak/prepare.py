"""Soak customers: each with an owner who signs in, credits, an open ticket, a DNS zone, an M365 pack and a
ticket with quotes to accept (the spending the driver races)."""

import datetime

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, Membership, User
from accounts.roles import Role
from billing import ledger
from portal.soak.driver import PASSWORD
from services import dns, m365
from services.models import Kind, Plan, Service
from support import tickets
from support.models import InterventionType, Quote

GRANTED = 100
# The credits of the quotes a customer accepts, three at a time, in this order: the first three cost 120
# of the 100 granted, so however their accepts interleave exactly one must be refused; the smaller ones
# after it race for the 15 to 25 credits left.
QUOTE_CREDITS = [45, 40, 35, 10, 8, 6, 5, 4, 3, 3, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]


@transaction.atomic
def prepare(*, customers: int, password: str = PASSWORD) -> list[dict]:
    """Create ``customers`` soak customers (or find them from an earlier run); returns what the driver needs."""
    now = timezone.now()
    today = timezone.localdate(now)
    staff = User.objects.get(email="staff@portal.example")
    domain_plan = Plan.objects.filter(kind=Kind.DOMAIN).order_by("pk").first()
    m365_plan = Plan.objects.filter(kind=Kind.M365_PACK).order_by("pk").first()
    reason = InterventionType.objects.get(code="hosting-information")
    on_quote = InterventionType.objects.get(code="hosting-external-migration")
    result = []
    for number in range(1, customers + 1):
        email = f"soak{number:04d}@soak.example"
        customer, new = Customer.objects.get_or_create(name=f"Soak customer {number:04d}", defaults={"country": "BE"})
        if new:
            user = User.objects.create_user(email, password, full_name=f"Soak owner {number}")
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            Membership.objects.create(user=user, customer=customer, role=Role.OWNER)
            ledger.grant(customer, GRANTED, reason="Soak test credits", by=staff)
            tickets.open_ticket(
                customer=customer, opened_by=user, reason=reason, priority="standard",
                subject=f"Soak ticket {number}", description="Opened by the soak test.", now=now,
            )  # fmt: skip
            quoted = tickets.open_ticket(
                customer=customer, opened_by=user, reason=on_quote, priority="standard",
                subject=f"Soak quotes {number}", description="Work the soak test accepts quotes for.", now=now,
            )  # fmt: skip
            # Created in bulk rather than with charges.propose_quote: one e-mail per quote would only be noise.
            Quote.objects.bulk_create(
                Quote(ticket=quoted, credits=credits, description=f"Soak work {position}", proposed_by=staff,
                      proposed_at=now)
                for position, credits in enumerate(QUOTE_CREDITS, start=1)
            )  # fmt: skip
            domain = Service.objects.create(
                customer=customer, plan=domain_plan, name=f"soak{number:04d}.be", status=Service.Status.ACTIVE,
                started_on=today - datetime.timedelta(days=30), current_period_end=today + datetime.timedelta(days=335),
            )  # fmt: skip
            dns.create_zone(service=domain, name=domain.name, by=staff, today=today)
            pack = Service.objects.create(
                customer=customer, plan=m365_plan, name=f"Soak mailboxes {number}", status=Service.Status.ACTIVE,
                started_on=today - datetime.timedelta(days=30), quantity=5,
            )  # fmt: skip
            m365.mark_done(change=m365.start_licences(service=pack, by=staff, now=now), by=staff)
        user = Membership.objects.get(customer=customer, role=Role.OWNER).user
        quoted = customer.tickets.get(subject=f"Soak quotes {number}")
        result.append(
            {
                "customer": customer.pk,
                "email": user.email,
                "ticket": customer.tickets.order_by("pk").first().number,
                "domain": Service.objects.get(customer=customer, plan__kind=Kind.DOMAIN).pk,
                "pack": Service.objects.get(customer=customer, plan__kind=Kind.M365_PACK).pk,
                "quote_ticket": quoted.number,
                "quotes": [[quote.pk, quote.credits] for quote in quoted.quotes.order_by("pk")],
            }
        )
    return result
