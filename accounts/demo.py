"""Demo data for `manage.py load_demo`: created once, left as it is on later runs."""

import datetime
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, Membership, User
from accounts.roles import Role
from services.models import Kind, Plan, Service

DEFAULT_PASSWORD = "portal-demo-2026"

PEOPLE = [
    # email, full name, customer, role, staff
    ("owner@acme.example", "Alice Owner", "Acme SRL", Role.OWNER, False),
    ("tech@acme.example", "Tom Technician", "Acme SRL", Role.TECHNICAL, False),
    ("owner@globex.example", "Gina Globex", "Globex NV", Role.OWNER, False),
    ("staff@portal.example", "Sam Support", None, None, True),
]

CUSTOMERS = {
    "Acme SRL": {
        "country": "BE",
        "vat_number": "BE0403170701",
        "street": "Rue de la Loi 16",
        "postal_code": "1000",
        "city": "Bruxelles",
        "billing_email": "billing@acme.example",
        "preferred_language": "fr",
    },
    "Globex NV": {
        "country": "BE",
        "vat_number": "BE0202239951",
        "street": "Meir 1",
        "postal_code": "2000",
        "city": "Antwerpen",
        "billing_email": "billing@globex.example",
        "preferred_language": "nl",
    },
}

PLANS = [
    (
        Kind.SHARED_HOSTING,
        "Hosting Start",
        Decimal("59.00"),
        12,
        "",
        {"disk_gb": 10, "traffic_gb": 100, "databases": 2},
    ),
    (
        Kind.SHARED_HOSTING,
        "Hosting Pro",
        Decimal("119.00"),
        12,
        "",
        {"disk_gb": 50, "traffic_gb": 500, "databases": 10},
    ),
    (Kind.CMS_HOSTING, "CMS WordPress", Decimal("36.00"), 12, Kind.SHARED_HOSTING, {"cms": "WordPress"}),
    (Kind.MANAGED_CMS, "Managed WordPress", Decimal("96.00"), 12, Kind.SHARED_HOSTING, {"cms": "WordPress"}),
    (Kind.CACHING, "Caching", Decimal("24.00"), 12, Kind.SHARED_HOSTING, {}),
    (Kind.DOMAIN, ".be domain", Decimal("12.00"), 12, "", {}),
    (Kind.DOMAIN, ".com domain", Decimal("18.00"), 12, "", {}),
    (Kind.SSL_CERTIFICATE, "DV certificate", Decimal("49.00"), 12, "", {"validation": "DV"}),
    (Kind.SSL_CERTIFICATE, "OV certificate", Decimal("149.00"), 12, "", {"validation": "OV"}),
    (Kind.M365_PACK, "Microsoft 365 Business Basic", Decimal("5.60"), 0, "", {"max_users": 300}),
    (Kind.M365_PACK, "Microsoft 365 Business Standard", Decimal("11.70"), 0, "", {"max_users": 300}),
]


