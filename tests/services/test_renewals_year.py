"""A whole year of a demo customer, every job run every night in beat's order with frozen time (issue 7).

Acme has a hosting with an add-on paid on time, a domain paid on time, a domain paid after it expired
(staff reactivate it), a second hosting never paid, certificates (one replaced by its renewal) and a
Microsoft 365 pack whose licences and price change during the year.
"""

import datetime
from collections import Counter
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from billing import payments
from billing.models import Invoice, InvoiceLine
from services import m365, notices, renewals
from services.models import (
    Certificate,
    CertificateNotice,
    CertificateRequest,
    JobRun,
    Kind,
    PriceChange,
    Service,
    ServiceEvent,
    ServiceNotice,
)
from tests.factories import PlanFactory, ServiceFactory

BRUSSELS = ZoneInfo("Europe/Brussels")
YEAR = 2026
D = datetime.date


def night(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(2, 0), tzinfo=BRUSSELS)


def noon(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(12, 0), tzinfo=BRUSSELS)


def certificate_for(customer, name: str, expires: datetime.date, **request) -> Certificate:
    request = CertificateRequest.objects.create(
        customer=customer, names=[name], status=CertificateRequest.Status.ISSUED,
        key_source=CertificateRequest.KeySource.GENERATED, csr_pem="-----BEGIN CERTIFICATE REQUEST-----", **request,
    )  # fmt: skip
    not_after = datetime.datetime.combine(expires, datetime.time(12, 0), tzinfo=BRUSSELS)
    return Certificate.objects.create(
        request=request, pem="-----BEGIN CERTIFICATE-----", subject=f"CN={name}", issuer="CN=Demo CA",
        serial_number=name, names=[name], not_before=not_after - datetime.timedelta(days=365), not_after=not_after,
        key_type="EC", key_size=256,
    )  # fmt: skip


@pytest.fixture
def acme(customer, owner, technical_member, billing_member, staff_user):
    hosting_plan = PlanFactory(kind=Kind.SHARED_HOSTING, name="Hosting", price=Decimal("120.00"))
    cache_plan = PlanFactory(kind=Kind.CACHING, name="Cache", price=Decimal("24.00"), requires_kind="shared_hosting")
    cms_plan = PlanFactory(kind=Kind.MANAGED_CMS, name="CMS", price=Decimal("60.00"), requires_kind="shared_hosting")
    domain_plan = PlanFactory(kind=Kind.DOMAIN, name=".be", price=Decimal("12.00"), specifications={})
    ssl_plan = PlanFactory(kind=Kind.SSL_CERTIFICATE, name="DV", price=Decimal("40.00"), specifications={})
    m365_plan = PlanFactory(kind=Kind.M365_PACK, name="Business", price=Decimal("12.50"), period_months=0)

    def service(plan, name, end, **fields):
        fields.setdefault("started_on", D(YEAR - 1, 6, 1))
        return ServiceFactory(customer=customer, plan=plan, name=name, current_period_end=end, **fields)

    site = service(hosting_plan, "www.acme.example", D(YEAR, 3, 15))
    shop = service(hosting_plan, "shop.acme.example", D(YEAR, 10, 1))
    objects = {
        "site": site,
        "cache": service(cache_plan, "cache", D(YEAR, 3, 15), parent=site),
        "domain_on_time": service(domain_plan, "acme.be", D(YEAR, 6, 10)),
        "domain_late": service(domain_plan, "acme.eu", D(YEAR, 8, 1)),
        "shop": shop,
        "shop_cms": service(cms_plan, "shop-cms", D(YEAR, 10, 1), parent=shop),
        "pack": service(m365_plan, "Acme Office", None, quantity=5, started_on=D(YEAR - 1, 12, 10)),
        "ssl_contract": service(ssl_plan, "www.acme.example certificate", D(YEAR, 5, 20), auto_renew=False),
    }
    objects["cert"] = certificate_for(customer, "www.acme.example", D(YEAR, 5, 20), service=objects["ssl_contract"])
    objects["cert_replaced"] = certificate_for(customer, "shop.acme.example", D(YEAR, 9, 15))
    PriceChange.objects.create(plan=m365_plan, price=Decimal("14.00"), effective_on=D(YEAR, 7, 1))
    return objects


