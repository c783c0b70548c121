"""Soak customers: each with an owner who signs in, credits, an open ticket, a DNS zone and an M365 pack."""

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
from support.models import InterventionType


@transaction.atomic
def prepare(*, customers: int, password: str = PASSWORD) -> list[dict]:
    """Create ``customers`` soak customers (or find them from an earlier run); returns what the driver needs."""
    now = timezone.now()
    today = timezone.localdate(now)
    staff = User.objects.get(email="staff@portal.example")
    domain_plan = Plan.objects.filter(kind=Kind.DOMAIN).order_by("pk").first()
    m365_plan = Plan.objects.filter(kind=Kind.M365_PACK).order_by("pk").first()
    reason = InterventionType.objects.get(code="hosting-information")
    result = []
    for number in range(1, customers + 1):
        email = f"soak{number:04d}@soak.example"
        customer, new = Customer.objects.get_or_create(name=f"Soak customer {number:04d}", defaults={"country": "BE"})
        if new:
            user = User.objects.create_user(email, password, full_name=f"Soak owner {number}")
            EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
            Membership.objects.create(user=user, customer=customer, role=Role.OWNER)
            ledger.grant(customer, 100, reason="Soak test credits", by=staff)
            tickets.open_ticket(
                customer=customer, opened_by=user, reason=reason, priority="standard",
                subject=f"Soak ticket {number}", description="Opened by the soak test.", now=now,
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
        result.append(
            {
                "customer": customer.pk,
                "email": user.email,
                "ticket": customer.tickets.order_by("pk").first().number,
                "domain": Service.objects.get(customer=customer, plan__kind=Kind.DOMAIN).pk,
                "pack": Service.objects.get(customer=customer, plan__kind=Kind.M365_PACK).pk,
            }
        )
    return result