@transaction.atomic
def load(*, password: str = DEFAULT_PASSWORD, now: datetime.datetime) -> dict[str, int]:
    today = timezone.localdate(now)
    created = {"customers": 0, "users": 0, "plans": 0, "services": 0}
    customers = {}
    for name, fields in CUSTOMERS.items():
        customers[name], new = Customer.objects.get_or_create(name=name, defaults=fields)
        created["customers"] += new
    for email, full_name, customer_name, role, staff in PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, password, full_name=full_name, is_staff=staff, is_superuser=staff)
            created["users"] += 1
        EmailAddress.objects.get_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        if customer_name:
            Membership.objects.get_or_create(user=user, customer=customers[customer_name], defaults={"role": role})
    plans = {}
    for kind, name, price, months, requires, specs in PLANS:
        plans[name], new = Plan.objects.get_or_create(
            kind=kind,
            name=name,
            defaults={"price": price, "period_months": months, "requires_kind": requires, "specifications": specs},
        )
        created["plans"] += new
    acme, globex = customers["Acme SRL"], customers["Globex NV"]
    year_ago = today - datetime.timedelta(days=340)
    end = today + datetime.timedelta(days=25)
    services = [
        (acme, "Hosting Pro", "www.acme.example", year_ago, end, None),
        (acme, "Managed WordPress", "WordPress for www.acme.example", year_ago, end, "www.acme.example"),
        (acme, ".be domain", "acme.be", year_ago, end, None),
        (acme, "Microsoft 365 Business Basic", "Acme mailboxes", year_ago, None, None),
        (
            globex,
            "Hosting Start",
            "www.globex.example",
            today - datetime.timedelta(days=100),
            today + datetime.timedelta(days=265),
            None,
        ),
        (
            globex,
            ".com domain",
            "globex.com",
            today - datetime.timedelta(days=100),
            today + datetime.timedelta(days=265),
            None,
        ),
    ]
    for customer, plan_name, name, start, period_end, parent_name in services:
        parent = Service.objects.get(customer=customer, name=parent_name) if parent_name else None
        _service, new = Service.objects.get_or_create(
            customer=customer,
            name=name,
            defaults={
                "plan": plans[plan_name],
                "status": Service.Status.ACTIVE,
                "started_on": start,
                "current_period_end": period_end,
                "parent": parent,
                "quantity": 12 if plan_name.startswith("Microsoft 365") else 1,
            },
        )
        created["services"] += new
    created["tickets"] = _load_tickets(customers, now=now)
    created["invoices"] = _load_billing(customers, now=now)
    from services import demo as services_demo

    created["service records"] = services_demo.load(customers, now=now)
    return created


PACKS = [("Pack 10", 10, Decimal("100.00")), ("Pack 25", 25, Decimal("230.00")), ("Pack 50", 50, Decimal("440.00"))]
# The communications of the two unpaid demo invoices, as tests/data/camt053-sample.xml pays them:
# Acme's Pack 10 (121.00 EUR) in full, Globex's Pack 25 (278.30 EUR) for 100.00.
SAMPLE_COMMUNICATIONS = {"Acme SRL": "090933755493", "Globex NV": "202600001004"}


def _load_billing(customers, *, now) -> int:
    from billing import invoices, payments
    from billing.models import CreditPack, Invoice
    from support import charges, tickets
    from support.models import InterventionType, Ticket

    packs = {}
    for name, credits, price in PACKS:
        packs[name], _new = CreditPack.objects.get_or_create(name=name, defaults={"credits": credits, "price": price})
    if Invoice.objects.filter(customer__in=customers.values()).exists():
        return 0
    acme, globex = customers["Acme SRL"], customers["Globex NV"]
    staff = User.objects.get(email="staff@portal.example")
    owner = User.objects.get(email="owner@acme.example")
    today = timezone.localdate(now)
    # Acme bought 50 credits three weeks ago and paid them by transfer.
    paid = invoices.buy_credit_pack(
        customer=acme, pack=packs["Pack 50"], by=owner, today=today - datetime.timedelta(days=21)
    )
    payments.record_payment(
        invoice=paid, amount=paid.total, received_on=today - datetime.timedelta(days=18), by=staff, note="Demo"
    )
    # Work charged on Acme's tickets: a migration by the quarter-hour, a DNS update per intervention.
    for subject, minutes, note in [
        ("Move the site to the Pro plan", 45, "Copied the site and the database"),
        ("Add an MX record for mail.acme.be", 10, "Added the MX record"),
    ]:
        charges.log_time(ticket=Ticket.objects.get(customer=acme, subject=subject), staff=staff, minutes=minutes,
                         note=note, now=now)  # fmt: skip
    # Work annex 1 does not price: a quote waiting for Acme's answer.
    shop = tickets.open_ticket(
        customer=acme, opened_by=owner, reason=InterventionType.objects.get(code="hosting-external-migration"),
        priority="standard", subject="Move our old shop from another host",
        description="Our shop runs at another host; please move it here.", now=now - datetime.timedelta(days=2),
    )  # fmt: skip
    charges.propose_quote(ticket=shop, credits=40, description="Copy files and database, switch DNS.", by=staff)
    # Globex has no credits: its coding question waits for them.
    charges.log_time(ticket=Ticket.objects.get(customer=globex, subject="Question about .htaccess rewrites"),
                     staff=staff, minutes=30, note="Analysed the rewrite rules", now=now)  # fmt: skip
    # Two invoices to pay, with the communications the sample bank statement pays.
    for customer, pack in [(acme, packs["Pack 10"]), (globex, packs["Pack 25"])]:
        invoice = invoices.buy_credit_pack(
            customer=customer, pack=pack, by=None, today=today - datetime.timedelta(days=3)
        )
        Invoice.objects.filter(pk=invoice.pk).update(structured_communication=SAMPLE_COMMUNICATIONS[customer.name])
    return 3


