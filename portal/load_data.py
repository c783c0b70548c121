"""A provider's worth of rows for benchmarks and query-budget tests (issue 8, item 1).

Rows are written with bulk_create in batches of customers, without audit events, e-mails or
history: this is volume for measuring, not a scenario. Everything but the dates is decided by
the seed; dates are relative to ``today`` so the scheduled jobs find work on that day.
Every credit account's balance equals the sum of its ledger entries.
"""

import datetime
import random
from collections.abc import Callable
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts.models import Customer, Membership, User
from accounts.roles import Role
from billing.models import CreditAccount, LedgerEntry
from services.models import (
    Certificate,
    CertificateRequest,
    DnsRecord,
    DnsZone,
    Kind,
    Plan,
    Service,
)
from support.models import InterventionType, Remark, Ticket, TicketCounter
from support.tickets import format_number

DEFAULT_PASSWORD = "load-data-password-2026"  # noqa: S105 (load data for local benchmarks only)


@dataclass(frozen=True)
class Shape:
    """What one customer has: the issue's provider divided by 5,000 customers."""

    members: int = 2
    hostings: int = 2
    domains: int = 2
    records_per_zone: int = 20
    certificates: int = 20
    tickets: int = 20
    remarks_per_ticket: int = 4
    ledger_entries: int = 40


SMALL = Shape()
# The big customer: 300 services, 100 domains of 500 records, 3,000 tickets.
BIG = Shape(members=5, hostings=200, domains=100, records_per_zone=500, certificates=200, tickets=3000)

RECORD_TYPES = [("A", "192.0.2.{n}"), ("AAAA", "2001:db8::{n:x}"), ("TXT", '"v=load {n}"'), ("CNAME", "www")]