def renewal_invoice_of(service: Service) -> Invoice:
    return InvoiceLine.objects.get(service=service, period_start=service.current_period_end).invoice


def pay(service: Service, on: datetime.date) -> None:
    service.refresh_from_db()
    invoice = renewal_invoice_of(service)
    for _twice in range(2):  # the bank statement is imported twice
        payments.record_payment(
            invoice=invoice, amount=invoice.total, received_on=on, source="bank", bank_reference=f"BANK-{invoice.pk}"
        )


def replace_certificate(old: Certificate) -> None:
    """The customer's renewal request is issued and installed: the old request is replaced."""
    certificate_for(old.request.customer, old.names[0], D(YEAR + 1, 9, 10), replaces=old.request)
    CertificateRequest.objects.filter(pk=old.request_id).update(status=CertificateRequest.Status.REPLACED)


def run_the_year(acme, staff_user, django_capture_on_commit_callbacks) -> None:
    daytime = {
        D(YEAR, 2, 20): [lambda: pay(acme["site"], D(YEAR, 2, 20))],  # hosting and add-on, one invoice
        D(YEAR, 4, 15): [
            lambda: m365.change_licences(service=acme["pack"], delta=2, by=None, now=noon(D(YEAR, 4, 15)))
        ],
        D(YEAR, 5, 20): [lambda: pay(acme["domain_on_time"], D(YEAR, 5, 20))],
        D(YEAR, 8, 5): [lambda: pay(acme["domain_late"], D(YEAR, 8, 5))],  # it expired on Aug 2
        D(YEAR, 8, 6): [lambda: renewals.reactivate_after_late_payment(service=acme["domain_late"], by=staff_user)],
        D(YEAR, 8, 25): [lambda: replace_certificate(acme["cert_replaced"])],
    }
    day = D(YEAR, 1, 1)
    while day.year == YEAR:
        with django_capture_on_commit_callbacks(execute=True):
            with time_machine.travel(night(day), tick=False):
                for _name, job in renewals.jobs_for(today=day, now=night(day)):
                    job(False)
            with time_machine.travel(noon(day), tick=False):
                for action in daytime.get(day, []):
                    action()
        day += datetime.timedelta(days=1)