# (customer, opener, reason code, priority, subject, days ago, hours of day, staff reply after hours, status)
TICKETS = [
    (
        "Acme SRL",
        "owner@acme.example",
        "hosting-site-down",
        "express",
        "www.acme.example answers 503",
        0,
        9,
        None,
        "new",
    ),
    (
        "Acme SRL",
        "tech@acme.example",
        "hosting-internal-migration",
        "standard",
        "Move the site to the Pro plan",
        3,
        10,
        2,
        "in_progress",
    ),
    (
        "Acme SRL",
        "tech@acme.example",
        "domains-records-update",
        "express",
        "Add an MX record for mail.acme.be",
        6,
        16,
        None,
        "new",
    ),
    (
        "Acme SRL",
        "owner@acme.example",
        "hosting-information",
        "standard",
        "Which PHP versions are offered?",
        12,
        11,
        30,
        "closed",
    ),
    (
        "Acme SRL",
        "owner@acme.example",
        "m365-additional-configuration",
        "standard",
        "Configure Outlook for 3 users",
        9,
        14,
        5,
        "waiting_on_customer",
    ),
    (
        "Acme SRL",
        "owner@acme.example",
        "hosting-restore-backup",
        "express",
        "Restore yesterday's uploads folder",
        2,
        9,
        1,
        "awaiting_credits",
    ),
    (
        "Globex NV",
        "owner@globex.example",
        "ssl-request",
        "standard",
        "Certificate for shop.globex.com",
        5,
        8,
        3,
        "in_progress",
    ),
    (
        "Globex NV",
        "owner@globex.example",
        "m365-service-incident",
        "express",
        "Two users cannot send mail",
        4,
        15,
        None,
        "new",
    ),
    (
        "Globex NV",
        "owner@globex.example",
        "hosting-coding",
        "standard",
        "Question about .htaccess rewrites",
        1,
        10,
        None,
        "new",
    ),
]


def _load_tickets(customers, *, now) -> int:
    from support import tickets
    from support.models import InterventionType, Ticket

    if Ticket.objects.filter(customer__in=customers.values()).exists():
        return 0
    staff = User.objects.get(email="staff@portal.example")
    for customer_name, opener, code, priority, subject, days_ago, hour, reply_after, status in TICKETS:
        customer = customers[customer_name]
        hosting = Service.objects.filter(customer=customer, plan__kind="shared_hosting").first()
        day = timezone.localtime(now - datetime.timedelta(days=days_ago))
        logged_at = day.replace(hour=hour, minute=5, second=0, microsecond=0)
        logged_at = min(logged_at, now - datetime.timedelta(minutes=30))
        ticket = tickets.open_ticket(
            customer=customer, opened_by=User.objects.get(email=opener), reason=InterventionType.objects.get(code=code),
            priority=priority, subject=subject, description=f"{subject}.\n\n(Demo ticket.)", now=logged_at,
            service=hosting if code.startswith("hosting") else None,
        )  # fmt: skip
        if reply_after is not None:
            reply_at = min(logged_at + datetime.timedelta(hours=reply_after), now)
            tickets.add_staff_reply(ticket=ticket, author=staff, body="We are looking into it.", now=reply_at)
        if status not in ("new", "in_progress"):
            tickets.change_status(ticket=ticket, status=status, by=staff, now=now)
    return len(TICKETS)