def _pem_pair() -> tuple[str, str]:
    """One real self-signed certificate and CSR, shared by every generated row (pages parse nothing else)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "load.example")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=397))
        .sign(key, hashes.SHA256())
    )
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    encoding = serialization.Encoding.PEM
    return cert.public_bytes(encoding).decode(), csr.public_bytes(encoding).decode()


def _plans() -> dict[str, Plan]:
    specs = {
        Kind.SHARED_HOSTING: ({"disk_gb": 10, "traffic_gb": 100}, "59.00", 12),
        Kind.DOMAIN: ({}, "12.00", 12),
        Kind.SSL_CERTIFICATE: ({"validation": "DV"}, "49.00", 12),
    }
    plans = {}
    for kind, (spec, price, months) in specs.items():
        plans[kind], _ = Plan.objects.get_or_create(
            kind=kind,
            name=f"Load {kind}",
            defaults={"specifications": spec, "price": price, "period_months": months},
        )
    return plans


class _Generator:
    def __init__(self, *, seed: int, today: datetime.date, password_hash: str):
        self.rng = random.Random(seed)  # noqa: S311 (volume data, not security)
        self.seed = seed
        self.today = today
        self.now = timezone.make_aware(datetime.datetime.combine(today, datetime.time(12)))
        self.password_hash = password_hash
        self.plans = _plans()
        self.reasons = list(InterventionType.objects.order_by("pk"))
        self.cert_pem, self.csr_pem = _pem_pair()
        self.staff, _ = User.objects.get_or_create(
            email=f"staff.s{seed}@load.example",
            defaults={"is_staff": True, "is_superuser": True, "password": password_hash, "full_name": "Load staff"},
        )
        EmailAddress.objects.get_or_create(
            user=self.staff, email=self.staff.email, defaults={"verified": True, "primary": True}
        )
        self.ticket_year = today.year - 1
        TicketCounter.objects.get_or_create(year=self.ticket_year)
        self.counts: dict[str, int] = {}

    def _count(self, what: str, n: int) -> None:
        self.counts[what] = self.counts.get(what, 0) + n

    def _bulk(self, model, rows: list, what: str, batch_size: int = 2000) -> list:
        created = model.objects.bulk_create(rows, batch_size=batch_size)
        self._count(what, len(rows))
        return created

    def customers(self, plan: list[tuple[int, Shape]], existing: list[Customer] | None = None) -> list[Customer]:
        """Create the customers of ``plan`` ([(index, shape)]) and everything they have, in one transaction.

        With ``existing``, those customers (one per entry of ``plan``) get the rows instead of new ones.
        """
        rng, today, now = self.rng, self.today, self.now
        with transaction.atomic():
            customers = existing or self._bulk(
                Customer,
                [
                    Customer(
                        name=f"Load {self.seed}-{index:05d} {'SRL' if shape is SMALL else 'Big'}",
                        billing_email=f"billing.c{index}.s{self.seed}@load.example",
                        preferred_language=rng.choice(["fr", "nl", "en"]),
                        created_at=now - datetime.timedelta(days=rng.randrange(30, 2000)),
                    )
                    for index, shape in plan
                ],
                "customers",
            )
            shapes = [shape for _, shape in plan]
            indexes = [index for index, _ in plan]

            users = self._bulk(
                User,
                [
                    User(
                        email=f"m{m}.c{index}.s{self.seed}@load.example",
                        full_name=f"Member {m} of {index}",
                        password=self.password_hash,
                    )
                    for index, shape in plan
                    for m in range(shape.members)
                ],
                "users",
            )
            self._bulk(
                EmailAddress,
                [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
                "e-mail addresses",
            )
            members_of: list[list[User]] = []
            position = 0
            memberships = []
            for customer, shape in zip(customers, shapes, strict=True):
                people = users[position : position + shape.members]
                position += shape.members
                members_of.append(people)
                for m, user in enumerate(people):
                    role = Role.OWNER if m == 0 else rng.choice([Role.TECHNICAL, Role.BILLING])
                    memberships.append(Membership(user=user, customer=customer, role=role))
            self._bulk(Membership, memberships, "memberships")

            services, domains = [], []
            for customer, shape, index in zip(customers, shapes, indexes, strict=True):
                for h in range(shape.hostings):
                    services.append(
                        self._service(customer, Kind.SHARED_HOSTING, f"site{h}.c{index}.s{self.seed}.example")
                    )
                for d in range(shape.domains):
                    service = self._service(customer, Kind.DOMAIN, f"d{d}-c{index}-s{self.seed}.example")
                    services.append(service)
                    domains.append((service, shape))
            self._bulk(Service, services, "services")

            zones = self._bulk(
                DnsZone,
                [DnsZone(service=s, name=s.name, serial=int(f"{today:%Y%m%d}01")) for s, _ in domains],
                "DNS zones",
            )
            records = []
            for zone, (_, shape) in zip(zones, domains, strict=True):
                for n in range(shape.records_per_zone):
                    rtype, value = RECORD_TYPES[n % len(RECORD_TYPES)]
                    records.append(
                        DnsRecord(zone=zone, name=f"h{n}", type=rtype, ttl=3600, value=value.format(n=n % 250 + 1))
                    )
            self._bulk(DnsRecord, records, "DNS records", batch_size=5000)

            requests = []
            for customer, shape, index, people in zip(customers, shapes, indexes, members_of, strict=True):
                for c in range(shape.certificates):
                    requests.append(
                        CertificateRequest(
                            customer=customer, plan=self.plans[Kind.SSL_CERTIFICATE],
                            names=[f"c{c}.c{index}.s{self.seed}.example"], status=CertificateRequest.Status.ISSUED,
                            key_source=CertificateRequest.KeySource.CUSTOMER_CSR, csr_pem=self.csr_pem,
                            requested_by=people[0], created_at=now - datetime.timedelta(days=rng.randrange(1, 360)),
                        )
                    )  # fmt: skip
            requests = self._bulk(CertificateRequest, requests, "certificate requests")
            certificates = []
            for request in requests:
                not_after = now + datetime.timedelta(days=rng.randrange(-30, 400))
                certificates.append(
                    Certificate(
                        request=request, pem=self.cert_pem, subject=f"CN={request.names[0]}", issuer="CN=Load CA",
                        serial_number=f"{request.pk:x}", names=request.names,
                        not_before=not_after - datetime.timedelta(days=397),
                        not_after=not_after, key_type="ec", key_size=256, uploaded_by=request.requested_by,
                    )
                )  # fmt: skip
            self._bulk(Certificate, certificates, "certificates")

            tickets = []
            for customer, shape, people in zip(customers, shapes, members_of, strict=True):
                for _ in range(shape.tickets):
                    reason = rng.choice(self.reasons)
                    logged = now - datetime.timedelta(minutes=rng.randrange(60, 60 * 24 * 365))
                    status = rng.choice(["new", "in_progress", "waiting_on_customer", "closed", "closed", "closed"])
                    tickets.append(
                        Ticket(
                            number="", customer=customer, reason=reason, kind=reason.kind,
                            priority=rng.choice(["standard", "standard", "express"]), status=status,
                            subject=f"Load ticket {rng.randrange(10**6)}", description="Generated for load tests.",
                            opened_by=rng.choice(people), logged_at=logged,
                            closed_at=logged + datetime.timedelta(days=2) if status == "closed" else None,
                        )
                    )  # fmt: skip
            counter = TicketCounter.objects.select_for_update().get(year=self.ticket_year)
            for n, ticket in enumerate(tickets, start=counter.last + 1):
                ticket.number = format_number(self.ticket_year, n)
            TicketCounter.objects.filter(year=self.ticket_year).update(last=counter.last + len(tickets))
            tickets = self._bulk(Ticket, tickets, "tickets")
            remarks = []
            for ticket, shape in zip(tickets, (s for s in shapes for _ in range(s.tickets)), strict=True):
                for r in range(shape.remarks_per_ticket):
                    by_staff = r % 2 == 1
                    remarks.append(
                        Remark(
                            ticket=ticket, author=self.staff if by_staff else ticket.opened_by,
                            body=f"Remark {r} on {ticket.number}.", by_staff=by_staff,
                            created_at=ticket.logged_at + datetime.timedelta(hours=r + 1),
                        )
                    )  # fmt: skip
            self._bulk(Remark, remarks, "remarks", batch_size=5000)

            if existing:
                accounts = [CreditAccount.objects.get_or_create(customer=c)[0] for c in customers]
            else:
                accounts = self._bulk(CreditAccount, [CreditAccount(customer=c) for c in customers], "credit accounts")
            entries = []
            for account, shape, people in zip(accounts, shapes, members_of, strict=True):
                balance = account.balance
                for e in range(shape.ledger_entries):
                    if balance < 5 or e % 3 == 0:
                        credits, kind = rng.choice([10, 20, 50]), LedgerEntry.Kind.GRANT
                    else:
                        credits, kind = -rng.randrange(1, min(balance, 8) + 1), LedgerEntry.Kind.SPEND
                    balance += credits
                    entries.append(
                        LedgerEntry(
                            account=account, kind=kind, credits=credits, balance_after=balance,
                            reason="Load data", actor=people[0],
                            created_at=now - datetime.timedelta(days=shape.ledger_entries - e),
                        )
                    )  # fmt: skip
                account.balance = balance
            self._bulk(LedgerEntry, entries, "ledger entries", batch_size=5000)
            CreditAccount.objects.bulk_update(accounts, ["balance"], batch_size=2000)
        return customers

    def _service(self, customer: Customer, kind: str, name: str) -> Service:
        started = self.today - datetime.timedelta(days=self.rng.randrange(1, 700))
        return Service(
            customer=customer, plan=self.plans[kind], name=name, status=Service.Status.ACTIVE, started_on=started,
            current_period_end=self.today + datetime.timedelta(days=self.rng.randrange(-5, 366)),
        )  # fmt: skip


def generate(
    *,
    customers: int,
    big_customer: bool = False,
    big_shape: Shape = BIG,
    seed: int = 1,
    today: datetime.date | None = None,
    password: str = DEFAULT_PASSWORD,
    chunk: int = 100,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Create ``customers`` ordinary customers (and the big one) with their rows; return counts by kind."""
    if Customer.objects.filter(name__startswith=f"Load {seed}-").exists():
        raise ValueError(f"Load data of seed {seed} already exists: use another --seed or a fresh database.")
    generator = _Generator(seed=seed, today=today or timezone.localdate(), password_hash=make_password(password))
    plan = [(i, SMALL) for i in range(1, customers + 1)]
    if big_customer:
        generator.customers([(0, big_shape)])
        if progress:
            progress("big customer done")
    for start in range(0, len(plan), chunk):
        generator.customers(plan[start : start + chunk])
        if progress:
            progress(f"{min(start + chunk, len(plan))}/{len(plan)} customers")
    return generator.counts


def fill_customer(customer: Customer, *, shape: Shape, seed: int = 1, today: datetime.date | None = None) -> dict:
    """Give an existing customer the rows of ``shape`` (query-budget tests: a big customer at small scale)."""
    generator = _Generator(seed=seed, today=today or timezone.localdate(), password_hash=make_password(None))
    generator.customers([(customer.pk, shape)], existing=[customer])
    return generator.counts
