import datetime
from decimal import Decimal

import factory
from allauth.account.models import EmailAddress

from accounts.models import Customer, Membership, User
from accounts.roles import Role
from services.models import Kind, Plan, Service

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"Customer {n} SRL")
    country = "BE"
    preferred_language = "en"  # tests read English e-mails unless they set another language
    billing_email = factory.LazyAttribute(lambda c: f"billing@{c.name.split()[1]}.example")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    customer = factory.SubFactory(CustomerFactory)
    role = Role.OWNER


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    kind = Kind.SHARED_HOSTING
    name = factory.Sequence(lambda n: f"Plan {n}")
    price = Decimal("59.00")
    period_months = 12
    specifications = factory.LazyFunction(lambda: {"disk_gb": 10, "traffic_gb": 100})


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    customer = factory.SubFactory(CustomerFactory)
    plan = factory.SubFactory(PlanFactory)
    name = factory.Sequence(lambda n: f"site{n}.example")
    status = Service.Status.ACTIVE
    started_on = datetime.date(2026, 1, 1)
    current_period_end = datetime.date(2027, 1, 1)


def make_tickets(*, customer, reason, opened_by, count: int, **fields):
    """Many tickets at once for query-count tests (numbers outside the counter's range)."""
    from django.utils import timezone

    from support.models import Ticket

    start = Ticket.objects.count()
    Ticket.objects.bulk_create(
        Ticket(
            number=f"T-1999-{start + i:06d}", customer=customer, reason=reason, kind=reason.kind,
            subject=f"Bulk {start + i}", description="bulk", opened_by=opened_by, logged_at=timezone.now(),
            **fields,
        )
        for i in range(count)
    )  # fmt: skip


class CreditPackFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "billing.CreditPack"

    name = factory.Sequence(lambda n: f"Pack {n}")
    credits = 10
    price = Decimal("100.00")


def issue_invoice(customer, *, pack=None, today=None, by=None, communication: str | None = None):
    """An invoice for a credit pack, optionally with a fixed structured communication (12 digits)."""
    from billing import invoices
    from billing.models import Invoice

    invoice = invoices.buy_credit_pack(customer=customer, pack=pack or CreditPackFactory(), by=by, today=today)
    if communication is not None:
        Invoice.objects.filter(pk=invoice.pk).update(structured_communication=communication)
        invoice.refresh_from_db()
    return invoice