@pytest.mark.django_db
def test_a_year_of_renewals_notices_and_monthly_billing(acme, staff_user, django_capture_on_commit_callbacks):
    run_the_year(acme, staff_user, django_capture_on_commit_callbacks)
    refreshed = {key: Service.objects.get(pk=value.pk) for key, value in acme.items() if isinstance(value, Service)}

    # No job failed on any night.
    assert JobRun.objects.count() == 365 * 5
    assert not [run.errors for run in JobRun.objects.exclude(errors=[])]

    # Every renewal invoiced once, 30 days before its period ends, for exactly the next period.
    renewal_lines = InvoiceLine.objects.filter(service__plan__period_months__gt=0).select_related("invoice", "service")
    invoiced = sorted((li.service.name, li.period_start, li.period_end, li.invoice.issued_on) for li in renewal_lines)
    assert invoiced == [
        ("acme.be", D(YEAR, 6, 10), D(YEAR + 1, 6, 10), D(YEAR, 5, 11)),
        ("acme.eu", D(YEAR, 8, 1), D(YEAR + 1, 8, 1), D(YEAR, 7, 2)),
        ("cache", D(YEAR, 3, 15), D(YEAR + 1, 3, 15), D(YEAR, 2, 13)),
        ("shop-cms", D(YEAR, 10, 1), D(YEAR + 1, 10, 1), D(YEAR, 9, 1)),
        ("shop.acme.example", D(YEAR, 10, 1), D(YEAR + 1, 10, 1), D(YEAR, 9, 1)),
        ("www.acme.example", D(YEAR, 3, 15), D(YEAR + 1, 3, 15), D(YEAR, 2, 13)),
    ]  # fmt: skip
    assert renewal_invoice_of_line("cache") == renewal_invoice_of_line("www.acme.example")  # one invoice

    # Every paid period extended once, from the old end; the late one by staff, from the old end too.
    paid = {
        "site": D(YEAR + 1, 3, 15), "cache": D(YEAR + 1, 3, 15), "domain_on_time": D(YEAR + 1, 6, 10),
        "domain_late": D(YEAR + 1, 8, 1),
    }  # fmt: skip
    for key, end in paid.items():
        service = refreshed[key]
        assert (service.status, service.current_period_end) == (Service.Status.ACTIVE, end), key
        periods = service.events.filter(field=ServiceEvent.Field.PERIOD).values_list("new_value", flat=True)
        assert list(periods) == [f"{service.current_period_end.replace(year=YEAR)} → {end}"], key

    # Every unpaid one expired on its day (the day after its period ended), its add-on with it.
    assert status_changes(refreshed["domain_late"]) == [
        ("Active", "Expired", D(YEAR, 8, 2)),
        ("Expired", "Active", D(YEAR, 8, 6)),
    ]
    assert status_changes(refreshed["shop"]) == [("Active", "Suspended", D(YEAR, 10, 2))]
    assert status_changes(refreshed["shop_cms"]) == [("Active", "Ended", D(YEAR, 10, 2))]
    assert status_changes(refreshed["ssl_contract"]) == [("Active", "Expired", D(YEAR, 5, 21))]

    # Reminders only for what stayed unpaid, once per threshold; one e-mail after expiry.
    sent = Counter(ServiceNotice.objects.values_list("service__name", "kind"))
    assert {kind for (name, kind) in sent if name == "shop.acme.example"} == {
        "reminder_14", "reminder_7", "reminder_1", notices.EXPIRED,
    }  # fmt: skip
    assert {kind for (name, kind) in sent if name == "acme.eu"} == {
        "reminder_14", "reminder_7", "reminder_1", notices.EXPIRED, notices.PAID_AFTER_EXPIRY,
        notices.LATE_PAYMENT_REACTIVATED, notices.REGISTRY_RENEWAL,
    }  # fmt: skip
    assert not {kind for (name, kind) in sent if name in ("www.acme.example", "cache")}
    assert set(sent.values()) == {1}

    # Every certificate notice once per threshold, on its day; none after the replacement.
    notices_sent = {
        (n.certificate.names[0], n.days_before): timezone.localdate(n.sent_at)
        for n in CertificateNotice.objects.select_related("certificate")
    }
    assert notices_sent == {
        ("www.acme.example", 30): D(YEAR, 4, 20),
        ("www.acme.example", 14): D(YEAR, 5, 6),
        ("www.acme.example", 7): D(YEAR, 5, 13),
        ("www.acme.example", 1): D(YEAR, 5, 19),
        ("shop.acme.example", 30): D(YEAR, 8, 16),
    }

    # Microsoft 365 billed monthly: licences of each first day, the new price from July.
    billed = InvoiceLine.objects.filter(service=acme["pack"]).order_by("period_start")
    assert [(line.period_start, line.quantity, line.unit_price) for line in billed] == [
        (D(YEAR, month, 1), 5 if month <= 4 else 7, Decimal("12.50") if month < 7 else Decimal("14.00"))
        for month in range(1, 13)
    ]

    # And the customer heard about each of it once.
    subjects = Counter(message.subject for message in mail.outbox)
    renewal_invoices = [s for s in subjects if s.endswith("the renewal of your services")]
    monthly_invoices = [s for s in subjects if s.endswith("your Microsoft 365 licences this month")]
    assert (len(renewal_invoices), len(monthly_invoices)) == (4, 12)  # one e-mail per invoice, each once
    assert set(subjects[s] for s in renewal_invoices + monthly_invoices) == {1}
    assert subjects["shop.acme.example is suspended"] == 1
    assert subjects["acme.eu has expired"] == 1 and subjects["acme.eu is active again"] == 1
    assert sum(n for subject, n in subjects.items() if subject.startswith("Your SSL certificate for")) == 5


def renewal_invoice_of_line(name: str) -> Invoice:
    return InvoiceLine.objects.get(service__name=name).invoice


def status_changes(service: Service) -> list[tuple[str, str, datetime.date]]:
    return [
        (event.old_value, event.new_value, timezone.localdate(event.created_at))
        for event in service.events.filter(field=ServiceEvent.Field.STATUS).order_by("created_at", "pk")
    ]
